/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The frame as a whole: its length (fragments included) and the verdict every frame leaves with. */
#ifndef XDP_DECAP_FRAME_H
#define XDP_DECAP_FRAME_H

#include "decap_shared.h"
#include "parse_l2l4.h"

#ifndef DECAP_COMPAT_6_1
/*
 * The kernel's own struct xdp_buff, only the field read here; libbpf relocates it against the running kernel's
 * BTF (CO-RE). bpf_cast_to_kern_ctx() (kernel 6.2+) is a verifier no-op that gives the program its context as
 * such. The compat build (-DDECAP_COMPAT_6_1, build/decap-compat.bpf.o, for kernels before 6.2) does without.
 */
struct xdp_buff {
	__u32 flags;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#define XDP_BUFF_HAS_FRAGS (1U << 0) /* XDP_FLAGS_HAS_FRAGS in include/net/xdp.h */
#endif

/*
 * Whole frame length, fragments of a multi-buffer frame included: the linear part from the data pointers
 * already loaded, with no helper call unless the frame has fragments (bpf_xdp_get_buff_len counts those).
 */
static __always_inline __u64 frame_length(struct xdp_md *ctx, void *data, void *data_end)
{
#ifdef DECAP_COMPAT_6_1
	return bpf_xdp_get_buff_len(ctx);
#else
	struct xdp_buff *xdp = bpf_cast_to_kern_ctx(ctx);

	if (xdp->flags & XDP_BUFF_HAS_FRAGS)
		return bpf_xdp_get_buff_len(ctx);
	return data_end - data;
#endif
}

/* Every frame passes; only the live-frames benchmark build (BENCH_VERDICT=XDP_DROP) drops what it ran on. */
#ifdef BENCH_VERDICT
#define DECAP_VERDICT BENCH_VERDICT
#else
#define DECAP_VERDICT XDP_PASS
#endif

#endif /* XDP_DECAP_FRAME_H */

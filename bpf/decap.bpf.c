// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP program: strip the tunnel headers (VXLAN, Geneve, VXLAN-GPE, GRE, ERSPAN) so the taps see the inner frame. */
/*
 * It never drops. A packet it decapsulates leaves with its head moved to the inner Ethernet header;
 * every other packet leaves byte-for-byte as it came, and the reason is counted in outcome_stats.
 * Settings live in maps (decap_cfg, tunnel_ports, the LPM tries) so userspace can change them while
 * the program stays attached; only map sizes are fixed at load.
 */
#include "decap_shared.h"
#include "frame.h"
#include "maps.h"
#include "counters.h"
#include "flows.h"
#include "levels.h"
#include "rewrite.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp.frags")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 frame_len = frame_length(ctx, data, data_end);
	__u32 ifindex = ctx->ingress_ifindex;
	struct tunnel_level lv, inner;
	__u64 mac_lo; /* the outermost frame's MACs, for an IP payload's Ethernet header (save_outer_macs) */
	__u32 mac_hi;
	__u64 overhead;
	__u32 zero = 0;
	int outcome;

	/* The settings: an array element, its lookup inlined to an address. */
	struct decap_config *cfg = bpf_map_lookup_elem(&decap_cfg, &zero);

	/* One level: the outer frame (docs/decap-rules.md, steps 1-7), the address checks included. */
	outcome = parse_level(ctx, 0, PAYLOAD_ETHERNET, cfg, 1, &lv);
	if (outcome)
		goto out;
	outcome = save_outer_macs(data, data_end, &mac_lo, &mac_hi);
	if (outcome)
		goto out;
	/* Each level is stripped as it is found; a failure later gives every byte back (restore_head). */
	outcome = strip_head(ctx, lv.end);
	if (outcome)
		goto out;
	overhead = lv.end;
	/*
	 * Nesting: while the payload is itself a tunnel that passes every check, strip it too. A level that does not
	 * is the frame the taps see; one more than DECAP_MAX_DEPTH leaves the frame untouched. Rare: laid out away
	 * from the common path, which only pays for the cheap test. Unrolled: no back-edge at all, so no verifier's
	 * loop rules apply (6.1 refuses a back-edge that follows a call, which is how clang lays this loop out); the
	 * levels are calls to one global function, so a copy per depth is small. (Inline here, not a helper taking
	 * &lv: the verifier processed 3% more instructions then.)
	 */
	if (__builtin_expect(may_be_tunnel(ctx, lv.payload), 0)) {
#pragma unroll
		for (int depth = 1; depth <= DECAP_MAX_DEPTH; depth++) {
			if (depth > 1 && !may_be_tunnel(ctx, lv.payload))
				break;
			if (parse_nested_level(ctx, 0, lv.payload, &inner) != OUTCOME_DECAPSULATED)
				break;
			if (depth == DECAP_MAX_DEPTH) {
				outcome = OUTCOME_TOO_DEEP;
				goto restore;
			}
			outcome = strip_head(ctx, inner.end);
			if (outcome)
				goto restore;
			overhead += inner.end;
			lv = inner;
		}
	}
	/* IP payloads: the Ethernet header written in front. */
	if (lv.payload != PAYLOAD_ETHERNET) {
		outcome = write_ethernet_header(ctx, mac_lo, mac_hi, lv.payload, &overhead);
		if (outcome)
			goto restore;
	}
	/* adjust_head invalidated every packet pointer: re-derive them before reading the inner frame. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	/* Flows, and the counters: what the taps see is the inner frame, inner_len bytes. */
	__u64 inner_len = frame_len - overhead;
	__u64 new_flows = 0;

	if (cfg && cfg->track_flows) {
		union flow_key_words fkey;
		fkey.w[0] = ifindex | (__u64)lv.vni << 32;
		if (parse_inner_flow(data, data_end, &fkey, lv.type) == 0)
			new_flows = track_flow(&fkey, inner_len, cfg->flow_sync_ms * 1000000ULL);
	}
	struct vni_key vkey = { .ifindex = ifindex, .vni = lv.vni, .tunnel_type = lv.type };
	outcome = OUTCOME_DECAPSULATED;
#ifdef BENCH_RESTORE_HEAD
	/* Benchmark build only: give the head back, so BPF_PROG_TEST_RUN's next repeat (same buffer) sees the
	 * encapsulated frame again. Costs one more helper call per packet: it biases the measure against us. */
	restore_head(ctx, overhead);
#endif
	/* Its VNI's counters are its outcome count (readers add them up); outcome_stats only if they missed it. */
	if (count_vni(&vkey, inner_len, overhead, new_flows))
		return DECAP_VERDICT;
	goto out;
restore:
	restore_head(ctx, overhead);
out:
	count_outcome(ifindex, outcome, frame_len);
	return DECAP_VERDICT;
}

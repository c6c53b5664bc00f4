// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Trivial XDP_PASS program: the baseline the benchmarks and tests compare the decap program against. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

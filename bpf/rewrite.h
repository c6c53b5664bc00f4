/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The head rewrite: tunnel levels stripped with bpf_xdp_adjust_head, an Ethernet header written for an IP payload. */
#ifndef XDP_DECAP_REWRITE_H
#define XDP_DECAP_REWRITE_H

#include "levels.h"

/*
 * Every function here moves the head of the frame. bpf_xdp_adjust_head invalidates every packet pointer the
 * caller holds: re-derive data and data_end from ctx after any of them.
 */

/*
 * Keeps the outermost MACs for an IP payload's Ethernet header (the destination and the first 2 bytes of the
 * source: 12 bytes as 8 + 4), from the frame as it arrived (data, data_end:
 * the pointers read at entry, before any head move); 0, or the outcome when the frame is too short.
 */
static __always_inline int save_outer_macs(void *data, void *data_end, __u64 *mac_lo, __u32 *mac_hi)
{
	if (data + 2 * ETH_ALEN > data_end) /* cannot happen: parse_level read the Ethernet header */
		return OUTCOME_TRUNCATED;
	/* Two loads, not twelve: packet reads need no alignment on the architectures XDP generic runs on. */
	*mac_lo = *(__u64 *)data;
	*mac_hi = *(__u32 *)(data + 8);
	return 0;
}

/* Strips the `len` bytes of one level's headers; 0, or OUTCOME_ADJUST_FAILED. */
static __always_inline int strip_head(struct xdp_md *ctx, __u32 len)
{
	return bpf_xdp_adjust_head(ctx, (int)len) ? OUTCOME_ADJUST_FAILED : 0;
}

/*
 * An IP payload (docs/decap-rules.md, "IP payloads"): an Ethernet header written in front, with the outermost
 * frame's MACs and the payload's EtherType. *overhead loses the 14 bytes given back. 0 or OUTCOME_ADJUST_FAILED.
 */
static __always_inline int write_ethernet_header(struct xdp_md *ctx, __u64 mac_lo, __u32 mac_hi, __u32 payload,
						 __u64 *overhead)
{
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ethhdr)))
		return OUTCOME_ADJUST_FAILED;
	*overhead -= sizeof(struct ethhdr);
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) > (void *)(long)ctx->data_end) /* cannot happen: the IP header follows */
		return OUTCOME_ADJUST_FAILED;
	*(__u64 *)eth = mac_lo;
	*(__u32 *)((void *)eth + 8) = mac_hi;
	eth->h_proto = bpf_htons(payload == PAYLOAD_IPV4 ? ETH_P_IP : ETH_P_IPV6);
	return 0;
}

/* Gives back every stripped byte, still in front of the head and unwritten: the frame leaves as it came. */
static __always_inline void restore_head(struct xdp_md *ctx, __u64 overhead)
{
	bpf_xdp_adjust_head(ctx, -(int)overhead);
}

#endif /* XDP_DECAP_REWRITE_H */

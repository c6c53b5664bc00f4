// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Benchmark baselines (bench/kernel-cost.ts): the least any decap program must do, to measure xdp_decap against. */
/*
 * xdp_parse_only: the parsers of decap.bpf.c down to the tunnel header (tunnel port looked up), nothing else.
 * xdp_floor: the same plus one bpf_xdp_adjust_head and the bench restore, no counters, no flow tracking.
 * Built by `make -C bpf bench`; never attached anywhere.
 */
#include "decap_shared.h"
#include "parse_tunnels.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Same shape as decap.bpf.c's tunnel_ports: UDP destination port -> tunnel type, 0 for none. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} tunnel_ports SEC(".maps");

/* Parses down to the inner Ethernet header; returns its offset from data, or 0 when this is no tunnel frame. */
static __always_inline int parse_tunnel(void *data, void *data_end)
{
	struct hdr_cursor nh = { .pos = data };
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	__u16 frag_off = 0;
	__u32 vni = 0, port, *tunnel;
	int proto = parse_ethhdr(&nh, data_end);

	if (proto == ETH_P_IP)
		proto = parse_iphdr(&nh, data_end, &iph, &frag_off);
	else if (proto == ETH_P_IPV6)
		proto = parse_ip6hdr(&nh, data_end, &ip6h);
	else
		return 0;
	if (proto != IPPROTO_UDP || frag_off)
		return 0;
	proto = parse_udphdr(&nh, data_end);
	if (proto < 0)
		return 0;
	port = proto;
	tunnel = bpf_map_lookup_elem(&tunnel_ports, &port);
	if (!tunnel || !*tunnel)
		return 0;
	if (*tunnel == TUNNEL_VXLAN)
		proto = parse_vxlanhdr(&nh, data_end, &vni);
	else
		proto = parse_genevehdr(&nh, data_end, &vni);
	if (proto < 0 || nh.pos + sizeof(struct ethhdr) > data_end)
		return 0;
	return nh.pos - data;
}

SEC("xdp.frags")
int xdp_parse_only(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	parse_tunnel(data, data_end);
	return XDP_PASS;
}

static __always_inline void floor_work(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int overhead = parse_tunnel(data, data_end);

	if (overhead > 0 && bpf_xdp_adjust_head(ctx, overhead) == 0)
		bpf_xdp_adjust_head(ctx, -overhead); /* the bench restore, as in decap-bench.bpf.o */
}

SEC("xdp.frags")
int xdp_floor(struct xdp_md *ctx)
{
	floor_work(ctx);
	return XDP_PASS;
}

/* The same two as XDP_DROP, for the live-frames rows (BPF_F_TEST_XDP_LIVE_FRAMES sends XDP_PASS frames up a stack). */
SEC("xdp.frags")
int xdp_drop_trivial(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp.frags")
int xdp_floor_drop(struct xdp_md *ctx)
{
	floor_work(ctx);
	return XDP_DROP;
}

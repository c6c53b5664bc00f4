/* XDP program: strip outer Ethernet/VLAN + IPv4/IPv6 + UDP + VXLAN/Geneve so the taps see the inner frame. */
/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * It never drops. A packet it decapsulates leaves with its head moved to the inner Ethernet header;
 * every other packet leaves byte-for-byte as it came, and the reason is counted in outcome_stats.
 * Settings live in maps (decap_cfg, tunnel_ports, the LPM tries) so userspace can change them while
 * the program stays attached; only map sizes are fixed at load.
 */
#include "decap_shared.h"
#include "parsing.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Runtime switches (struct decap_config); one element, rewritten by userspace on a config change. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct decap_config);
} decap_cfg SEC(".maps");

/*
 * Tunnel type per UDP destination port (host byte order), 0 for "not a tunnel port": default 4789 VXLAN,
 * 6081 Geneve. An array, so the lookup every UDP packet pays is inlined by the verifier.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} tunnel_ports SEC(".maps");

/* Outer IPv4 destinations to decapsulate; consulted only when decap_cfg.dst_filter_v4 is set. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u8);
} dst_v4 SEC(".maps");

/* Outer IPv6 destinations to decapsulate; consulted only when decap_cfg.dst_filter_v6 is set. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u8);
} dst_v6 SEC(".maps");

/* Outer IPv4 sources or destinations never touched (the host's own VTEP, management). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u8);
} excl_v4 SEC(".maps");

/* Outer IPv6 sources or destinations never touched. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u8);
} excl_v6 SEC(".maps");

/*
 * Per (interface, tunnel type, VNI): packets, inner bytes, overhead bytes, new flows. Per-CPU, so the
 * softirq that owns a packet adds without atomics; userspace sums the CPUs. Sized at load (vni_capacity).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct vni_key);
	__type(value, struct vni_value);
} vni_stats SEC(".maps");

/*
 * Per (interface, outcome): packets and bytes, decapsulated or passed untouched and why. Per-CPU array
 * indexed by ifindex * OUTCOME_MAX + outcome for ifindex < OUTCOME_IFINDEX_SLOTS: every packet updates it,
 * so it must cost next to nothing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OUTCOME_IFINDEX_SLOTS * OUTCOME_MAX);
	__type(key, __u32);
	__type(value, struct outcome_value);
} outcome_stats SEC(".maps");

/* The same for interfaces with ifindex >= OUTCOME_IFINDEX_SLOTS (rare): a per-CPU hash. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct outcome_key);
	__type(value, struct outcome_value);
} outcome_hi SEC(".maps");

/*
 * Inner flows per (interface, tunnel, VNI, 5-tuple). Shared by all CPUs (a flow's packets may land on
 * any), so its counters are added atomically; LRU so the busiest flows stay. Sized at load (flow_capacity).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/* Updates lost to a full map, indexed by enum decap_lost. Per-CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost_updates SEC(".maps");

static __always_inline void count_lost(__u32 index)
{
	__u64 *lost = bpf_map_lookup_elem(&lost_updates, &index);

	if (lost)
		*lost += 1; /* per-CPU value, softirq context: no atomics needed */
}

static __always_inline void count_outcome(__u32 ifindex, __u32 outcome, __u64 bytes)
{
	struct outcome_value *val;

	if (ifindex < OUTCOME_IFINDEX_SLOTS) {
		__u32 index = ifindex * OUTCOME_MAX + outcome;
		val = bpf_map_lookup_elem(&outcome_stats, &index);
		if (val) {
			val->packets += 1; /* per-CPU value, softirq context: no atomics needed */
			val->bytes += bytes;
		}
		return;
	}
	struct outcome_key key = { .ifindex = ifindex, .outcome = outcome };
	val = bpf_map_lookup_elem(&outcome_hi, &key);
	if (val) {
		val->packets += 1;
		val->bytes += bytes;
		return;
	}
	struct outcome_value init = { .packets = 1, .bytes = bytes };
	/* -EEXIST means another CPU inserted first: its CPU slot is ours to fill next time, lose nothing. */
	long err = bpf_map_update_elem(&outcome_hi, &key, &init, BPF_NOEXIST);
	if (err == -EEXIST) {
		val = bpf_map_lookup_elem(&outcome_hi, &key);
		if (val) {
			val->packets += 1;
			val->bytes += bytes;
		}
	} else if (err) {
		count_lost(LOST_OUTCOME_STATS);
	}
}

static __always_inline void count_vni(struct vni_key *key, __u64 bytes, __u64 overhead, __u64 new_flows)
{
	struct vni_value *val = bpf_map_lookup_elem(&vni_stats, key);

	if (!val) {
		struct vni_value init = {};
		long err = bpf_map_update_elem(&vni_stats, key, &init, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			count_lost(LOST_VNI_STATS);
			return;
		}
		val = bpf_map_lookup_elem(&vni_stats, key);
		if (!val)
			return;
	}
	val->packets += 1;
	val->bytes += bytes;
	val->overhead_bytes += overhead;
	val->flows += new_flows;
}

/* Inner Ethernet [+VLAN] + IPv4/IPv6 [+ports] into *key; returns 0 when the frame has an IP flow. */
static __always_inline int parse_inner_flow(void *data, void *data_end, struct flow_key *key)
{
	struct hdr_cursor nh = { .pos = data };
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	__u16 frag_off = 0;
	int proto = parse_ethhdr(&nh, data_end);

	if (proto == ETH_P_IP) {
		proto = parse_iphdr(&nh, data_end, &iph, &frag_off);
		if (proto < 0)
			return -1;
		key->family = 4;
		__builtin_memcpy(key->saddr, &iph->saddr, 4);
		__builtin_memcpy(key->daddr, &iph->daddr, 4);
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6hdr(&nh, data_end, &ip6h);
		if (proto < 0)
			return -1;
		key->family = 6;
		__builtin_memcpy(key->saddr, &ip6h->saddr, 16);
		__builtin_memcpy(key->daddr, &ip6h->daddr, 16);
	} else {
		return -1;
	}
	key->protocol = proto;
	/* Only the first fragment (offset 0) carries the ports. */
	if (proto_has_ports(proto) && !(frag_off & IPV4_OFFSET)) {
		struct l4_ports *ports = nh.pos;
		if ((void *)(ports + 1) <= data_end) {
			key->sport = bpf_ntohs(ports->source);
			key->dport = bpf_ntohs(ports->dest);
		}
	}
	return 0;
}

/* Adds the frame to its flow; returns 1 when the flow is new. */
static __always_inline __u64 track_flow(struct flow_key *key, __u64 bytes)
{
	/* Coarse clock (tick resolution): plenty for idle timeouts, and cheaper per packet. */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct flow_value *val = bpf_map_lookup_elem(&flows, key);

	if (!val) {
		struct flow_value init = { .packets = 1, .bytes = bytes, .first_seen_ns = now, .last_seen_ns = now };
		long err = bpf_map_update_elem(&flows, key, &init, BPF_NOEXIST);
		if (!err) {
#ifdef BENCH_NEW_FLOW
			/* Benchmark build only: forget the flow so every repeat is a new one (insert + delete). */
			bpf_map_delete_elem(&flows, key);
#endif
			return 1;
		}
		if (err != -EEXIST) {
			count_lost(LOST_FLOWS);
			return 0;
		}
		/* Another CPU created it between our lookup and insert: add to theirs. */
		val = bpf_map_lookup_elem(&flows, key);
		if (!val)
			return 0;
	}
	/* Shared across CPUs: counters need atomic adds; last_seen is a plain store, last writer wins. */
	__sync_fetch_and_add(&val->packets, 1);
	__sync_fetch_and_add(&val->bytes, bytes);
	val->last_seen_ns = now;
	return 0;
}

/* 0 when the outer addresses pass the exclude set and the destination filter, else the outcome. */
static __always_inline int check_outer_v4(struct decap_config *cfg, struct iphdr *iph)
{
	struct lpm_v4_key key = { .prefixlen = 32 };

	if (cfg->exclude_v4) {
		__builtin_memcpy(key.addr, &iph->saddr, 4);
		if (bpf_map_lookup_elem(&excl_v4, &key))
			return OUTCOME_EXCLUDED;
	}
	__builtin_memcpy(key.addr, &iph->daddr, 4);
	if (cfg->exclude_v4 && bpf_map_lookup_elem(&excl_v4, &key))
		return OUTCOME_EXCLUDED;
	if (cfg->dst_filter_v4 && !bpf_map_lookup_elem(&dst_v4, &key))
		return OUTCOME_FILTERED;
	return 0;
}

static __always_inline int check_outer_v6(struct decap_config *cfg, struct ipv6hdr *ip6h)
{
	struct lpm_v6_key key = { .prefixlen = 128 };

	if (cfg->exclude_v6) {
		__builtin_memcpy(key.addr, &ip6h->saddr, 16);
		if (bpf_map_lookup_elem(&excl_v6, &key))
			return OUTCOME_EXCLUDED;
	}
	__builtin_memcpy(key.addr, &ip6h->daddr, 16);
	if (cfg->exclude_v6 && bpf_map_lookup_elem(&excl_v6, &key))
		return OUTCOME_EXCLUDED;
	if (cfg->dst_filter_v6 && !bpf_map_lookup_elem(&dst_v6, &key))
		return OUTCOME_FILTERED;
	return 0;
}

static __always_inline int outcome_of(int parse_err)
{
	switch (parse_err) {
	case PARSE_MALFORMED:
		return OUTCOME_MALFORMED;
	case PARSE_FRAGMENT:
		return OUTCOME_FRAGMENT;
	case PARSE_UNSUPPORTED:
		return OUTCOME_UNSUPPORTED;
	default:
		return OUTCOME_TRUNCATED;
	}
}

SEC("xdp.frags")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* Whole frame, fragments of a multi-buffer frame included. */
	__u64 frame_len = bpf_xdp_get_buff_len(ctx);
	__u32 ifindex = ctx->ingress_ifindex;
	struct hdr_cursor nh = { .pos = data };
	__u32 *tunnel;
	__u32 port;
	struct iphdr *iph = NULL;
	struct ipv6hdr *ip6h = NULL;
	struct decap_config *cfg;
	__u16 frag_off = 0;
	__u32 zero = 0, vni = 0;
	int outcome = OUTCOME_NOT_TUNNEL;
	int proto, ret;

	cfg = bpf_map_lookup_elem(&decap_cfg, &zero);
	if (!cfg)
		goto out;

	proto = parse_ethhdr(&nh, data_end);
	if (proto == ETH_P_IP) {
		proto = parse_iphdr(&nh, data_end, &iph, &frag_off);
		/* A later fragment has no UDP header to look at. */
		if (proto >= 0 && (frag_off & IPV4_OFFSET)) {
			outcome = OUTCOME_FRAGMENT;
			goto out;
		}
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6hdr(&nh, data_end, &ip6h);
		if (proto == IPPROTO_FRAGMENT) {
			outcome = OUTCOME_FRAGMENT;
			goto out;
		}
		if (proto >= 0 && ipv6_is_extension(proto)) {
			outcome = OUTCOME_UNSUPPORTED;
			goto out;
		}
	} else if (proto >= 0) {
		goto out; /* not IP: not a tunnel */
	}
	if (proto < 0) {
		outcome = outcome_of(proto);
		goto out;
	}
	if (proto != IPPROTO_UDP)
		goto out;

	ret = parse_udphdr(&nh, data_end);
	if (ret < 0) {
		outcome = OUTCOME_TRUNCATED;
		goto out;
	}
	port = ret;
	tunnel = bpf_map_lookup_elem(&tunnel_ports, &port);
	if (!tunnel || !*tunnel)
		goto out;
	/* First fragment of a tunnel packet: the inner frame is cut, so it cannot be handed on whole. */
	if (frag_off & IPV4_MF) {
		outcome = OUTCOME_FRAGMENT;
		goto out;
	}

	/* Validation point: outer addresses against the exclude set, then the destination filter. */
	if (iph)
		outcome = check_outer_v4(cfg, iph);
	else if (ip6h)
		outcome = check_outer_v6(cfg, ip6h);
	if (outcome)
		goto out;

	__u32 tunnel_type = *tunnel;

	if (tunnel_type == TUNNEL_VXLAN)
		ret = parse_vxlanhdr(&nh, data_end, &vni);
	else
		ret = parse_genevehdr(&nh, data_end, &vni);
	if (ret < 0) {
		outcome = outcome_of(ret);
		goto out;
	}
	/* Validation point: the inner frame must at least hold an Ethernet header. */
	if (nh.pos + sizeof(struct ethhdr) > data_end) {
		outcome = OUTCOME_TRUNCATED;
		goto out;
	}

	__u64 overhead = nh.pos - data;
	__u64 inner_len = frame_len - overhead;

	if (bpf_xdp_adjust_head(ctx, (int)overhead)) {
		outcome = OUTCOME_ADJUST_FAILED;
		goto out;
	}
	/* adjust_head invalidated every packet pointer: re-derive them before reading the inner frame. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	__u64 new_flows = 0;
	if (cfg->track_flows) {
		struct flow_key fkey = { .ifindex = ifindex, .vni = vni, .tunnel_type = tunnel_type };
		if (parse_inner_flow(data, data_end, &fkey) == 0)
			new_flows = track_flow(&fkey, inner_len);
	}
	struct vni_key vkey = { .ifindex = ifindex, .vni = vni, .tunnel_type = tunnel_type };
	count_vni(&vkey, inner_len, overhead, new_flows);
	outcome = OUTCOME_DECAPSULATED;
#ifdef BENCH_RESTORE_HEAD
	/* Benchmark build only: give the head back, so BPF_PROG_TEST_RUN's next repeat (same buffer) sees the
	 * encapsulated frame again. Costs one more helper call per packet: it biases the measure against us. */
	bpf_xdp_adjust_head(ctx, -(int)overhead);
#endif
out:
	count_outcome(ifindex, outcome, frame_len);
	return XDP_PASS;
}

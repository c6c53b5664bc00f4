// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP program: strip outer Ethernet/VLAN + IPv4/IPv6 + UDP + VXLAN/Geneve so the taps see the inner frame. */
/*
 * It never drops. A packet it decapsulates leaves with its head moved to the inner Ethernet header;
 * every other packet leaves byte-for-byte as it came, and the reason is counted in outcome_stats.
 * Settings live in maps (decap_cfg, tunnel_ports, the LPM tries) so userspace can change them while
 * the program stays attached; only map sizes are fixed at load.
 */
#include "decap_shared.h"
#include "parsing.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

/*
 * Tunnel type per GRE protocol type (host byte order), 0 for "not decapsulated": 0x6558 GRE, 0x88BE and
 * 0x22EB ERSPAN, each unless switched off. Looked up only when decap_cfg.gre is set.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} gre_protocols SEC(".maps");

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
 * Per-CPU direct-mapped cache in front of vni_stats: the slot of a VNI is vni_cache_index(). Invalidation:
 * none. The first VNI counted in vni_stats that reaches an empty slot on a CPU owns it for good and is then
 * counted there (plain per-CPU adds, no hash lookup); a VNI whose slot another owns stays in vni_stats. Counts never move between the
 * two, so a reader that adds both (src/program/counters.ts) never counts a packet twice or misses one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1 << VNI_CACHE_BITS);
	__type(key, __u32);
	__type(value, struct vni_cache_slot);
} vni_cache SEC(".maps");

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
 * Packets of a flow already in flow_cache are counted there first (see below).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/*
 * Per-CPU direct-mapped cache in front of flows: the slot of a key is flow_cache_index(). A packet whose flow
 * holds its slot and whose slot synced less than flow_sync_ms ago only adds to the slot (plain per-CPU adds,
 * no shared cache line, no hash lookup). Everything else goes to flows, and the slot is reloaded:
 * - invalidation: a slot is replaced when another flow maps to it (its counts are added to flows first, if
 *   the flow is still there) and re-synced when flow_sync_ms has passed since it last synced. Userspace
 *   deletes a flow only after it has been idle for the idle timeout >= flow_sync_ms (+ two ticks, the coarse
 *   clock's lag), so the next packet of a deleted flow always finds its slot due and goes to flows, where it
 *   is new again;
 * - the clock: coarse_now(), the coarse clock read once per tick per CPU (tick_clock), so last_seen_ns and
 *   the due test are what a helper call on every packet would give;
 * - a flow missing from flows at a sync (expired or evicted) loses its slot's unsynced counts, as an LRU
 *   eviction loses a whole entry; its packet is inserted as a new flow;
 * - readers add each CPU's slot counts to the flows entry with the same key (mergeFlowCache in
 *   src/decode/decoders.ts), and take the later last_seen.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct flow_cache_slot);
} flow_cache SEC(".maps");

/*
 * Per-CPU: the coarse clock as this CPU last read it, and the jiffies it read it at. The coarse clock moves only
 * on a tick, when jiffies move, so the program reads it (a helper call) once per tick per CPU and otherwise
 * takes it from here (jiffies are an inlined load). Invalidation: a new jiffies value.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tick_clock);
} tick_clock SEC(".maps");

/* Updates lost to a full map, indexed by enum decap_lost. Per-CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost_updates SEC(".maps");

/* bpf_ktime_get_coarse_ns(), read at most once per tick on this CPU (see tick_clock). */
static __always_inline __u64 coarse_now(void)
{
	__u64 jiffies = bpf_jiffies64(); /* inlined by the verifier: one load */
	__u32 zero = 0;
	struct tick_clock *clock = bpf_map_lookup_elem(&tick_clock, &zero);

	if (!clock)
		return bpf_ktime_get_coarse_ns();
	if (clock->jiffies != jiffies) {
		clock->jiffies = jiffies;
		clock->ns = bpf_ktime_get_coarse_ns();
	}
	return clock->ns;
}

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

static __always_inline void vni_add(struct vni_value *val, __u64 bytes, __u64 overhead, __u64 new_flows)
{
	/* per-CPU value, softirq context: no atomics needed */
	val->packets += 1;
	val->bytes += bytes;
	val->overhead_bytes += overhead;
	if (new_flows) /* rare: one store less on every other packet */
		val->flows += new_flows;
}

static __always_inline __u32 vni_cache_index(__u64 key)
{
	return ((__u32)key ^ (__u32)(key >> 32)) * 0x9E3779B1u >> (32 - VNI_CACHE_BITS);
}

/* Counts a decapsulated frame under its VNI; 0 when it could not (vni_stats full): the caller counts it then. */
static __always_inline int count_vni(struct vni_key *key, __u64 bytes, __u64 overhead, __u64 new_flows)
{
	__u64 packed = (__u64)(key->ifindex << 8 | key->tunnel_type) << 32 | key->vni;
	__u32 index = vni_cache_index(packed);
	/* The packing holds ifindexes below 2^24; a larger one is counted in vni_stats only. */
	struct vni_cache_slot *slot = key->ifindex >> 24 ? NULL : bpf_map_lookup_elem(&vni_cache, &index);

	if (slot && slot->key == packed) {
		vni_add(&slot->counts, bytes, overhead, new_flows);
		return 1;
	}
	struct vni_value *val = bpf_map_lookup_elem(&vni_stats, key);

	if (!val) {
		struct vni_value init = {};
		long err = bpf_map_update_elem(&vni_stats, key, &init, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			count_lost(LOST_VNI_STATS);
			return 0;
		}
		val = bpf_map_lookup_elem(&vni_stats, key);
		if (!val)
			return 0;
	}
	vni_add(val, bytes, overhead, new_flows);
	/* Only a VNI vni_stats holds may take a slot, so vni_capacity still bounds the VNIs counted. */
	if (slot && !slot->key)
		slot->key = packed; /* the first such VNI here on this CPU owns the slot for good */
	return 1;
}

/* The flow key as six 8-byte words: built, compared and hashed a word at a time. */
union flow_key_words {
	struct flow_key key;
	__u64 w[6];
};
_Static_assert(sizeof(struct flow_key) == 6 * sizeof(__u64), "flow_key must be six 8-byte words");

/*
 * Inner Ethernet [+VLAN] + IPv4/IPv6 [+ports] into words 1-5 of *k (word 0, interface and VNI, is the
 * caller's); returns 0 when the frame has an IP flow. Word 1 is tunnel_type, family, protocol, pad, sport,
 * dport in struct flow_key order (little-endian), so the key reads the same as a struct.
 */
static __always_inline int parse_inner_flow(void *data, void *data_end, union flow_key_words *k, __u32 tunnel_type)
{
	struct hdr_cursor nh = { .pos = data };
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	__u16 frag_off = 0;
	__u64 family;
	int proto = parse_ethhdr(&nh, data_end);

	if (proto == ETH_P_IP) {
		proto = parse_iphdr(&nh, data_end, &iph, &frag_off);
		if (proto < 0)
			return -1;
		family = 4;
		k->w[2] = iph->saddr; /* the address bytes as they are on the wire, rest of the 16 zero */
		k->w[3] = 0;
		k->w[4] = iph->daddr;
		k->w[5] = 0;
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6hdr(&nh, data_end, &ip6h);
		if (proto < 0)
			return -1;
		family = 6;
		__builtin_memcpy(&k->w[2], &ip6h->saddr, 16);
		__builtin_memcpy(&k->w[4], &ip6h->daddr, 16);
	} else {
		return -1;
	}
	__u64 ports = 0;
	/* Only the first fragment (offset 0) carries the ports. */
	if (proto_has_ports(proto) && !(frag_off & IPV4_OFFSET)) {
		struct l4_ports *l4 = nh.pos;
		if ((void *)(l4 + 1) <= data_end)
			ports = (__u64)bpf_ntohs(l4->source) | (__u64)bpf_ntohs(l4->dest) << 16;
	}
	k->w[1] = tunnel_type | family << 8 | (__u64)proto << 16 | ports << 32;
	return 0;
}

/*
 * Slot of a key in flow_cache: each of the key's six 64-bit words times its own odd 64-bit constant, summed
 * mod 2^64; the slot is taken from bits 32 and up, where every bit of every word has been mixed in (six
 * multiplies, not twelve: the 32-bit version cost 2-3 ns more per packet). Fields that share bit positions in
 * different words, such as the VNI and a port, do not cancel out as they would in an XOR fold. Keep in sync
 * with flowCacheIndex in src/decode/decoders.ts.
 */
static __always_inline __u32 flow_cache_index(union flow_key_words *k)
{
	__u64 h = k->w[0] * 0x9E3779B97F4A7C15ULL + k->w[1] * 0xC2B2AE3D27D4EB4FULL + k->w[2] * 0x165667B19E3779F9ULL +
		  k->w[3] * 0xD6E8FEB86659FD93ULL + k->w[4] * 0xFF51AFD7ED558CCDULL + k->w[5] * 0xC4CEB9FE1A85EC53ULL;

	return (__u32)(h >> 32) & (FLOW_CACHE_SLOTS - 1);
}

static __always_inline int flow_key_equal(struct flow_key *a, union flow_key_words *b)
{
	__u64 *w = (__u64 *)a;

	return w[0] == b->w[0] && w[1] == b->w[1] && w[2] == b->w[2] && w[3] == b->w[3] && w[4] == b->w[4] &&
	       w[5] == b->w[5];
}

/* Adds a slot's unsynced counts to its flows entry; dropped if the flow is gone (expired or evicted). */
static __always_inline void flow_cache_sync(struct flow_cache_slot *slot, __u64 now)
{
	if (slot->packets) {
		struct flow_value *val = bpf_map_lookup_elem(&flows, &slot->key);
		if (val) {
			/* Shared across CPUs: counters need atomic adds; last_seen is a plain store. */
			__sync_fetch_and_add(&val->packets, slot->packets);
			__sync_fetch_and_add(&val->bytes, slot->bytes);
			if (val->last_seen_ns < slot->last_seen_ns)
				val->last_seen_ns = slot->last_seen_ns;
		}
	}
	slot->packets = 0;
	slot->bytes = 0;
	slot->synced_ns = now;
}

/* Adds the frame to its flow in the shared table; returns 1 when the flow is new. */
static __always_inline __u64 flows_add(struct flow_key *key, __u64 bytes, __u64 now)
{
	struct flow_value *val = bpf_map_lookup_elem(&flows, key);

	if (!val) {
		struct flow_value init = { .packets = 1, .bytes = bytes, .first_seen_ns = now, .last_seen_ns = now };
		long err = bpf_map_update_elem(&flows, key, &init, BPF_NOEXIST);
		if (!err)
			return 1;
		if (err != -EEXIST) {
			count_lost(LOST_FLOWS);
			return 0;
		}
		/* Another CPU created it between our lookup and insert: add to theirs. */
		val = bpf_map_lookup_elem(&flows, key);
		if (!val)
			return 0;
	}
	__sync_fetch_and_add(&val->packets, 1);
	__sync_fetch_and_add(&val->bytes, bytes);
	if (val->last_seen_ns != now)
		val->last_seen_ns = now; /* written only when the clock moved: fewer shared cache-line writes */
	return 0;
}

#ifdef BENCH_NEW_FLOW
__u64 bench_flow_seq;
#endif

/* Adds the frame to its flow, through this CPU's flow_cache slot; returns 1 when the flow is new. */
static __always_inline __u64 track_flow(union flow_key_words *k, __u64 bytes, __u64 sync_ns)
{
	__u64 now = coarse_now();
	__u32 index = flow_cache_index(k);
	struct flow_cache_slot *slot = bpf_map_lookup_elem(&flow_cache, &index);

	if (!slot)
		return flows_add(&k->key, bytes, now);
	if (flow_key_equal(&slot->key, k) && now - slot->synced_ns < sync_ns) {
		/* per-CPU slot, softirq context: no atomics needed */
		slot->packets += 1;
		slot->bytes += bytes;
		if (slot->last_seen_ns != now)
			slot->last_seen_ns = now; /* once per tick */
		return 0;
	}
#ifdef BENCH_NEW_FLOW
	/* Benchmark build only: every repeat is another flow (address bytes 8-15 count up), so a full table
	 * must evict for each insert. Test-run repeats on one CPU: a plain global is enough. */
	k->w[3] += ++bench_flow_seq;
#endif
	/* Another flow's slot (or ours, due): settle it with flows, then count this frame there and take the slot. */
	flow_cache_sync(slot, now);
	__builtin_memcpy(&slot->key, &k->key, sizeof(slot->key));
	slot->last_seen_ns = now;
	return flows_add(&k->key, bytes, now);
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

/* One tunnel level found by parse_level: what to count it as, and where and what its payload is. */
struct tunnel_level {
	__u32 type;    /* TUNNEL_* */
	__u32 vni;     /* segment id */
	__u32 payload; /* PAYLOAD_*: what follows the tunnel header */
	__u32 end;     /* offset of the payload: the bytes this level's headers take */
};

/*
 * `value & mask` as one instruction clang cannot drop: for an offset already checked to be <= mask, it changes
 * nothing, but it bounds the very register added to a packet pointer (clang may check one copy and add another).
 */
static __always_inline __u64 verifier_bound(__u64 value, __u64 mask)
{
	asm volatile("%[v] &= %[m]" : [v] "+r"(value) : [m] "i"(mask));
	return value;
}

/* Where a walk of IPv6 extension headers ended, and the fragment header's offset and M flag if it met one. */
struct ip6_ext_walk {
	__u32 end; /* offset of the upper-layer header from the start of the frame */
	__u16 frag_off;
	__u16 pad;
};

/* Bounds the offset a walk returns (the IPv6 header, then at most IPV6_EXT_MAX headers of up to 2 KiB). */
#define IP6_EXT_WALK_MAX_END 16384

/*
 * parse_ip6_extensions at offset `off` as a global function: the verifier checks the walk once, and each
 * caller goes on from one offset of unknown value rather than from one constant offset per path through the
 * walk (with the walk inlined, those paths multiplied the states of everything after it).
 */
__noinline int walk_ip6_extensions(struct xdp_md *ctx, __u32 off, __u32 nexthdr, struct ip6_ext_walk *walk)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh;
	__u16 frag_off = 0;
	int proto;

	if (!walk || off >= IP6_EXT_WALK_MAX_END)
		return PARSE_TRUNCATED;
	nh.pos = data + verifier_bound(off, IP6_EXT_WALK_MAX_END - 1);
	proto = parse_ip6_extensions(&nh, data_end, nexthdr, &frag_off);
	walk->end = nh.pos - data;
	walk->frag_off = frag_off;
	return proto;
}

/* What parse_gre_carrier found: the tunnel type, the header's end, its protocol type, flags and key. */
struct gre_carrier {
	__u32 type; /* TUNNEL_*, from gre_protocols */
	__u32 end;  /* offset of what follows GRE's optional fields, from the start of the frame */
	__u32 key;  /* 0 without the K bit */
	__u16 protocol;
	__be16 flags; /* as on the wire */
};

/* Bounds the offsets a carrier parser returns. */
#define CARRIER_MAX_END 16384

/*
 * GRE at offset `off` (docs/decap-rules.md step 3): the fixed part, the protocol type checked against
 * gre_protocols, the routing bit, the optional fields. Returns 0 with *gre filled, or the outcome. A global
 * function for the same reason as walk_ip6_extensions: each combination of C, K and S is another offset.
 */
__noinline int parse_gre_carrier(struct xdp_md *ctx, __u32 off, struct gre_carrier *gre)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh;
	__u32 key, *tunnel;
	__be16 flags = 0;
	int proto, ret;

	if (!gre || off >= CARRIER_MAX_END)
		return OUTCOME_TRUNCATED;
	nh.pos = data + verifier_bound(off, CARRIER_MAX_END - 1);
	proto = parse_grehdr(&nh, data_end, &flags);
	if (proto < 0)
		return OUTCOME_TRUNCATED;
	key = proto;
	tunnel = bpf_map_lookup_elem(&gre_protocols, &key);
	if (!tunnel || !*tunnel)
		return OUTCOME_NOT_TUNNEL;
	ret = parse_gre_options(&nh, data_end, flags, &gre->key);
	if (ret < 0)
		return outcome_of(ret);
	gre->type = *tunnel;
	gre->end = nh.pos - data;
	gre->protocol = proto;
	gre->flags = flags;
	return 0;
}

/* The fixed-size header a payload must at least hold (docs/decap-rules.md, step 7). */
static __always_inline int payload_min_len(__u32 payload)
{
	return payload == PAYLOAD_IPV4 ? sizeof(struct iphdr) :
	       payload == PAYLOAD_IPV6 ? sizeof(struct ipv6hdr) : sizeof(struct ethhdr);
}

/*
 * One level of docs/decap-rules.md: at the head of the frame (earlier levels are already stripped), a frame of kind `payload` (an Ethernet frame, or an IP
 * packet a tunnel carried), its IP header, the carrier (UDP port or GRE protocol) and the tunnel header.
 * Returns OUTCOME_DECAPSULATED with *lv filled, or the outcome that says why this level is not a tunnel to
 * strip. The address checks apply to the outermost level only.
 *
 * Inlined for the outermost level (every packet); nested levels go through parse_nested_level below.
 */
static __always_inline int parse_level(struct xdp_md *ctx, __u32 off, __u32 payload, struct decap_config *cfg,
				       __u32 outermost, struct tunnel_level *lv)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor cursor, *nh = &cursor;

	if (!lv)
		return OUTCOME_NOT_TUNNEL;
	/* 0 from every caller: the head is moved past each level as it is stripped. */
	if (off > 64)
		return OUTCOME_TRUNCATED;
	cursor.pos = data + off;
	struct iphdr *iph = NULL;
	struct ipv6hdr *ip6h = NULL;
	__u32 *tunnel, tunnel_type, key, gre_key = 0, zero = 0;
	__u16 frag_off = 0;
	__be16 gre_flags = 0;
	int proto, first_fragment, ret = 0, gre_proto = 0;

	if (payload == PAYLOAD_ETHERNET)
		proto = parse_ethhdr(nh, data_end);
	else
		proto = payload == PAYLOAD_IPV4 ? ETH_P_IP : ETH_P_IPV6;
	if (proto == ETH_P_IP) {
		proto = parse_iphdr(nh, data_end, &iph, &frag_off);
		/* A later fragment has no carrier header to look at. */
		if (proto >= 0 && (frag_off & IPV4_OFFSET))
			return OUTCOME_FRAGMENT;
		first_fragment = frag_off & IPV4_MF;
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6hdr(nh, data_end, &ip6h);
		if (proto >= 0 && (ipv6_is_walked_extension(proto) || proto == IPPROTO_FRAGMENT ||
				   ipv6_is_unwalked_extension(proto))) {
			struct ip6_ext_walk walk = {};

			proto = walk_ip6_extensions(ctx, nh->pos - data, proto, &walk);
			if (walk.end >= IP6_EXT_WALK_MAX_END)
				return OUTCOME_TRUNCATED;
			nh->pos = data + verifier_bound(walk.end, IP6_EXT_WALK_MAX_END - 1);
			frag_off = walk.frag_off;
		}
		first_fragment = frag_off & IPV6_FRAG_M;
	} else if (proto >= 0) {
		return OUTCOME_NOT_TUNNEL; /* not IP */
	}
	if (proto < 0)
		return outcome_of(proto);

	/* The carrier: a tunnel type by UDP destination port, or by GRE protocol type. */
	if (proto == IPPROTO_UDP) {
		ret = parse_udphdr(nh, data_end);
		if (ret < 0)
			return OUTCOME_TRUNCATED;
		key = ret;
		tunnel = bpf_map_lookup_elem(&tunnel_ports, &key);
		tunnel_type = tunnel ? *tunnel : 0;
	} else if (proto == IPPROTO_GRE) {
		if (!cfg)
			cfg = bpf_map_lookup_elem(&decap_cfg, &zero);
		if (!cfg || !cfg->gre)
			return OUTCOME_NOT_TUNNEL;
		struct gre_carrier gre = {};

		ret = parse_gre_carrier(ctx, nh->pos - data, &gre);
		if (ret)
			return ret;
		if (gre.end >= CARRIER_MAX_END)
			return OUTCOME_TRUNCATED;
		nh->pos = data + verifier_bound(gre.end, CARRIER_MAX_END - 1);
		gre_proto = gre.protocol;
		gre_flags = gre.flags;
		gre_key = gre.key;
		tunnel_type = gre.type;
	} else {
		return OUTCOME_NOT_TUNNEL;
	}
	if (!tunnel_type)
		return OUTCOME_NOT_TUNNEL;
	/* First fragment of a tunnel packet: the inner frame is cut, so it cannot be handed on whole. */
	if (first_fragment)
		return OUTCOME_FRAGMENT;

	if (outermost) {
		if (!cfg)
			return OUTCOME_NOT_TUNNEL;
		/* Validation point: outer addresses against the exclude set, then the destination filter. */
		if (iph)
			ret = check_outer_v4(cfg, iph);
		else if (ip6h)
			ret = check_outer_v6(cfg, ip6h);
		if (ret)
			return ret;
	}

	/* Dispatch by type: one parser per tunnel header (bpf/parsing.h). */
	lv->type = tunnel_type;
	lv->vni = 0;
	switch (lv->type) {
	case TUNNEL_VXLAN:
		ret = parse_vxlanhdr(nh, data_end, &lv->vni);
		break;
	case TUNNEL_GENEVE:
		ret = parse_genevehdr(nh, data_end, &lv->vni);
		break;
	case TUNNEL_VXLAN_GPE:
		ret = parse_gpehdr(nh, data_end, &lv->vni);
		break;
	case TUNNEL_GRE:
		lv->vni = gre_key; /* 0 without a key */
		ret = PAYLOAD_ETHERNET;
		break;
	case TUNNEL_ERSPAN:
		/* Type III has its own protocol type; type II a sequence number; type I neither, and no header. */
		ret = PAYLOAD_ETHERNET;
		if (gre_proto == ETH_P_ERSPAN2)
			ret = parse_erspan3hdr(nh, data_end, &lv->vni);
		else if (gre_flags & bpf_htons(GRE_FLAG_S))
			ret = parse_erspan2hdr(nh, data_end, &lv->vni);
		if (ret == 0)
			ret = PAYLOAD_ETHERNET;
		break;
	default:
		return OUTCOME_NOT_TUNNEL;
	}
	if (ret < 0)
		return outcome_of(ret);
	lv->payload = ret;
	/* Validation point: the payload must hold at least its fixed header. */
	if (nh->pos + payload_min_len(ret) > data_end)
		return OUTCOME_TRUNCATED;
	lv->end = nh->pos - data;
	return OUTCOME_DECAPSULATED;
}

/* A nested level: a global function, so the verifier checks it once, not once per level and path. */
__noinline int parse_nested_level(struct xdp_md *ctx, __u32 off, __u32 payload, struct tunnel_level *lv)
{
	return parse_level(ctx, off, payload, NULL, 0, lv);
}

/*
 * Cheap test before parse_nested_level: 0 when the frame at the head is an untagged Ethernet frame with an
 * IPv4 or IPv6 packet that is neither GRE nor UDP to a tunnel port, the common case, which cannot be a
 * tunnel; 1 when it may be one (anything else: parse_nested_level decides).
 */
static __always_inline int may_be_tunnel(struct xdp_md *ctx, __u32 payload)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6h;
	struct udphdr *udph;
	__u32 port, *tunnel;
	__u8 proto;

	if (payload != PAYLOAD_ETHERNET)
		return 1;
	eth = data;
	iph = (void *)(eth + 1);
	ip6h = (void *)(eth + 1);
	if ((void *)(eth + 1) > data_end)
		return 1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return 1;
		proto = iph->protocol;
		udph = (void *)(iph + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		if ((void *)(ip6h + 1) > data_end)
			return 1;
		proto = ip6h->nexthdr;
		udph = (void *)(ip6h + 1);
	} else {
		return 1;
	}
	if (proto != IPPROTO_UDP)
		return proto == IPPROTO_GRE || ipv6_is_walked_extension(proto) || proto == IPPROTO_FRAGMENT;
	if ((void *)(udph + 1) > data_end)
		return 1;
	port = bpf_ntohs(udph->dest);
	tunnel = bpf_map_lookup_elem(&tunnel_ports, &port);
	return !tunnel || *tunnel;
}

SEC("xdp.frags")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 frame_len = frame_length(ctx, data, data_end);
	__u32 ifindex = ctx->ingress_ifindex;
	struct tunnel_level lv, inner;
	__u64 mac_lo;  /* the outermost destination MAC and the first 2 bytes of the source (12 bytes as 8 + 4) */
	__u32 mac_hi;
	__u64 overhead;
	__u32 zero = 0;
	int outcome;

	/* The settings: an array element, its lookup inlined to an address. */
	struct decap_config *cfg = bpf_map_lookup_elem(&decap_cfg, &zero);

	outcome = parse_level(ctx, 0, PAYLOAD_ETHERNET, cfg, 1, &lv);
	if (outcome)
		goto out;
	/* Kept for an IP payload's Ethernet header: the outermost frame's addresses. */
	if (data + 2 * ETH_ALEN > data_end) { /* cannot happen: parse_level read the Ethernet header */
		outcome = OUTCOME_TRUNCATED;
		goto out;
	}
	/* Two loads, not twelve: packet reads need no alignment on the architectures XDP generic runs on. */
	mac_lo = *(__u64 *)data;
	mac_hi = *(__u32 *)(data + 8);

	/* Each level is stripped as it is found; a failure later gives every byte back (adjust by -overhead). */
	overhead = lv.end;
	if (bpf_xdp_adjust_head(ctx, (int)lv.end)) {
		outcome = OUTCOME_ADJUST_FAILED;
		goto out;
	}
	/*
	 * Nested tunnels: while the payload is itself a tunnel that passes every check, strip it too. A level
	 * that does not is the frame the taps see; one more than DECAP_MAX_DEPTH leaves the frame untouched.
	 */
	if (__builtin_expect(may_be_tunnel(ctx, lv.payload), 0)) {
		/*
		 * Rare: laid out away from the common path, which only pays for the test above. Unrolled: no back-edge
		 * at all, so no verifier's loop rules apply (6.1 refuses a back-edge that follows a call, which is how
		 * clang lays this loop out); the levels are calls to one global function, so a copy per depth is small.
		 */
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
			if (bpf_xdp_adjust_head(ctx, (int)inner.end)) {
				outcome = OUTCOME_ADJUST_FAILED;
				goto restore;
			}
			overhead += inner.end;
			lv = inner;
		}
	}
	if (lv.payload != PAYLOAD_ETHERNET) {
		/* An IP payload: write an Ethernet header in front, the outermost frame's MACs and the IP EtherType. */
		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ethhdr))) {
			outcome = OUTCOME_ADJUST_FAILED;
			goto restore;
		}
		overhead -= sizeof(struct ethhdr);
		struct ethhdr *eth = (void *)(long)ctx->data;

		if ((void *)(eth + 1) > (void *)(long)ctx->data_end) { /* cannot happen: the IP header follows */
			outcome = OUTCOME_ADJUST_FAILED;
			goto restore;
		}
		*(__u64 *)eth = mac_lo;
		*(__u32 *)((void *)eth + 8) = mac_hi;
		eth->h_proto = bpf_htons(lv.payload == PAYLOAD_IPV4 ? ETH_P_IP : ETH_P_IPV6);
	}
	/* adjust_head invalidated every packet pointer: re-derive them before reading the inner frame. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

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
	bpf_xdp_adjust_head(ctx, -(int)overhead);
#endif
	/* Its VNI's counters are its outcome count (readers add them up); outcome_stats only if they missed it. */
	if (count_vni(&vkey, inner_len, overhead, new_flows))
		return DECAP_VERDICT;
	goto out;
restore:
	/* Untouched after all: the stripped bytes are still in front of the head, unwritten. */
	bpf_xdp_adjust_head(ctx, -(int)overhead);
out:
	count_outcome(ifindex, outcome, frame_len);
	return DECAP_VERDICT;
}

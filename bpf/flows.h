/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Inner flow tracking: the flow key, this CPU's flow_cache slot in front of the shared flows table. */
#ifndef XDP_DECAP_FLOWS_H
#define XDP_DECAP_FLOWS_H

#include "counters.h"

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
 * with flowCacheIndex in src/decode/flow-decoders.ts.
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

#endif /* XDP_DECAP_FLOWS_H */

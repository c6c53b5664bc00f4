/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counting: the coarse clock, per-outcome and per-VNI counters (with the VNI cache), lost updates. */
#ifndef XDP_DECAP_COUNTERS_H
#define XDP_DECAP_COUNTERS_H

#include "maps.h"

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

#endif /* XDP_DECAP_COUNTERS_H */

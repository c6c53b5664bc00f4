/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The decap program's maps, one comment each: settings userspace writes, counters and caches it reads. */
#ifndef XDP_DECAP_MAPS_H
#define XDP_DECAP_MAPS_H

#include "decap_shared.h"
#include "parse_l2l4.h"

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
	__uint(max_entries, OUTCOME_SLOTS);
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
 *   src/decode/flow-decoders.ts), and take the later last_seen.
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

#endif /* XDP_DECAP_MAPS_H */

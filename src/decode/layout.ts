// Byte layout of the structs in bpf/decap_shared.h, mirrored for the decoders; test/unit/layout.test.ts checks it against the C.

import { TUNNEL_TYPE_IDS, TUNNEL_TYPES, type TunnelType } from './tunnel-types.ts';

/** The tunnel types and their `TUNNEL_*` codes live in one table: src/decode/tunnel-types.ts. */
export { TUNNEL_TYPE_IDS, TUNNEL_TYPES, type TunnelType };

/**
 * The one userspace packing of (ifindex, tunnel type) into a number: ifindex times 16 plus the `TUNNEL_TYPE_IDS`
 * code. Exact (below 2^36) for every u32 ifindex. The 32-bit segment id is not packed in (68 bits do not fit a
 * double): per-VNI maps key by this number, then by segment id (src/decode/vni-map.ts).
 */
export function packVniKey(ifindex: number, tunnelTypeId: number): number {
  return ifindex * 16 + tunnelTypeId;
}

/** The inverse of `packVniKey`. */
export function unpackVniKey(key: number): { ifindex: number; tunnelTypeId: number } {
  return { ifindex: Math.floor(key / 16), tunnelTypeId: key % 16 };
}

/** `enum decap_outcome`, in numeric order: index = value. Keep in sync with bpf/decap_shared.h. */
export const OUTCOMES = [
  'decapsulated',
  'not_tunnel',
  'fragment',
  'truncated',
  'malformed',
  'filtered',
  'excluded',
  'unsupported',
  'adjust_failed',
  'too_deep',
] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type SkipReason = Exclude<Outcome, 'decapsulated'>;
export const SKIP_REASONS = OUTCOMES.filter((o): o is SkipReason => o !== 'decapsulated');

/** `OUTCOME_IFINDEX_SLOTS`: ifindexes below it are counted in the outcome_stats array, the rest in outcome_hi. */
export const OUTCOME_IFINDEX_SLOTS = 512;

/** `VNI_CACHE_BITS`: the vni_cache array has 1 << VNI_CACHE_BITS slots per CPU. */
export const VNI_CACHE_BITS = 10;

/** `FLOW_CACHE_SLOTS`: slots per CPU of the flow_cache array (a power of two). */
export const FLOW_CACHE_SLOTS = 4096;

/** `enum decap_lost`: indexes of the lost_updates array. */
export const LOST_COUNTERS = ['vni_stats', 'outcome_stats', 'flows'] as const;
export type LostCounter = (typeof LOST_COUNTERS)[number];

/** Field offsets and struct sizes, in bytes, as clang lays them out for the BPF target (little-endian). */
export const LAYOUT = {
  decap_config: { size: 28, dst_filter_v4: 0, dst_filter_v6: 4, track_flows: 8, exclude_v4: 12, exclude_v6: 16, flow_sync_ms: 20, gre: 24 },
  lpm_v4_key: { size: 8, prefixlen: 0, addr: 4 },
  lpm_v6_key: { size: 20, prefixlen: 0, addr: 4 },
  vni_key: { size: 12, ifindex: 0, vni: 4, tunnel_type: 8 },
  vni_value: { size: 32, packets: 0, bytes: 8, overhead_bytes: 16, flows: 24 },
  vni_cache_slot: { size: 40, key: 0, counts: 8 },
  outcome_key: { size: 8, ifindex: 0, outcome: 4 },
  outcome_value: { size: 16, packets: 0, bytes: 8 },
  flow_key: {
    size: 48,
    ifindex: 0,
    vni: 4,
    tunnel_type: 8,
    family: 9,
    protocol: 10,
    sport: 12,
    dport: 14,
    saddr: 16,
    daddr: 32,
  },
  flow_value: { size: 32, packets: 0, bytes: 8, first_seen_ns: 16, last_seen_ns: 24 },
  flow_cache_slot: { size: 80, key: 0, packets: 48, bytes: 56, last_seen_ns: 64, synced_ns: 72 },
} as const;

/** Names of the maps in bpf/decap.bpf.c, as libbpf finds them. */
export const MAP_NAMES = {
  config: 'decap_cfg',
  tunnelPorts: 'tunnel_ports',
  greProtocols: 'gre_protocols',
  dstV4: 'dst_v4',
  dstV6: 'dst_v6',
  excludeV4: 'excl_v4',
  excludeV6: 'excl_v6',
  vniStats: 'vni_stats',
  vniCache: 'vni_cache',
  outcomeStats: 'outcome_stats',
  outcomeHi: 'outcome_hi',
  flows: 'flows',
  flowCache: 'flow_cache',
  lostUpdates: 'lost_updates',
} as const;

/** Name of the XDP program function in bpf/decap.bpf.c. */
export const PROGRAM_NAME = 'xdp_decap';

// The LRU flow table from raw bytes to flow records, and the per-CPU flow_cache counts merged into it.
import { FLOW_CACHE_SLOTS, LAYOUT } from './layout.ts';
import type { PerCpuLayout, RawEntries } from './raw-entries.ts';
import type { FlowRecord } from './records.ts';
import { tunnelTypeName } from './tunnel-types.ts';

/** Formats 4 or 16 address bytes as dotted quad or RFC 5952 text. */
export function formatAddress(bytes: Buffer, family: 4 | 6): string {
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  // Longest run of two or more zero groups becomes '::' (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Flow keys and (shared, not per-CPU) values of the LRU flow table. */
export function decodeFlows(raw: RawEntries): FlowRecord[] {
  const K = LAYOUT.flow_key;
  const V = LAYOUT.flow_value;
  const out: FlowRecord[] = new Array(raw.count);
  for (let i = 0; i < raw.count; i++) {
    const k = i * K.size;
    const v = i * V.size;
    const family = raw.keys[k + K.family] === 6 ? 6 : 4;
    const addrLen = family === 4 ? 4 : 16;
    out[i] = {
      ifindex: raw.keys.readUInt32LE(k + K.ifindex),
      tunnelType: tunnelTypeName(raw.keys[k + K.tunnel_type] ?? 0),
      vni: raw.keys.readUInt32LE(k + K.vni),
      family,
      protocol: raw.keys[k + K.protocol] ?? 0,
      srcAddr: formatAddress(raw.keys.subarray(k + K.saddr, k + K.saddr + addrLen), family),
      dstAddr: formatAddress(raw.keys.subarray(k + K.daddr, k + K.daddr + addrLen), family),
      srcPort: raw.keys.readUInt16LE(k + K.sport),
      dstPort: raw.keys.readUInt16LE(k + K.dport),
      packets: Number(raw.values.readBigUInt64LE(v + V.packets)),
      bytes: Number(raw.values.readBigUInt64LE(v + V.bytes)),
      firstSeenNs: raw.values.readBigUInt64LE(v + V.first_seen_ns),
      lastSeenNs: raw.values.readBigUInt64LE(v + V.last_seen_ns),
    };
  }
  return out;
}

/** flow_cache_index()'s six 64-bit multipliers, high and low 32 bits. */
const FLOW_CACHE_MULT_HIGH = new Uint32Array([0x9e3779b9, 0xc2b2ae3d, 0x165667b1, 0xd6e8feb8, 0xff51afd7, 0xc4ceb9fe]);
const FLOW_CACHE_MULT_LOW = new Uint32Array([0x7f4a7c15, 0x27d4eb4f, 0x9e3779f9, 0x6659fd93, 0xed558ccd, 0x1a85ec53]);

/** High 32 bits of the 64-bit product of two unsigned 32-bit numbers, in 16-bit limbs (every step exact). */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const carry = (((a0 * b0) >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/**
 * Slot of the flow key at `offset` in the flow_cache array: flow_cache_index() in bpf/decap.bpf.c (keep in
 * sync): each 64-bit word of the key times its own 64-bit constant, summed mod 2^64, bits 32 and up. Computed
 * in 32-bit halves: bits 32-63 of w*c are hi(wl*cl) + wh*cl + wl*ch (mod 2^32), and the low halves' sum carries.
 */
export function flowCacheIndex(keys: Buffer, offset: number): number {
  let high = 0;
  let lowSum = 0;
  for (let i = 0; i < 6; i++) {
    const wl = keys.readUInt32LE(offset + i * 8);
    const wh = keys.readUInt32LE(offset + i * 8 + 4);
    const cl = FLOW_CACHE_MULT_LOW[i]!;
    lowSum += Math.imul(wl, cl) >>> 0;
    high = (high + mulHigh32(wl, cl) + Math.imul(wh, cl) + Math.imul(wl, FLOW_CACHE_MULT_HIGH[i]!)) | 0;
  }
  high = (high + Math.floor(lowSum / 0x100000000)) | 0;
  return high & (FLOW_CACHE_SLOTS - 1);
}

/** The flow_cache per-CPU array as read: `slots` holds slot i of CPU c at `(i * cpus + c) * stride`. */
export interface FlowCacheSnapshot {
  slots: Buffer;
  stride: number;
  cpus: number;
}

/** Arranges raw flow_cache entries (index keys, per-CPU values) by slot index. */
export function flowCacheSnapshot(raw: RawEntries, layout: PerCpuLayout): FlowCacheSnapshot {
  const bytes = layout.stride * layout.cpus;
  const slots = Buffer.alloc(FLOW_CACHE_SLOTS * bytes);
  for (let i = 0; i < raw.count; i++) {
    const index = raw.keys.readUInt32LE(i * 4);
    if (index < FLOW_CACHE_SLOTS) raw.values.copy(slots, index * bytes, i * bytes, (i + 1) * bytes);
  }
  return { slots, stride: layout.stride, cpus: layout.cpus };
}

/**
 * Adds what each CPU's flow_cache slot counted but has not yet added to the flows table (see the flow_cache
 * comment in bpf/decap.bpf.c) to the matching entries of a chunk of raw flows, in place, and takes the later
 * last_seen. Slots of flows no longer in the table are ignored: they belong to an expired or evicted flow.
 * With `onlySeenBeforeNs`, only entries the table shows as unseen since then are merged (for last_seen only:
 * their counts are then merged too, the others' are not).
 */
export function mergeFlowCache(raw: RawEntries, cache: FlowCacheSnapshot, onlySeenBeforeNs?: bigint): void {
  const K = LAYOUT.flow_key.size;
  const V = LAYOUT.flow_value;
  const S = LAYOUT.flow_cache_slot;
  const cutHi = onlySeenBeforeNs === undefined ? 0 : Number(onlySeenBeforeNs >> 32n);
  const cutLo = onlySeenBeforeNs === undefined ? 0 : Number(onlySeenBeforeNs & 0xffffffffn);
  for (let i = 0; i < raw.count; i++) {
    if (onlySeenBeforeNs !== undefined) {
      // Only last_seen is wanted: an entry the table already shows as seen since the cutoff needs no slot.
      const at = i * V.size + V.last_seen_ns;
      const hi = raw.values.readUInt32LE(at + 4);
      if (hi > cutHi || (hi === cutHi && raw.values.readUInt32LE(at) >= cutLo)) continue;
    }
    const index = flowCacheIndex(raw.keys, i * K);
    for (let cpu = 0; cpu < cache.cpus; cpu++) {
      const slot = (index * cache.cpus + cpu) * cache.stride;
      // Quick reject on the first word (interface and VNI), then the whole key.
      if (cache.slots.readUInt32LE(slot + S.key) !== raw.keys.readUInt32LE(i * K)) continue;
      if (cache.slots.compare(raw.keys, i * K, (i + 1) * K, slot + S.key, slot + S.key + K) !== 0) continue;
      const v = i * V.size;
      const packets = cache.slots.readBigUInt64LE(slot + S.packets);
      if (packets > 0n) {
        raw.values.writeBigUInt64LE(raw.values.readBigUInt64LE(v + V.packets) + packets, v + V.packets);
        raw.values.writeBigUInt64LE(raw.values.readBigUInt64LE(v + V.bytes) + cache.slots.readBigUInt64LE(slot + S.bytes), v + V.bytes);
      }
      const seen = cache.slots.readBigUInt64LE(slot + S.last_seen_ns);
      if (seen > raw.values.readBigUInt64LE(v + V.last_seen_ns)) raw.values.writeBigUInt64LE(seen, v + V.last_seen_ns);
    }
  }
}

// Pure decoders from raw map bytes (keys and per-CPU values as libbpf returns them) to typed records.
import { FLOW_CACHE_SLOTS, LAYOUT, LOST_COUNTERS, OUTCOME_IFINDEX_SLOTS, OUTCOMES, TUNNEL_TYPE_IDS, type TunnelType } from './layout.ts';
import type { ActiveFlowCount, FlowRecord, LostUpdates, OutcomeCounters, VniCounters } from './records.ts';
import { tunnelTypeName } from './tunnel-types.ts';
import { VniMap } from './vni-map.ts';
import { VniTable } from './vni-table.ts';

/** Raw entries of one map: `count` keys of `keySize` bytes and values of `valueSize` bytes, packed. */
export interface RawEntries {
  count: number;
  keys: Buffer;
  values: Buffer;
}

/** Name of a tunnel type number; unknown numbers are a layout mismatch, not data. */
export { tunnelTypeName };

/** A little-endian u64 as a number (exact below 2^53, which counters stay under), without a BigInt. */
export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 2 ** 32;
}

/** Sums one u64 field over the CPU slots of a per-CPU value starting at `base`. */
export function sumPerCpu(values: Buffer, base: number, fieldOffset: number, stride: number, cpus: number): number {
  let total = 0;
  for (let cpu = 0; cpu < cpus; cpu++) total += readU64(values, base + cpu * stride + fieldOffset);
  return total;
}

/** Per-CPU layout of a map's values: slot stride (value size rounded to 8) and CPU count. */
export interface PerCpuLayout {
  stride: number;
  cpus: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The buffer's bytes as little-endian u32 words without a copy when aligned (map reads are), else a copy. */
function u32Words(buf: Buffer): Uint32Array {
  if (buf.byteOffset % 4 === 0) return new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  const copy = new Uint8Array(buf.length & ~3);
  copy.set(buf.subarray(0, copy.length));
  return new Uint32Array(copy.buffer);
}

/** Sums the u64 at word `at` of each CPU slot (`strideWords` apart) as a number. */
function sumWords(w: Uint32Array, at: number, strideWords: number, cpus: number): number {
  let total = 0;
  for (let cpu = 0; cpu < cpus; cpu++, at += strideWords) total += w[at]! + w[at + 1]! * 2 ** 32;
  return total;
}

/** vni_stats entries as row objects, appended to `out` (readCounters keeps them in columns: decodeVniStatsInto). */
export function decodeVniStats(raw: RawEntries, layout: PerCpuLayout, out: VniCounters[] = []): VniCounters[] {
  for (const row of decodeVniStatsInto(raw, layout, new VniTable(raw.count)).rows()) out.push(row);
  return out;
}

/** vni_stats entries appended to `table` (a map read in chunks decodes chunk by chunk): no object per row. */
export function decodeVniStatsInto(raw: RawEntries, layout: PerCpuLayout, table: VniTable): VniTable {
  const K = LAYOUT.vni_key;
  const V = LAYOUT.vni_value;
  if (raw.count === 0) return table;
  if (!LITTLE_ENDIAN || K.size % 4 !== 0 || layout.stride % 8 !== 0) {
    for (const r of decodeVniStatsSlow(raw, layout, []))
      table.push(r.ifindex, TUNNEL_TYPE_IDS[r.tunnelType], r.vni, r.packets, r.bytes, r.overheadBytes, r.flows);
    return table;
  }
  const keys = u32Words(raw.keys);
  const values = u32Words(raw.values);
  const kw = K.size / 4;
  const sw = layout.stride / 4;
  const vw = sw * layout.cpus;
  const cpus = layout.cpus;
  table.reserve(raw.count);
  let lastType = -1;
  for (let i = 0; i < raw.count; i++) {
    const k = i * kw;
    const v = i * vw;
    const type = keys[k + K.tunnel_type / 4]!;
    if (type !== lastType) {
      lastType = type;
      tunnelTypeName(type); // throws on a layout mismatch
    }
    const at = table.count++;
    table.ifindex[at] = keys[k + K.ifindex / 4]!;
    table.typeId[at] = type;
    table.vni[at] = keys[k + K.vni / 4]!;
    table.packets[at] = sumWords(values, v + V.packets / 4, sw, cpus);
    table.bytes[at] = sumWords(values, v + V.bytes / 4, sw, cpus);
    table.overheadBytes[at] = sumWords(values, v + V.overhead_bytes / 4, sw, cpus);
    table.flows[at] = sumWords(values, v + V.flows / 4, sw, cpus);
  }
  return table;
}

/**
 * vni_stats rows plus vni_cache rows, one row per (interface, tunnel type, VNI): the cached counts are added to
 * the table's rows in place and rows only the cache has are appended. Only the cached rows (at most a thousand
 * or so per CPU) are indexed, never the 100k stats rows.
 */
export function addVniCountersToTable(table: VniTable, cached: readonly VniCounters[]): VniTable {
  if (cached.length === 0) return table;
  const pending = new VniMap<VniCounters>();
  for (const c of cached) pending.set(c.ifindex, TUNNEL_TYPE_IDS[c.tunnelType], c.vni, c);
  let left = pending.size;
  for (let i = 0; i < table.count && left > 0; i++) {
    const c = pending.get(table.ifindex[i]!, table.typeId[i]!, table.vni[i]!);
    if (!c) continue;
    table.packets[i]! += c.packets;
    table.bytes[i]! += c.bytes;
    table.overheadBytes[i]! += c.overheadBytes;
    table.flows[i]! += c.flows;
    pending.delete(table.ifindex[i]!, table.typeId[i]!, table.vni[i]!);
    left--;
  }
  if (left > 0)
    pending.forEach((c, ifindex, typeId, vni) => {
      table.push(ifindex, typeId, vni, c.packets, c.bytes, c.overheadBytes, c.flows);
    });
  return table;
}

function decodeVniStatsSlow(raw: RawEntries, layout: PerCpuLayout, out: VniCounters[]): VniCounters[] {
  const K = LAYOUT.vni_key;
  const V = LAYOUT.vni_value;
  const valueBytes = layout.stride * layout.cpus;
  for (let i = 0; i < raw.count; i++) {
    const k = i * K.size;
    const v = i * valueBytes;
    out.push({
      ifindex: raw.keys.readUInt32LE(k + K.ifindex),
      tunnelType: tunnelTypeName(raw.keys.readUInt32LE(k + K.tunnel_type)),
      vni: raw.keys.readUInt32LE(k + K.vni),
      packets: sumPerCpu(raw.values, v, V.packets, layout.stride, layout.cpus),
      bytes: sumPerCpu(raw.values, v, V.bytes, layout.stride, layout.cpus),
      overheadBytes: sumPerCpu(raw.values, v, V.overhead_bytes, layout.stride, layout.cpus),
      flows: sumPerCpu(raw.values, v, V.flows, layout.stride, layout.cpus),
    });
  }
  return out;
}

/**
 * Counts held in the per-CPU vni_cache (see bpf/decap.bpf.c): every CPU's owned slots, summed per key. A key
 * may also have counts in vni_stats: add both with addVniCounters.
 */
export function decodeVniCache(raw: RawEntries, layout: PerCpuLayout): VniCounters[] {
  const S = LAYOUT.vni_cache_slot;
  const V = LAYOUT.vni_value;
  const byKey = new VniMap<VniCounters>();
  const rows: VniCounters[] = [];
  const valueBytes = layout.stride * layout.cpus;
  for (let i = 0; i < raw.count; i++) {
    for (let cpu = 0; cpu < layout.cpus; cpu++) {
      const at = i * valueBytes + cpu * layout.stride;
      // key = (ifindex << 8 | tunnel_type) << 32 | segment id, little-endian.
      const vni = raw.values.readUInt32LE(at + S.key);
      const ifindexType = raw.values.readUInt32LE(at + S.key + 4);
      if (ifindexType === 0) continue; // empty slot
      let row = byKey.get(ifindexType >>> 8, ifindexType & 0xff, vni);
      if (!row) {
        row = { ifindex: ifindexType >>> 8, tunnelType: tunnelTypeName(ifindexType & 0xff), vni, packets: 0, bytes: 0, overheadBytes: 0, flows: 0 };
        byKey.set(row.ifindex, ifindexType & 0xff, vni, row);
        rows.push(row);
      }
      const c = at + S.counts;
      row.packets += readU64(raw.values, c + V.packets);
      row.bytes += readU64(raw.values, c + V.bytes);
      row.overheadBytes += readU64(raw.values, c + V.overhead_bytes);
      row.flows += readU64(raw.values, c + V.flows);
    }
  }
  return rows;
}

export function decodeOutcomeStats(raw: RawEntries, layout: PerCpuLayout): OutcomeCounters[] {
  const K = LAYOUT.outcome_key;
  const V = LAYOUT.outcome_value;
  const valueBytes = layout.stride * layout.cpus;
  const out: OutcomeCounters[] = [];
  for (let i = 0; i < raw.count; i++) {
    const k = i * K.size;
    const v = i * valueBytes;
    const code = raw.keys.readUInt32LE(k + K.outcome);
    const outcome = OUTCOMES[code];
    if (!outcome) throw new RangeError(`unknown outcome ${code}: bpf/decap_shared.h and src/decode/layout.ts disagree`);
    out.push({
      ifindex: raw.keys.readUInt32LE(k + K.ifindex),
      outcome,
      packets: sumPerCpu(raw.values, v, V.packets, layout.stride, layout.cpus),
      bytes: sumPerCpu(raw.values, v, V.bytes, layout.stride, layout.cpus),
    });
  }
  return out;
}

/**
 * outcome_stats, the per-CPU array indexed by ifindex * OUTCOMES.length + outcome; entries never hit
 * (all zero) are left out.
 */
export function decodeOutcomeArray(raw: RawEntries, layout: PerCpuLayout): OutcomeCounters[] {
  const V = LAYOUT.outcome_value;
  const valueBytes = layout.stride * layout.cpus;
  const out: OutcomeCounters[] = [];
  for (let i = 0; i < raw.count; i++) {
    const index = raw.keys.readUInt32LE(i * 4);
    const ifindex = Math.floor(index / OUTCOMES.length);
    const outcome = OUTCOMES[index % OUTCOMES.length]!;
    if (ifindex >= OUTCOME_IFINDEX_SLOTS) throw new RangeError(`outcome_stats index ${index} beyond ${OUTCOME_IFINDEX_SLOTS} interfaces: layout mismatch`);
    const packets = sumPerCpu(raw.values, i * valueBytes, V.packets, layout.stride, layout.cpus);
    if (packets === 0) continue;
    out.push({ ifindex, outcome, packets, bytes: sumPerCpu(raw.values, i * valueBytes, V.bytes, layout.stride, layout.cpus) });
  }
  return out;
}

/**
 * The `decapsulated` outcome per interface: the kernel counts a decapsulated frame under its VNI only (bytes +
 * overhead bytes = the frame as received), and in outcome_stats only when vni_stats could not count it. Returns
 * `outcomes` with the VNI sums added to (or appended as) each interface's `decapsulated` row.
 */
export function addDecapsulatedFromVnis(outcomes: OutcomeCounters[], table: VniTable): OutcomeCounters[] {
  const perInterface = new Map<number, { packets: number; bytes: number }>();
  for (let i = 0; i < table.count; i++) {
    const ifindex = table.ifindex[i]!;
    let sum = perInterface.get(ifindex);
    if (!sum) {
      sum = { packets: 0, bytes: 0 };
      perInterface.set(ifindex, sum);
    }
    sum.packets += table.packets[i]!;
    sum.bytes += table.bytes[i]! + table.overheadBytes[i]!;
  }
  const out = outcomes.map((o) => ({ ...o }));
  for (const [ifindex, sum] of perInterface) {
    if (sum.packets === 0) continue;
    const row = out.find((o) => o.ifindex === ifindex && o.outcome === 'decapsulated');
    if (row) {
      row.packets += sum.packets;
      row.bytes += sum.bytes;
    } else {
      out.push({ ifindex, outcome: 'decapsulated', packets: sum.packets, bytes: sum.bytes });
    }
  }
  return out;
}

/** lost_updates is a per-CPU array of u64 indexed by `enum decap_lost`. */
export function decodeLostUpdates(raw: RawEntries, layout: PerCpuLayout): LostUpdates {
  const lost = Object.fromEntries(LOST_COUNTERS.map((name) => [name, 0])) as LostUpdates;
  const valueBytes = layout.stride * layout.cpus;
  for (let i = 0; i < raw.count; i++) {
    const name = LOST_COUNTERS[raw.keys.readUInt32LE(i * 4)];
    if (name) lost[name] = sumPerCpu(raw.values, i * valueBytes, 0, layout.stride, layout.cpus);
  }
  return lost;
}

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

/**
 * Counts one chunk of raw flow entries into `counts` (per interface, tunnel type and VNI) when seen since
 * `cutoffNs`, and returns the indexes of the idle ones. Reads only the fields it needs: no object per flow.
 */
export function countActiveFlows(raw: RawEntries, cutoffNs: bigint, counts: VniMap<number>): number[] {
  const K = LAYOUT.flow_key;
  const idle: number[] = [];
  // Timestamps exceed 2^53 ns after 104 days of uptime: compare the two 32-bit halves, no BigInt per flow.
  const cutHi = Number(cutoffNs >> 32n);
  const cutLo = Number(cutoffNs & 0xffffffffn);
  let lastIfindex = -1;
  let lastType = -1;
  let group: Map<number, number> | undefined;
  for (let i = 0; i < raw.count; i++) {
    const at = i * LAYOUT.flow_value.size + LAYOUT.flow_value.last_seen_ns;
    const hi = raw.values.readUInt32LE(at + 4);
    if (hi < cutHi || (hi === cutHi && raw.values.readUInt32LE(at) < cutLo)) {
      idle.push(i);
      continue;
    }
    const k = i * K.size;
    const ifindex = raw.keys.readUInt32LE(k + K.ifindex);
    const type = raw.keys[k + K.tunnel_type] ?? 0;
    if (!group || ifindex !== lastIfindex || type !== lastType) {
      lastIfindex = ifindex;
      lastType = type;
      group = counts.inner(ifindex, type);
    }
    const vni = raw.keys.readUInt32LE(k + K.vni);
    group.set(vni, (group.get(vni) ?? 0) + 1);
  }
  return idle;
}

/** The per-VNI counts `countActiveFlows` gathered. */
export function activeFlowCounts(counts: VniMap<number>): ActiveFlowCount[] {
  const out: ActiveFlowCount[] = [];
  counts.forEach((flows, ifindex, tunnelTypeId, vni) => void out.push({ ifindex, tunnelType: tunnelTypeName(tunnelTypeId), vni, flows }));
  return out;
}

/**
 * What an expiry pass left in the flow table, per (interface, tunnel type, VNI), in columns (see `flowsAtPass`).
 * Entry i is counter row i of the read right after the pass, then any VNI only the flow table showed: the next
 * reads list the rows in the same order while no VNI comes or goes, so `flowsSincePass` matches row i by
 * comparing keys in arrays it walks in order, and looks a key up only when the rows moved.
 */
export class FlowsAtPass {
  count = 0;
  readonly ifindex: Uint32Array;
  readonly typeId: Uint8Array;
  readonly vni: Uint32Array;
  /** Flows the pass kept. */
  readonly kept: Float64Array;
  /** Flows kept minus the VNI's new-flow counter right after the pass: add the counter now to get the gauge. */
  readonly base: Float64Array;
  /** The last `flowsSincePass` call that saw the VNI in the counters. */
  readonly seen: Float64Array;
  readonly index = new VniMap<number>();
  /** Rows `flowsSincePass` returned last, by row position, reused (every field rewritten) by the next call. */
  readonly pool: ActiveFlowCount[] = [];

  constructor(capacity: number) {
    this.ifindex = new Uint32Array(capacity);
    this.typeId = new Uint8Array(capacity);
    this.vni = new Uint32Array(capacity);
    this.kept = new Float64Array(capacity);
    this.base = new Float64Array(capacity);
    this.seen = new Float64Array(capacity);
  }

  add(ifindex: number, typeId: number, vni: number, kept: number, base: number): void {
    const i = this.count++;
    this.ifindex[i] = ifindex;
    this.typeId[i] = typeId;
    this.vni[i] = vni;
    this.kept[i] = kept;
    this.base[i] = base;
    this.index.set(ifindex, typeId, vni, i);
  }

  /** Every entry as [ifindex, tunnel type id, segment id, kept, base] (for tests and diagnostics). */
  entries(): Array<[number, number, number, number, number]> {
    const out: Array<[number, number, number, number, number]> = [];
    for (let i = 0; i < this.count; i++) out.push([this.ifindex[i]!, this.typeId[i]!, this.vni[i]!, this.kept[i]!, this.base[i]!]);
    return out;
  }
}

const asTable = (vnis: VniTable | readonly VniCounters[]): VniTable => (vnis instanceof VniTable ? vnis : VniTable.fromRows(vnis));

/** A pass's record from the flows it kept and the counters read right after it (`vnis`). */
export function flowsAtPass(kept: VniMap<number>, vnis: VniTable | readonly VniCounters[]): FlowsAtPass {
  const t = asTable(vnis);
  const pass = new FlowsAtPass(t.count + kept.size);
  const inRows = new VniMap<true>();
  for (let i = 0; i < t.count; i++) {
    const ifindex = t.ifindex[i]!;
    const typeId = t.typeId[i]!;
    const vni = t.vni[i]!;
    const k = kept.get(ifindex, typeId, vni) ?? 0;
    if (pass.index.has(ifindex, typeId, vni)) continue; // a duplicate row: the first one counts
    pass.add(ifindex, typeId, vni, k, k - t.flows[i]!);
    inRows.set(ifindex, typeId, vni, true);
  }
  kept.forEach((flows, ifindex, typeId, vni) => {
    if (!inRows.has(ifindex, typeId, vni)) pass.add(ifindex, typeId, vni, flows, flows);
  });
  return pass;
}

/** An empty pass: before the first, every flow the counters show is in the table. */
export function noFlowsAtPass(): FlowsAtPass {
  return new FlowsAtPass(0);
}

let sinceCalls = 0;

/**
 * Flows the table holds per (interface, tunnel type, VNI) without reading it: what the last expiry pass kept
 * plus the flows inserted since, i.e. each VNI's new-flow counter now minus its value right after that pass.
 * Flows that go idle or that the LRU evicts after a pass are taken off by the next pass. VNIs at 0 are left out.
 * The rows are reused by the next call on the same pass (every field rewritten): use them before calling again.
 */
export function flowsSincePass(pass: FlowsAtPass, vnis: VniTable | readonly VniCounters[]): ActiveFlowCount[] {
  const t = asTable(vnis);
  const out: ActiveFlowCount[] = [];
  const call = ++sinceCalls;
  const pool = pass.pool;
  let matched = 0;
  let lastType = -1;
  let typeName: TunnelType = 'vxlan';
  for (let i = 0; i < t.count; i++) {
    const ifindex = t.ifindex[i]!;
    const typeId = t.typeId[i]!;
    const vni = t.vni[i]!;
    let e = i;
    if (i >= pass.count || pass.vni[i] !== vni || pass.ifindex[i] !== ifindex || pass.typeId[i] !== typeId) e = pass.index.get(ifindex, typeId, vni) ?? -1;
    let flows = t.flows[i]!;
    if (e >= 0 && pass.seen[e] !== call) {
      matched++;
      pass.seen[e] = call;
      flows += pass.base[e]!;
    }
    if (flows > 0) {
      if (typeId !== lastType) {
        lastType = typeId;
        typeName = tunnelTypeName(typeId);
      }
      let o = pool[i];
      if (o === undefined) pool[i] = o = { ifindex, tunnelType: typeName, vni, flows };
      else {
        o.ifindex = ifindex;
        o.tunnelType = typeName;
        o.vni = vni;
        o.flows = flows;
      }
      out.push(o);
    }
  }
  // A VNI the counters do not show (its vni_stats insert was lost) still has the flows the pass kept.
  if (matched < pass.count) {
    for (let e = 0; e < pass.count; e++) {
      if (pass.seen[e] !== call && pass.kept[e]! > 0)
        out.push({ ifindex: pass.ifindex[e]!, tunnelType: tunnelTypeName(pass.typeId[e]!), vni: pass.vni[e]!, flows: pass.kept[e]! });
    }
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

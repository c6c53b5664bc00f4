// Counter maps (vni_stats, vni_cache, outcome_stats, lost_updates) from raw bytes to rows and columns, summed over CPUs.
import { LAYOUT, LOST_COUNTERS, OUTCOME_IFINDEX_SLOTS, OUTCOMES, TUNNEL_TYPE_IDS } from './layout.ts';
import type { PerCpuLayout, RawEntries } from './raw-entries.ts';
import type { LostUpdates, OutcomeCounters, VniCounters } from './records.ts';
import { tunnelTypeName } from './tunnel-types.ts';
import { VniMap } from './vni-map.ts';
import { VniTable } from './vni-table.ts';

/** A little-endian u64 as a number (exact below 2^53, which counters stay under), without a BigInt. */
function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 2 ** 32;
}

/** Sums one u64 field over the CPU slots of a per-CPU value starting at `base`. */
function sumPerCpu(values: Buffer, base: number, fieldOffset: number, stride: number, cpus: number): number {
  let total = 0;
  for (let cpu = 0; cpu < cpus; cpu++) total += readU64(values, base + cpu * stride + fieldOffset);
  return total;
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

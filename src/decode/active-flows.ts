// Active flows per (interface, tunnel type, VNI): counted from the flow table in an expiry pass, and between
// passes from what the pass kept plus the new-flow counters.
import { LAYOUT, type TunnelType } from './layout.ts';
import type { RawEntries } from './raw-entries.ts';
import type { ActiveFlowCount, VniCounters } from './records.ts';
import { tunnelTypeName } from './tunnel-types.ts';
import { VniMap } from './vni-map.ts';
import { VniTable } from './vni-table.ts';

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

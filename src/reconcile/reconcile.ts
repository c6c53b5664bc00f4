// Joins NetFlow/IPFIX records to xdp-decap's inner flow table on the 5-tuple and compares the totals per VNI (pure: no I/O).

import type { TunnelType } from '../decode/layout.ts';
import type { FlowFiveTuple, FlowRecord } from '../decode/records.ts';

/** The 5-tuple and counts of one unidirectional flow, on either side. */
interface FlowSummary extends FlowFiveTuple {
  packets: number;
  /** IP (L3) bytes. */
  bytes: number;
}

/** One flow record as a NetFlow/IPFIX exporter reported it (unidirectional, like xdp-decap's flows). */
export interface NetflowRecord extends FlowSummary {
  /** True when the exporter marked the record as sampled: its counts are not scaled here. */
  sampled: boolean;
}

/** An xdp-decap flow with the name of the interface it was seen on. */
export interface DecapFlow extends FlowRecord {
  interfaceName: string;
}

export interface VniComparison {
  interfaceName: string;
  tunnelType: TunnelType;
  vni: number;
  decapFlows: number;
  decapPackets: number;
  /** Inner frame bytes (L2), as xdp-decap counts them. */
  decapFrameBytes: number;
  /** decapFrameBytes − 14 × decapPackets: the L3 bytes NetFlow would count for the same packets. */
  decapL3Bytes: number;
  netflowRecords: number;
  netflowPackets: number;
  netflowBytes: number;
  /** netflow − decap; percentages relative to decap (null when decap is 0). */
  packetDiff: number;
  packetDiffPct: number | null;
  byteDiff: number;
  byteDiffPct: number | null;
  /** |packetDiffPct| or |byteDiffPct| above the tolerance. */
  outsideTolerance: boolean;
}

export interface ReconcileReport {
  tolerancePct: number;
  vnis: VniComparison[];
  /** NetFlow records that match no decapsulated flow: traffic that was never tunnelled (or not through these interfaces). */
  netflowOnly: FlowSummary[];
  /** Decapsulated flows NetFlow never reported: what the tap missed (or has not exported yet); bytes as L3. */
  decapOnly: Array<FlowSummary & { interfaceName: string; tunnelType: TunnelType; vni: number }>;
  /** NetFlow records whose 5-tuple is in more than one VNI (tenants reusing addresses): not attributed. */
  ambiguous: Array<FlowSummary & { vnis: number[] }>;
  sampledRecords: number;
  /** True when everything agrees: no VNI outside tolerance and nothing unmatched. */
  agrees: boolean;
}

/** Bytes of an inner Ethernet header without VLAN tags: xdp-decap counts it, NetFlow does not. */
export const INNER_L2_HEADER_BYTES = 14;

const PORTED_PROTOCOLS = new Set([6, 17, 132]); // TCP, UDP, SCTP: the ones xdp-decap keys by port

/**
 * The join key. xdp-decap keys flows by ports only for TCP, UDP and SCTP (0 otherwise); NetFlow puts
 * ICMP type and code in the destination port, so ports are dropped for every other protocol.
 */
export function flowKey(f: { protocol: number; srcAddr: string; dstAddr: string; srcPort: number; dstPort: number }): string {
  const ported = PORTED_PROTOCOLS.has(f.protocol);
  return `${f.protocol}|${f.srcAddr}|${f.dstAddr}|${ported ? f.srcPort : 0}|${ported ? f.dstPort : 0}`;
}

const pct = (diff: number, base: number): number | null => (base === 0 ? null : (100 * diff) / base);
const summary = (f: FlowSummary): FlowSummary => ({
  protocol: f.protocol,
  srcAddr: f.srcAddr,
  dstAddr: f.dstAddr,
  srcPort: f.srcPort,
  dstPort: f.dstPort,
  packets: f.packets,
  bytes: f.bytes,
});

/** A VNI's row before any flow is added to it. */
function emptyComparison(f: DecapFlow): VniComparison {
  return {
    interfaceName: f.interfaceName,
    tunnelType: f.tunnelType,
    vni: f.vni,
    decapFlows: 0,
    decapPackets: 0,
    decapFrameBytes: 0,
    decapL3Bytes: 0,
    netflowRecords: 0,
    netflowPackets: 0,
    netflowBytes: 0,
    packetDiff: 0,
    packetDiffPct: null,
    byteDiff: 0,
    byteDiffPct: null,
    outsideTolerance: false,
  };
}

/** A row's differences (NetFlow minus decap, relative to decap) and whether they are within the tolerance. */
function settleDifferences(r: VniComparison, tolerancePct: number): void {
  r.packetDiff = r.netflowPackets - r.decapPackets;
  r.packetDiffPct = pct(r.packetDiff, r.decapPackets);
  r.byteDiff = r.netflowBytes - r.decapL3Bytes;
  r.byteDiffPct = pct(r.byteDiff, r.decapL3Bytes);
  r.outsideTolerance = Math.abs(r.packetDiffPct ?? 0) > tolerancePct || Math.abs(r.byteDiffPct ?? 0) > tolerancePct;
}

export function reconcile(decap: readonly DecapFlow[], netflow: readonly NetflowRecord[], tolerancePct: number): ReconcileReport {
  // 5-tuple -> the decap flows with it (one per interface/VNI that saw it).
  const byKey = new Map<string, DecapFlow[]>();
  for (const f of decap) {
    const k = flowKey(f);
    const list = byKey.get(k);
    if (list) list.push(f);
    else byKey.set(k, [f]);
  }
  const vniId = (f: { interfaceName: string; tunnelType: TunnelType; vni: number }) => `${f.interfaceName}|${f.tunnelType}|${f.vni}`;
  const rows = new Map<string, VniComparison>();
  const row = (f: DecapFlow): VniComparison => {
    const id = vniId(f);
    let r = rows.get(id);
    if (!r) {
      r = emptyComparison(f);
      rows.set(id, r);
    }
    return r;
  };
  for (const f of decap) {
    const r = row(f);
    r.decapFlows++;
    r.decapPackets += f.packets;
    r.decapFrameBytes += f.bytes;
    r.decapL3Bytes += f.bytes - INNER_L2_HEADER_BYTES * f.packets;
  }

  const report: ReconcileReport = { tolerancePct, vnis: [], netflowOnly: [], decapOnly: [], ambiguous: [], sampledRecords: 0, agrees: true };
  const matched = new Set<string>();
  const ambiguous = new Map<string, FlowSummary & { vnis: number[] }>();
  for (const n of netflow) {
    if (n.sampled) report.sampledRecords++;
    const k = flowKey(n);
    const flows = byKey.get(k);
    if (!flows) {
      report.netflowOnly.push(summary(n));
      continue;
    }
    matched.add(k);
    const vnis = [...new Set(flows.map(vniId))];
    if (vnis.length > 1) {
      const a = ambiguous.get(k) ?? { ...summary(n), packets: 0, bytes: 0, vnis: [...new Set(flows.map((f) => f.vni))].sort((x, y) => x - y) };
      a.packets += n.packets;
      a.bytes += n.bytes;
      ambiguous.set(k, a);
      continue;
    }
    const r = row(flows[0]!);
    r.netflowRecords++;
    r.netflowPackets += n.packets;
    r.netflowBytes += n.bytes;
  }
  report.ambiguous = [...ambiguous.values()];
  for (const [k, flows] of byKey) {
    if (matched.has(k)) continue;
    // Bytes as L3, like every other byte column of the report.
    for (const f of flows)
      report.decapOnly.push({
        ...summary(f),
        bytes: f.bytes - INNER_L2_HEADER_BYTES * f.packets,
        interfaceName: f.interfaceName,
        tunnelType: f.tunnelType,
        vni: f.vni,
      });
  }

  for (const r of rows.values()) settleDifferences(r, tolerancePct);
  report.vnis = [...rows.values()].sort((a, b) => a.interfaceName.localeCompare(b.interfaceName) || a.tunnelType.localeCompare(b.tunnelType) || a.vni - b.vni);
  const bySize = (a: FlowSummary, b: FlowSummary) => b.bytes - a.bytes;
  report.netflowOnly.sort(bySize);
  report.decapOnly.sort(bySize);
  report.agrees =
    report.vnis.every((r) => !r.outsideTolerance) && report.netflowOnly.length === 0 && report.decapOnly.length === 0 && report.ambiguous.length === 0;
  return report;
}

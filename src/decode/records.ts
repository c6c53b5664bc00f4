// Typed records the decoders produce from raw map bytes; what metrics, replay and status consume.
import type { LostCounter, Outcome, TunnelType } from './layout.ts';

/** Counters of one (interface, tunnel type, VNI), summed over CPUs. */
export interface VniCounters {
  ifindex: number;
  tunnelType: TunnelType;
  vni: number;
  packets: number;
  /** Inner frame bytes: what the taps after XDP see. */
  bytes: number;
  /** Outer bytes removed. */
  overheadBytes: number;
  /** Inner flows seen for the first time. */
  flows: number;
}

/** Counters of one (interface, outcome), summed over CPUs. */
export interface OutcomeCounters {
  ifindex: number;
  outcome: Outcome;
  packets: number;
  /** Frame bytes as received. */
  bytes: number;
}

/** The 5-tuple of one unidirectional flow, addresses as text: how xdp-decap and a NetFlow exporter key a flow. */
export interface FlowFiveTuple {
  protocol: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
}

/** One inner flow from the LRU flow table. */
export interface FlowRecord extends FlowFiveTuple {
  ifindex: number;
  tunnelType: TunnelType;
  vni: number;
  family: 4 | 6;
  packets: number;
  /** Inner frame bytes. */
  bytes: number;
  /** CLOCK_MONOTONIC nanoseconds, read with bpf_ktime_get_coarse_ns (jiffy resolution: within a tick or so). */
  firstSeenNs: bigint;
  lastSeenNs: bigint;
}

/** Updates the program could not make because a map was full. */
export type LostUpdates = Record<LostCounter, number>;

/** Flows of one (interface, tunnel type, VNI) seen within the idle timeout. */
export interface ActiveFlowCount {
  ifindex: number;
  tunnelType: TunnelType;
  vni: number;
  flows: number;
}

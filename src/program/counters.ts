// Reads the counter maps of a decap program into one snapshot: the one path every reader (plugin, replay, status) takes.

import {
  addDecapsulatedFromVnis,
  addVniCountersToTable,
  decodeLostUpdates,
  decodeOutcomeArray,
  decodeOutcomeStats,
  decodeVniCache,
  decodeVniStatsInto,
} from '../decode/counter-decoders.ts';
import { type CounterSnapshot, snapshotOfTable } from '../decode/counter-snapshot.ts';
import { MAP_NAMES } from '../decode/layout.ts';
import { VniTable } from '../decode/vni-table.ts';
import type { BpfMap } from '../ffi/bpf-object.ts';

/** Rows the last read held: the next table starts that big, so it is not grown chunk by chunk. */
let tableCapacity = 1024;

/**
 * vni_stats plus the per-CPU vni_cache (counts never move between them: see bpf/decap.bpf.c), the outcome
 * array and hash (their `decapsulated` rows completed from the VNI counters), and lost_updates, each summed over CPUs. `map` returns a map of the program by name.
 */
export function readCounterMaps(map: (name: string) => BpfMap): CounterSnapshot {
  const vniStats = map(MAP_NAMES.vniStats);
  const vniCache = map(MAP_NAMES.vniCache);
  const outcomes = map(MAP_NAMES.outcomeStats);
  const outcomesHi = map(MAP_NAMES.outcomeHi);
  const lost = map(MAP_NAMES.lostUpdates);
  // Decoded chunk by chunk as read: the 100k-entry map is never copied into one buffer.
  // Into columns, not row objects (src/decode/vni-table.ts): `vnis` is only built for a reader that asks.
  const table = new VniTable(tableCapacity);
  vniStats.forEachChunk((chunk) => void decodeVniStatsInto(chunk, vniStats.perCpuLayout, table));
  addVniCountersToTable(table, decodeVniCache(vniCache.readAll(), vniCache.perCpuLayout));
  tableCapacity = Math.max(tableCapacity, table.count);
  // A decapsulated frame is counted under its VNI, not in the outcome maps (one map update less per packet).
  return snapshotOfTable(
    table,
    addDecapsulatedFromVnis(
      [...decodeOutcomeArray(outcomes.readAll(), outcomes.perCpuLayout), ...decodeOutcomeStats(outcomesHi.readAll(), outcomesHi.perCpuLayout)],
      table,
    ),
    decodeLostUpdates(lost.readAll(), lost.perCpuLayout),
  );
}

// Reads the counter maps of a decap program into one snapshot: the one path every reader (plugin, replay, status) takes.
import type { BpfMap } from '../ffi/bpf-object.ts';
import { addVniCounters, decodeLostUpdates, decodeOutcomeArray, decodeOutcomeStats, decodeVniCache, decodeVniStats } from '../decode/decoders.ts';
import { MAP_NAMES } from '../decode/layout.ts';
import type { CounterSnapshot, VniCounters } from '../decode/records.ts';

/**
 * vni_stats plus the per-CPU vni_cache (counts never move between them: see bpf/decap.bpf.c), the outcome
 * array and hash, and lost_updates, each summed over CPUs. `map` returns a map of the program by name.
 */
export function readCounterMaps(map: (name: string) => BpfMap): CounterSnapshot {
  const vniStats = map(MAP_NAMES.vniStats);
  const vniCache = map(MAP_NAMES.vniCache);
  const outcomes = map(MAP_NAMES.outcomeStats);
  const outcomesHi = map(MAP_NAMES.outcomeHi);
  const lost = map(MAP_NAMES.lostUpdates);
  // Decoded chunk by chunk as read: the 100k-entry map is never copied into one buffer.
  const rows: VniCounters[] = [];
  vniStats.forEachChunk((chunk) => void decodeVniStats(chunk, vniStats.perCpuLayout, rows));
  return {
    vnis: addVniCounters(rows, decodeVniCache(vniCache.readAll(), vniCache.perCpuLayout)),
    outcomes: [...decodeOutcomeArray(outcomes.readAll(), outcomes.perCpuLayout), ...decodeOutcomeStats(outcomesHi.readAll(), outcomesHi.perCpuLayout)],
    lost: decodeLostUpdates(lost.readAll(), lost.perCpuLayout),
  };
}

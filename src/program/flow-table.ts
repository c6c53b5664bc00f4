// Reads the flow table as a user sees it: the shared flows map plus what each CPU's flow_cache slot holds.

import { type FlowCacheSnapshot, flowCacheSnapshot, mergeFlowCache } from '../decode/flow-decoders.ts';
import type { BpfMap, MapEntries } from '../ffi/bpf-object.ts';

function snapshot(cache: BpfMap): FlowCacheSnapshot {
  return flowCacheSnapshot(cache.readAll(), cache.perCpuLayout);
}

/**
 * Streams the flow table chunk by chunk with last_seen merged from the cache for every entry the table shows
 * as unseen since `cutoffNs` (for counting and expiry, which only compare last_seen with the cutoff: a slot
 * read before the table can only be older than what a sync moved into it, and the later one wins).
 */
export function forEachFlowChunkSeenSince(flows: BpfMap, cache: BpfMap, cutoffNs: bigint, visit: (chunk: MapEntries) => void): void {
  const slots = snapshot(cache);
  flows.forEachChunk((chunk) => {
    mergeFlowCache(chunk, slots, cutoffNs);
    visit(chunk);
  });
}

/**
 * The whole merged flow table at once (for records with counts): the table is read before the cache, so a
 * slot that syncs in between is missed for this read rather than counted twice.
 */
export function readMergedFlows(flows: BpfMap, cache: BpfMap): MapEntries {
  const entries = flows.readAll();
  mergeFlowCache(entries, snapshot(cache));
  return entries;
}

// One read of the counter maps: the VNI rows (as a VniTable, rows built on demand), the outcomes and lost updates.
import type { LostUpdates, OutcomeCounters, VniCounters } from './records.ts';
import { VniTable } from './vni-table.ts';

/** Everything one read of the counter maps returns (flows are read separately: they can be large). */
export interface CounterSnapshot {
  vnis: VniCounters[];
  /** The same rows in columns, when the snapshot was read from the maps (vni-table.ts): what the metrics use. */
  vniTable?: VniTable;
  outcomes: OutcomeCounters[];
  lost: LostUpdates;
}

/**
 * A snapshot whose VNI rows are `table`: `vnis` is built from it on first use (and kept), so readers that only
 * use `vniTable` (the metrics) never make the 100k row objects. Treat `table` as read-only from then on.
 */
export function snapshotOfTable(table: VniTable, outcomes: OutcomeCounters[], lost: LostUpdates): CounterSnapshot {
  let rows: VniCounters[] | undefined;
  return {
    get vnis() {
      rows ??= table.rows();
      return rows;
    },
    set vnis(next: VniCounters[]) {
      rows = next;
    },
    vniTable: table,
    outcomes,
    lost,
  };
}

/** The VNI rows of a snapshot as a table: its own, or one built from its rows. */
export function vniTableOf(snapshot: CounterSnapshot): VniTable {
  return snapshot.vniTable ?? VniTable.fromRows(snapshot.vnis);
}

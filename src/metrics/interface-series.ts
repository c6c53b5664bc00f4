// Series identity by interface name, not by attach state: every ifindex an interface ever had adds to one series.
//
// The kernel keys its counters by ifindex. An interface that is deleted and re-created gets a new ifindex (its
// old rows stay in the maps, frozen); after a detach nothing names an ifindex any more. So the names are
// remembered here for the life of the process, and each collection's rows are re-keyed from ifindex to a
// series id per name, summed over every ifindex the name has had: a re-created interface continues its
// series, a stop never reports an `ifindex-N` twin, and a cumulative series never goes down.

import { type CounterSnapshot, snapshotOfTable } from '../decode/counter-snapshot.ts';
import { TUNNEL_TYPE_IDS } from '../decode/layout.ts';
import type { ActiveFlowCount, OutcomeCounters, VniCounters } from '../decode/records.ts';
import { VniMap } from '../decode/vni-map.ts';
import type { MetricsInput } from './decap-metrics.ts';

type VniValues = Pick<VniCounters, 'packets' | 'bytes' | 'overheadBytes' | 'flows'>;
type OutcomeValues = Pick<OutcomeCounters, 'packets' | 'bytes'>;

/** What an ifindex had counted when it changed hands: subtracted from its rows, which now belong to another name. */
interface Baseline {
  /** By (tunnel type, VNI), under ifindex 0. */
  vnis: VniMap<VniValues>;
  outcomes: Map<string, OutcomeValues>;
}

interface Owner {
  seriesId: number;
  baseline: Baseline;
}

const emptyBaseline = (): Baseline => ({ vnis: new VniMap(), outcomes: new Map() });
const baselineOf = (baseline: Baseline, row: VniCounters) => baseline.vnis.get(0, TUNNEL_TYPE_IDS[row.tunnelType], row.vni);

/** Adds `row` (its `ifindex` already a series id) minus `base` into the row of the same series in `into`. */
function addVni(into: VniMap<VniCounters>, row: VniCounters, sign: 1 | -1 = 1, base?: VniValues): void {
  const typeId = TUNNEL_TYPE_IDS[row.tunnelType];
  let target = into.get(row.ifindex, typeId, row.vni);
  if (!target) {
    target = { ...row, packets: 0, bytes: 0, overheadBytes: 0, flows: 0 };
    into.set(row.ifindex, typeId, row.vni, target);
  }
  target.packets += sign * (row.packets - (base?.packets ?? 0));
  target.bytes += sign * (row.bytes - (base?.bytes ?? 0));
  target.overheadBytes += sign * (row.overheadBytes - (base?.overheadBytes ?? 0));
  target.flows += sign * (row.flows - (base?.flows ?? 0));
}

function addOutcome(into: Map<string, OutcomeCounters>, row: OutcomeCounters, base?: OutcomeValues): void {
  const key = `${row.ifindex}/${row.outcome}`;
  let target = into.get(key);
  if (!target) {
    target = { ...row, packets: 0, bytes: 0 };
    into.set(key, target);
  }
  target.packets += row.packets - (base?.packets ?? 0);
  target.bytes += row.bytes - (base?.bytes ?? 0);
}

export class InterfaceSeriesLedger {
  private readonly ids = new Map<string, number>();
  /** Series id -> interface name; id 0 is never used. */
  private readonly names: string[] = [''];
  private readonly owners = new Map<number, Owner>();
  /** Counts of ifindexes that passed to another name, kept for the name that had them (rows keyed by series id). */
  private readonly carriedVnis = new VniMap<VniCounters>();
  private readonly carriedOutcomes = new Map<string, OutcomeCounters>();

  /** The series id of `name` (the same for the life of the process). */
  seriesId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** The interface name of a series id. */
  nameOf(seriesId: number): string {
    return this.names[seriesId] ?? `series-${seriesId}`;
  }

  /**
   * Records that `ifindex` is `name` from now on; call before attaching. When the ifindex belonged to another
   * name (the kernel reuses numbers), what it counted so far stays with that name: `read` is called once to
   * take that snapshot.
   */
  claim(ifindex: number, name: string, read: () => CounterSnapshot): void {
    const seriesId = this.seriesId(name);
    const previous = this.owners.get(ifindex);
    if (previous?.seriesId === seriesId) return;
    const baseline = emptyBaseline();
    if (previous) {
      const snapshot = read();
      for (const row of snapshot.vnis) {
        if (row.ifindex !== ifindex) continue;
        addVni(this.carriedVnis, { ...row, ifindex: previous.seriesId }, 1, baselineOf(previous.baseline, row));
        baseline.vnis.set(0, TUNNEL_TYPE_IDS[row.tunnelType], row.vni, row);
      }
      for (const row of snapshot.outcomes) {
        if (row.ifindex !== ifindex) continue;
        addOutcome(this.carriedOutcomes, { ...row, ifindex: previous.seriesId }, previous.baseline.outcomes.get(row.outcome));
        baseline.outcomes.set(row.outcome, row);
      }
    }
    this.owners.set(ifindex, { seriesId, baseline });
  }

  /**
   * True while every name has had one ifindex and no ifindex changed hands (the usual life): then re-keying is
   * a rename, row for row, in place, with no sums and no copies.
   */
  private oneToOne(): boolean {
    if (this.carriedVnis.size > 0 || this.carriedOutcomes.size > 0) return false;
    const seen = new Set<number>();
    for (const { seriesId } of this.owners.values()) {
      if (seen.has(seriesId)) return false;
      seen.add(seriesId);
    }
    return true;
  }

  /**
   * The rows of one collection re-keyed by series id (in `ifindex`), one row per (name, type, VNI) or (name,
   * outcome). Takes the rows over: they may be rewritten in place, so pass each collection's fresh read (as
   * the decoders return it), never the same rows twice.
   */
  apply(input: MetricsInput): MetricsInput {
    const owner = (ifindex: number): Owner => {
      let found = this.owners.get(ifindex);
      // Never attached by this process (not expected: the maps are its own); named by number, counted as is.
      if (!found) {
        found = { seriesId: this.seriesId(`ifindex-${ifindex}`), baseline: emptyBaseline() };
        this.owners.set(ifindex, found);
      }
      return found;
    };
    // A name made up for an unclaimed ifindex is new, so it cannot make the mapping stop being one to one.
    if (this.oneToOne()) {
      // Baselines are empty too: only an ifindex that changed hands has one, and that makes carried counts.
      let lastIfindex = -1;
      let lastId = 0;
      const id = (ifindex: number) => {
        if (ifindex !== lastIfindex) [lastIfindex, lastId] = [ifindex, owner(ifindex).seriesId];
        return lastId;
      };
      // In place: no copy of 100k rows per collection (the caller hands over fresh rows, see apply's comment).
      for (const r of input.counters.outcomes) r.ifindex = id(r.ifindex);
      for (const r of input.activeFlows) r.ifindex = id(r.ifindex);
      const table = input.counters.vniTable;
      if (!table) {
        for (const r of input.counters.vnis) r.ifindex = id(r.ifindex);
        return input;
      }
      // Columns as read (no row objects): re-keyed in place, in a snapshot of their own.
      for (let i = 0; i < table.count; i++) table.ifindex[i] = id(table.ifindex[i]!);
      return { counters: snapshotOfTable(table, input.counters.outcomes, input.counters.lost), activeFlows: input.activeFlows };
    }
    const vnis = new VniMap<VniCounters>();
    const vniRows: VniCounters[] = [];
    const add = (row: VniCounters, base?: VniValues) => {
      const before = vnis.get(row.ifindex, TUNNEL_TYPE_IDS[row.tunnelType], row.vni);
      addVni(vnis, row, 1, base);
      if (!before) vniRows.push(vnis.get(row.ifindex, TUNNEL_TYPE_IDS[row.tunnelType], row.vni)!);
    };
    this.carriedVnis.forEach((row) => {
      add(row);
    });
    for (const row of input.counters.vnis) {
      const { seriesId, baseline } = owner(row.ifindex);
      add({ ...row, ifindex: seriesId }, baselineOf(baseline, row));
    }
    const outcomes = new Map<string, OutcomeCounters>();
    for (const row of this.carriedOutcomes.values()) addOutcome(outcomes, row);
    for (const row of input.counters.outcomes) {
      const { seriesId, baseline } = owner(row.ifindex);
      addOutcome(outcomes, { ...row, ifindex: seriesId }, baseline.outcomes.get(row.outcome));
    }
    const active = new VniMap<ActiveFlowCount>();
    const activeRows: ActiveFlowCount[] = [];
    for (const row of input.activeFlows) {
      const seriesId = owner(row.ifindex).seriesId;
      const typeId = TUNNEL_TYPE_IDS[row.tunnelType];
      const target = active.get(seriesId, typeId, row.vni);
      if (target) target.flows += row.flows;
      else {
        const fresh = { ...row, ifindex: seriesId };
        active.set(seriesId, typeId, row.vni, fresh);
        activeRows.push(fresh);
      }
    }
    return {
      counters: { vnis: vniRows, outcomes: [...outcomes.values()], lost: input.counters.lost },
      activeFlows: activeRows,
    };
  }
}

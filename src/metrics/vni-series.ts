// Which (interface, tunnel type, VNI) series are reported one by one, and which are summed into the overflow series.
import { packVniKey, TUNNEL_TYPE_IDS, type TunnelType } from '../decode/layout.ts';
import type { VniCounters } from '../decode/records.ts';
import { tunnelTypeName } from '../decode/tunnel-types.ts';
import { VniMap } from '../decode/vni-map.ts';
import { VniTable } from '../decode/vni-table.ts';

export interface VniSeriesKey {
  ifindex: number;
  tunnelType: TunnelType;
  vni: number;
}

/** The admitted series: an exact (interface, tunnel type, VNI) set. */
export type AdmittedVniSeries = VniMap<true>;

/** Whether `admitted` holds the series of `k`. */
export function isAdmittedSeries(admitted: AdmittedVniSeries, k: VniSeriesKey): boolean {
  return admitted.has(k.ifindex, TUNNEL_TYPE_IDS[k.tunnelType], k.vni);
}

/**
 * The admission rule, pure: the set of series keys reported one by one after a collection that saw `rows`.
 * Rows already admitted stay; new ones are admitted while there is room (the largest by bytes first when
 * more are new than there is room for); nothing ever leaves, so no cumulative series (the overflow ones
 * included) can decrease. Returns `admitted` itself when nothing was added.
 */
export function selectVniSeries(
  admitted: AdmittedVniSeries,
  rows: VniTable | ReadonlyArray<VniSeriesKey & { bytes: number }>,
  limit: number,
): AdmittedVniSeries {
  const room = limit - admitted.size;
  if (room <= 0) return admitted;
  const t = rows instanceof VniTable ? rows : VniTable.fromRows(rows.map((r) => ({ ...r, packets: 0, overheadBytes: 0, flows: 0 }) as VniCounters));
  const fresh: number[] = [];
  for (let i = 0; i < t.count; i++) if (!admitted.has(t.ifindex[i]!, t.typeId[i]!, t.vni[i]!)) fresh.push(i);
  if (fresh.length === 0) return admitted;
  // Ties keep input order, so the choice is deterministic.
  if (fresh.length > room) fresh.sort((a, b) => t.bytes[b]! - t.bytes[a]! || a - b);
  const next = admitted.clone();
  let added = 0;
  for (let k = 0; k < fresh.length && added < room; k++) {
    const i = fresh[k]!;
    if (next.has(t.ifindex[i]!, t.typeId[i]!, t.vni[i]!)) continue; // a duplicate row: counted once
    next.set(t.ifindex[i]!, t.typeId[i]!, t.vni[i]!, true);
    added++;
  }
  return next;
}

/** Holds the admitted set for the life of the process; see `selectVniSeries` for the rule. */
export class VniSeriesSelector {
  readonly limit: number;
  private admitted: AdmittedVniSeries = new VniMap<true>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxVniSeries must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Admits new series from this collection's rows while there is room. */
  update(rows: VniTable | ReadonlyArray<VniSeriesKey & { bytes: number }>): void {
    this.admitted = selectVniSeries(this.admitted, rows, this.limit);
  }

  has(k: VniSeriesKey): boolean {
    return isAdmittedSeries(this.admitted, k);
  }

  hasKey(ifindex: number, tunnelTypeId: number, vni: number): boolean {
    return this.admitted.has(ifindex, tunnelTypeId, vni);
  }

  get size(): number {
    return this.admitted.size;
  }
}

/** One admitted series, or the overflow series of one (interface, tunnel type) when `vni` is undefined. */
export interface GroupedVniSeries {
  ifindex: number;
  tunnelType: TunnelType;
  vni: number | undefined;
  /** One value per field, in the order of the `fields` argument; summed over rows (overflow: over VNIs). */
  values: number[];
}

/**
 * Splits rows into admitted series and one summed overflow series per (interface, tunnel type). Overflow rows
 * allocate nothing: with 100k VNIs almost all of them are overflow. `overflowRows` counts the rows summed into
 * overflow: one per VNI, as the maps hold one row per key.
 */
export function groupVniSeries<T extends VniSeriesKey>(
  rows: readonly T[],
  isAdmitted: (row: T) => boolean,
  fields: ReadonlyArray<(row: T) => number>,
): { series: GroupedVniSeries[]; overflowRows: number } {
  const admitted: GroupedVniSeries[] = [];
  const admittedByKey = new VniMap<GroupedVniSeries>();
  // One overflow series per (interface, type), by `packVniKey`.
  const overflow = new Map<number, GroupedVniSeries>();
  let overflowRows = 0;
  let lastTypeName: TunnelType | undefined;
  let typeId = 0;
  let lastGroupKey = -1;
  let lastGroup: GroupedVniSeries | undefined;
  for (const row of rows) {
    let target: GroupedVniSeries | undefined;
    if (row.tunnelType !== lastTypeName) {
      lastTypeName = row.tunnelType;
      typeId = TUNNEL_TYPE_IDS[row.tunnelType];
    }
    if (isAdmitted(row)) {
      target = admittedByKey.get(row.ifindex, typeId, row.vni);
      if (!target) {
        target = { ifindex: row.ifindex, tunnelType: row.tunnelType, vni: row.vni, values: fields.map(() => 0) };
        admittedByKey.set(row.ifindex, typeId, row.vni, target);
        admitted.push(target);
      }
    } else {
      overflowRows++;
      const groupKey = packVniKey(row.ifindex, typeId);
      if (groupKey !== lastGroupKey || !lastGroup) {
        lastGroup = overflow.get(groupKey);
        if (!lastGroup) {
          lastGroup = { ifindex: row.ifindex, tunnelType: row.tunnelType, vni: undefined, values: fields.map(() => 0) };
          overflow.set(groupKey, lastGroup);
        }
        lastGroupKey = groupKey;
      }
      target = lastGroup;
    }
    for (let i = 0; i < fields.length; i++) target.values[i]! += fields[i]!(row);
  }
  return { series: [...admitted, ...overflow.values()], overflowRows };
}

/**
 * `groupVniSeries` over a table of counter rows, the four counters (packets, bytes, overhead bytes, flows) in
 * that order: straight from the columns, no row objects.
 */
export function groupVniTable(
  t: VniTable,
  isAdmitted: (ifindex: number, tunnelTypeId: number, vni: number) => boolean,
): { series: GroupedVniSeries[]; overflowRows: number } {
  const admitted: GroupedVniSeries[] = [];
  const admittedByKey = new VniMap<GroupedVniSeries>();
  const overflow = new Map<number, GroupedVniSeries>();
  let overflowRows = 0;
  let lastGroupKey = -1;
  let lastGroup: GroupedVniSeries | undefined;
  for (let i = 0; i < t.count; i++) {
    const ifindex = t.ifindex[i]!;
    const typeId = t.typeId[i]!;
    const vni = t.vni[i]!;
    let target: GroupedVniSeries | undefined;
    if (isAdmitted(ifindex, typeId, vni)) {
      target = admittedByKey.get(ifindex, typeId, vni);
      if (!target) {
        target = { ifindex, tunnelType: tunnelTypeName(typeId), vni, values: [0, 0, 0, 0] };
        admittedByKey.set(ifindex, typeId, vni, target);
        admitted.push(target);
      }
    } else {
      overflowRows++;
      const groupKey = packVniKey(ifindex, typeId);
      if (groupKey !== lastGroupKey || !lastGroup) {
        lastGroup = overflow.get(groupKey);
        if (!lastGroup) {
          lastGroup = { ifindex, tunnelType: tunnelTypeName(typeId), vni: undefined, values: [0, 0, 0, 0] };
          overflow.set(groupKey, lastGroup);
        }
        lastGroupKey = groupKey;
      }
      target = lastGroup;
    }
    const v = target.values;
    v[0]! += t.packets[i]!;
    v[1]! += t.bytes[i]!;
    v[2]! += t.overheadBytes[i]!;
    v[3]! += t.flows[i]!;
  }
  return { series: [...admitted, ...overflow.values()], overflowRows };
}

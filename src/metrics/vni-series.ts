// Which (interface, tunnel type, VNI) series are reported one by one, and which are summed into the overflow series.
import { packVniKey, TUNNEL_TYPE_IDS, type TunnelType } from '../decode/layout.ts';

export interface VniSeriesKey {
  ifindex: number;
  tunnelType: TunnelType;
  vni: number;
}

/** One number per (interface, type, VNI): `packVniKey`, the one packing. */
export function seriesKey(k: VniSeriesKey): number {
  return packVniKey(k.ifindex, TUNNEL_TYPE_IDS[k.tunnelType], k.vni);
}

/**
 * The admission rule, pure: the set of series keys reported one by one after a collection that saw `rows`.
 * Rows already admitted stay; new ones are admitted while there is room (the largest by bytes first when
 * more are new than there is room for); nothing ever leaves, so no cumulative series (the overflow ones
 * included) can decrease. Returns `admitted` itself when nothing was added.
 */
export function selectVniSeries(
  admitted: ReadonlySet<number>,
  rows: ReadonlyArray<VniSeriesKey & { bytes: number }>,
  limit: number,
): ReadonlySet<number> {
  const room = limit - admitted.size;
  if (room <= 0) return admitted;
  const fresh: Array<{ key: number; bytes: number }> = [];
  const freshKeys = new Set<number>();
  for (const row of rows) {
    const key = seriesKey(row);
    if (admitted.has(key) || freshKeys.has(key)) continue;
    freshKeys.add(key);
    fresh.push({ key, bytes: row.bytes });
  }
  if (fresh.length === 0) return admitted;
  // Ties keep input order (Array.prototype.sort is stable), so the choice is deterministic.
  if (fresh.length > room) fresh.sort((a, b) => b.bytes - a.bytes);
  const next = new Set(admitted);
  for (const { key } of fresh.slice(0, room)) next.add(key);
  return next;
}

/** Holds the admitted set for the life of the process; see `selectVniSeries` for the rule. */
export class VniSeriesSelector {
  readonly limit: number;
  private admitted: ReadonlySet<number> = new Set<number>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxVniSeries must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Admits new series from this collection's rows while there is room. */
  update(rows: ReadonlyArray<VniSeriesKey & { bytes: number }>): void {
    this.admitted = selectVniSeries(this.admitted, rows, this.limit);
  }

  has(k: VniSeriesKey): boolean {
    return this.admitted.has(seriesKey(k));
  }

  hasKey(key: number): boolean {
    return this.admitted.has(key);
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
  isAdmitted: (key: number) => boolean,
  fields: ReadonlyArray<(row: T) => number>,
): { series: GroupedVniSeries[]; overflowRows: number } {
  const admitted = new Map<number, GroupedVniSeries>();
  const overflow = new Map<number, GroupedVniSeries>();
  let overflowRows = 0;
  for (const row of rows) {
    const key = seriesKey(row);
    let target: GroupedVniSeries | undefined;
    if (isAdmitted(key)) {
      target = admitted.get(key);
      if (!target) admitted.set(key, (target = { ifindex: row.ifindex, tunnelType: row.tunnelType, vni: row.vni, values: fields.map(() => 0) }));
    } else {
      overflowRows++;
      const groupKey = key - row.vni; // the same key with VNI 0: one group per (interface, type)
      target = overflow.get(groupKey);
      if (!target) overflow.set(groupKey, (target = { ifindex: row.ifindex, tunnelType: row.tunnelType, vni: undefined, values: fields.map(() => 0) }));
    }
    for (let i = 0; i < fields.length; i++) target.values[i]! += fields[i]!(row);
  }
  return { series: [...admitted.values(), ...overflow.values()], overflowRows };
}

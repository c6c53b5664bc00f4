// Which (interface, tunnel type, VNI) series are reported one by one, and which are summed into the overflow series.

export interface VniSeriesKey {
  ifindex: number;
  tunnelType: string;
  vni: number;
}

export function seriesKey(k: VniSeriesKey): string {
  return `${k.ifindex}/${k.tunnelType}/${k.vni}`;
}

/**
 * Sticky admission: a VNI seen while there is room gets its own series for the life of the process (the
 * largest by bytes first when several appear in one collection); once `limit` are admitted every other VNI
 * goes to the overflow series. The set never shrinks, so no cumulative series (overflow included) decreases.
 */
export class VniSeriesSelector {
  readonly limit: number;
  private readonly admitted = new Set<string>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Admits new VNIs from this collection while there is room; returns the admitted set. */
  update(rows: ReadonlyArray<VniSeriesKey & { bytes: number }>): ReadonlySet<string> {
    if (this.admitted.size < this.limit) {
      const fresh = rows.filter((r) => !this.admitted.has(seriesKey(r))).sort((a, b) => b.bytes - a.bytes);
      for (const r of fresh) {
        if (this.admitted.size >= this.limit) break;
        this.admitted.add(seriesKey(r));
      }
    }
    return this.admitted;
  }

  has(k: VniSeriesKey): boolean {
    return this.admitted.has(seriesKey(k));
  }
}

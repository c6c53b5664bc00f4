// Which (interface, tunnel type, VNI) series are reported one by one, and which are summed into the overflow series.

export interface VniSeriesKey {
  ifindex: number;
  tunnelType: string;
  vni: number;
}

const TYPE_CODES: Record<string, number> = { vxlan: 1, geneve: 2 };

/** One number per (interface, type, VNI): VNI in the low 24 bits, type in the next 2, ifindex above. */
export function seriesKey(k: VniSeriesKey): number {
  return k.vni + (TYPE_CODES[k.tunnelType] ?? 3) * 2 ** 24 + k.ifindex * 2 ** 26;
}

/**
 * Sticky admission: a VNI seen while there is room gets its own series for the life of the process (the
 * largest by bytes first when several appear in one collection); once `limit` are admitted every other VNI
 * goes to the overflow series. The set never shrinks, so no cumulative series (overflow included) decreases.
 */
export class VniSeriesSelector {
  readonly limit: number;
  private readonly admitted = new Set<number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Admits new VNIs from this collection while there is room; returns the admitted set. */
  update(rows: ReadonlyArray<VniSeriesKey & { bytes: number }>): ReadonlySet<number> {
    if (this.admitted.size < this.limit) {
      const fresh = rows.filter((r) => !this.admitted.has(seriesKey(r)));
      if (fresh.length > this.limit - this.admitted.size) fresh.sort((a, b) => b.bytes - a.bytes);
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

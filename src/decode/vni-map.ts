// An exact map keyed by (ifindex, tunnel type, 32-bit segment id): one inner map per (interface, type), by segment id.
import { packVniKey, unpackVniKey } from './layout.ts';

/**
 * Keys are exact for every u32 ifindex and every 32-bit segment id (68 bits: no single number holds them). Rows
 * come in runs of one interface and type, so the last inner map is remembered and most look-ups are one
 * segment-id look-up in a map of small integer keys.
 */
export class VniMap<T> {
  private readonly groups = new Map<number, Map<number, T>>();
  private lastKey = -1;
  private last: Map<number, T> | undefined;

  /** The inner map of (ifindex, type), by segment id, created when missing: for a run of rows of one group. */
  inner(ifindex: number, tunnelTypeId: number): Map<number, T> {
    return this.group(ifindex, tunnelTypeId, true)!;
  }

  private group(ifindex: number, tunnelTypeId: number, create: boolean): Map<number, T> | undefined {
    const key = packVniKey(ifindex, tunnelTypeId);
    if (key === this.lastKey && this.last) return this.last;
    let group = this.groups.get(key);
    if (!group) {
      if (!create) return undefined;
      group = new Map();
      this.groups.set(key, group);
    }
    this.lastKey = key;
    this.last = group;
    return group;
  }

  get(ifindex: number, tunnelTypeId: number, vni: number): T | undefined {
    return this.group(ifindex, tunnelTypeId, false)?.get(vni);
  }

  has(ifindex: number, tunnelTypeId: number, vni: number): boolean {
    return this.group(ifindex, tunnelTypeId, false)?.has(vni) ?? false;
  }

  set(ifindex: number, tunnelTypeId: number, vni: number, value: T): this {
    this.group(ifindex, tunnelTypeId, true)!.set(vni, value);
    return this;
  }

  delete(ifindex: number, tunnelTypeId: number, vni: number): boolean {
    return this.group(ifindex, tunnelTypeId, false)?.delete(vni) ?? false;
  }

  get size(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.size;
    return n;
  }

  /** A copy (the values themselves are shared). */
  clone(): VniMap<T> {
    const copy = new VniMap<T>();
    for (const [key, group] of this.groups) copy.groups.set(key, new Map(group));
    return copy;
  }

  /** Every entry, one (interface, type) after another. */
  forEach(visit: (value: T, ifindex: number, tunnelTypeId: number, vni: number) => void): void {
    for (const [key, group] of this.groups) {
      const { ifindex, tunnelTypeId } = unpackVniKey(key);
      for (const [vni, value] of group) visit(value, ifindex, tunnelTypeId, vni);
    }
  }

  /** Every entry as [ifindex, tunnel type id, segment id, value]. */
  entries(): Array<[number, number, number, T]> {
    const out: Array<[number, number, number, T]> = [];
    this.forEach((value, ifindex, tunnelTypeId, vni) => void out.push([ifindex, tunnelTypeId, vni, value]));
    return out;
  }
}

// What every decoder reads: the raw entries of one map as libbpf returns them, and the per-CPU layout of its values.

/** Raw entries of one map: `count` keys of `keySize` bytes and values of `valueSize` bytes, packed. */
export interface RawEntries {
  count: number;
  keys: Buffer;
  values: Buffer;
}

/** Per-CPU layout of a map's values: slot stride (value size rounded to 8) and CPU count. */
export interface PerCpuLayout {
  stride: number;
  cpus: number;
}

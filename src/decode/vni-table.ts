// Per-VNI counter rows in columns (typed arrays): 100k VNIs per collection without 100k row objects.
import { TUNNEL_TYPE_IDS } from './layout.ts';
import type { VniCounters } from './records.ts';
import { tunnelTypeName } from './tunnel-types.ts';

/**
 * Rows of (ifindex, tunnel type id, segment id) and their four counters. A row object costs over 100 bytes of
 * heap once counters outgrow small integers (each becomes a boxed double); a row here costs 41 bytes, off the
 * heap, in one buffer.
 */
export class VniTable {
  count = 0;
  ifindex: Uint32Array;
  vni: Uint32Array;
  typeId: Uint8Array;
  packets: Float64Array;
  bytes: Float64Array;
  overheadBytes: Float64Array;
  flows: Float64Array;

  constructor(capacity = 1024) {
    const c = Math.max(1, capacity);
    const buf = new ArrayBuffer(c * 41);
    this.packets = new Float64Array(buf, 0, c);
    this.bytes = new Float64Array(buf, c * 8, c);
    this.overheadBytes = new Float64Array(buf, c * 16, c);
    this.flows = new Float64Array(buf, c * 24, c);
    this.ifindex = new Uint32Array(buf, c * 32, c);
    this.vni = new Uint32Array(buf, c * 36, c);
    this.typeId = new Uint8Array(buf, c * 40, c);
  }

  get capacity(): number {
    return this.vni.length;
  }

  /** Makes room for `n` more rows. */
  reserve(n: number): void {
    if (this.count + n <= this.capacity) return;
    const next = new VniTable(Math.max(this.count + n, this.capacity * 2));
    for (const col of ['packets', 'bytes', 'overheadBytes', 'flows', 'ifindex', 'vni', 'typeId'] as const) {
      (next[col] as Float64Array).set((this[col] as Float64Array).subarray(0, this.count));
      (this[col] as Float64Array) = next[col] as Float64Array;
    }
  }

  push(ifindex: number, typeId: number, vni: number, packets: number, bytes: number, overheadBytes: number, flows: number): void {
    this.reserve(1);
    const i = this.count++;
    this.ifindex[i] = ifindex;
    this.typeId[i] = typeId;
    this.vni[i] = vni;
    this.packets[i] = packets;
    this.bytes[i] = bytes;
    this.overheadBytes[i] = overheadBytes;
    this.flows[i] = flows;
  }

  /**
   * Frees the columns now rather than at the next full GC (100k rows are 4 MB outside the heap, one table per
   * collection): for the one consumer of a table read for it. Reading rows afterwards throws.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.count = 0;
    // ArrayBuffer.prototype.transfer (ES2024, Node >= 21) detaches the buffer and frees its memory at once.
    const buffer = this.vni.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
    if (typeof buffer.transfer === 'function' && !buffer.detached) buffer.transfer(0);
  }

  private released = false;

  row(i: number): VniCounters {
    if (this.released) throw new Error('VniTable: rows read after release(): the collection that read them has consumed them');
    return {
      ifindex: this.ifindex[i]!,
      tunnelType: tunnelTypeName(this.typeId[i]!),
      vni: this.vni[i]!,
      packets: this.packets[i]!,
      bytes: this.bytes[i]!,
      overheadBytes: this.overheadBytes[i]!,
      flows: this.flows[i]!,
    };
  }

  /** The rows as objects (for readers that want them: status, replay, tests). */
  rows(): VniCounters[] {
    if (this.released) throw new Error('VniTable: rows read after release(): the collection that read them has consumed them');
    const out: VniCounters[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.row(i);
    return out;
  }

  static fromRows(rows: readonly VniCounters[]): VniTable {
    const table = new VniTable(rows.length);
    for (const r of rows) table.push(r.ifindex, TUNNEL_TYPE_IDS[r.tunnelType], r.vni, r.packets, r.bytes, r.overheadBytes, r.flows);
    return table;
  }
}

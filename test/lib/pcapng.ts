// Builds pcapng files byte by byte for tests: sections, interfaces (snaplen, tsresol, tsoffset) and packet blocks, in either byte order.

export interface PcapngInterfaceSpec {
  linkType?: number;
  snaplen?: number;
  /** if_tsresol byte: 6 = microseconds (the default), 9 = nanoseconds, 0x80|n = 2^-n. */
  tsresol?: number;
  tsoffset?: bigint;
}

export type PcapngBlockSpec =
  | { kind: 'interface'; spec?: PcapngInterfaceSpec }
  | { kind: 'epb'; iface?: number; timestamp: bigint; data: Buffer; origLen?: number }
  | { kind: 'spb'; data: Buffer; origLen?: number }
  | { kind: 'other'; type: number; body: Buffer };

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** One block: type, total length, body padded to 4, total length. */
function block(type: number, body: Buffer, le: boolean): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc(pad4(body.length))]);
  const total = padded.length + 12;
  const out = Buffer.alloc(total);
  const w = (v: number, at: number) => (le ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  w(type, 0);
  w(total, 4);
  padded.copy(out, 8);
  w(total, total - 4);
  return out;
}

/** A pcapng file: one Section Header Block, then `blocks`. */
export function pcapng(blocks: readonly PcapngBlockSpec[], littleEndian = true): Buffer {
  const le = littleEndian;
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  };
  const i64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    if (le) b.writeBigInt64LE(v);
    else b.writeBigInt64BE(v);
    return b;
  };
  const option = (code: number, value: Buffer) => Buffer.concat([u16(code), u16(value.length), value, Buffer.alloc(pad4(value.length))]);
  const out: Buffer[] = [block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), i64(-1n)]), le)];
  for (const b of blocks) {
    if (b.kind === 'interface') {
      const s = b.spec ?? {};
      const options = [
        ...(s.tsresol !== undefined ? [option(9, Buffer.from([s.tsresol]))] : []),
        ...(s.tsoffset !== undefined ? [option(14, i64(s.tsoffset))] : []),
      ];
      const end = options.length ? [u32(0)] : [];
      out.push(block(1, Buffer.concat([u16(s.linkType ?? 1), u16(0), u32(s.snaplen ?? 262144), ...options, ...end]), le));
    } else if (b.kind === 'epb') {
      const body = Buffer.concat([
        u32(b.iface ?? 0),
        u32(Number(b.timestamp >> 32n)),
        u32(Number(b.timestamp & 0xffffffffn)),
        u32(b.data.length),
        u32(b.origLen ?? b.data.length),
        b.data,
      ]);
      out.push(block(6, body, le));
    } else if (b.kind === 'spb') {
      out.push(block(3, Buffer.concat([u32(b.origLen ?? b.data.length), b.data]), le));
    } else {
      out.push(block(b.type, b.body, le));
    }
  }
  return Buffer.concat(out);
}

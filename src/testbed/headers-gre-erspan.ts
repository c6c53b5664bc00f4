// The tunnel headers carried over IP protocol 47: GRE, and the ERSPAN type II and III headers inside it.
import { internetChecksum } from './headers-l2-l4.ts';

/** GRE protocol types of the ERSPAN flavours (type I and II share 0x88BE). */
export const GRE_PROTOCOL = { teb: 0x6558, erspan2: 0x88be, erspan3: 0x22eb, ipv4: 0x0800, ipv6: 0x86dd, mpls: 0x8847 } as const;

/** RFC 2784/2890 GRE: C, R, K, S bits and version; optional fields in order checksum+reserved1, key, sequence. */
export function gre(o: { checksum?: boolean; key?: number; seq?: number; protocol: number; version?: number; routing?: boolean; payload: Buffer }): Buffer {
  const flags =
    (o.checksum ? 0x8000 : 0) | (o.routing ? 0x4000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.seq !== undefined ? 0x1000 : 0) | ((o.version ?? 0) & 7);
  const h = Buffer.alloc(4 + (o.checksum ? 4 : 0) + (o.key !== undefined ? 4 : 0) + (o.seq !== undefined ? 4 : 0));
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(o.protocol, 2);
  let at = 4 + (o.checksum ? 4 : 0);
  if (o.key !== undefined) {
    h.writeUInt32BE(o.key >>> 0, at);
    at += 4;
  }
  if (o.seq !== undefined) h.writeUInt32BE(o.seq >>> 0, at);
  if (o.checksum) h.writeUInt16BE(internetChecksum(h, o.payload), 4);
  return Buffer.concat([h, o.payload]);
}

/** ERSPAN type II header (8 bytes): ver(4)=1 vlan(12) | cos(3) en(2) t(1) session id(10) | reserved(12) index(20). */
export function erspan2(o: { sessionId: number; vlan?: number; version?: number; index?: number; payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE((((o.version ?? 1) & 0xf) << 12) | ((o.vlan ?? 0) & 0xfff), 0);
  h.writeUInt16BE(o.sessionId & 0x3ff, 2);
  h.writeUInt32BE((o.index ?? 0) & 0xfffff, 4);
  return Buffer.concat([h, o.payload]);
}

/**
 * ERSPAN type III header (12 bytes): ver(4)=2 vlan(12) | cos(3) bso(2) t(1) session id(10) | timestamp(32) |
 * sgt(16) | p(1) ft(5) hw id(6) d(1) gra(2) o(1); with `o` (the 8-byte platform-specific subheader) the O bit is set.
 */
export function erspan3(o: {
  sessionId: number;
  frameType?: number;
  o?: Buffer;
  version?: number;
  vlan?: number;
  timestamp?: number;
  payload: Buffer;
}): Buffer {
  if (o.o && o.o.length !== 8) throw new Error('the ERSPAN III platform subheader is 8 bytes');
  const h = Buffer.alloc(12);
  h.writeUInt16BE((((o.version ?? 2) & 0xf) << 12) | ((o.vlan ?? 0) & 0xfff), 0);
  h.writeUInt16BE(o.sessionId & 0x3ff, 2);
  h.writeUInt32BE((o.timestamp ?? 0) >>> 0, 4);
  h.writeUInt16BE((((o.frameType ?? 0) & 0x1f) << 10) | (o.o ? 1 : 0), 10);
  return Buffer.concat([h, o.o ?? Buffer.alloc(0), o.payload]);
}

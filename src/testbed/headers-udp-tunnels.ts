// The tunnel headers carried over UDP: VXLAN, Geneve and VXLAN-GPE.
import { ETHERTYPE } from './headers-l2-l4.ts';

/** VXLAN-GPE next protocol values. */
export const GPE_NEXT = { ipv4: 1, ipv6: 2, ethernet: 3, nsh: 4 } as const;

/** RFC 7348: flags (I bit 0x08), 24 reserved bits, VNI, 8 reserved bits. */
export function vxlan(o: { vni: number; flags?: number; payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.flags ?? 0x08;
  h.writeUIntBE(o.vni & 0xffffff, 4, 3);
  return Buffer.concat([h, o.payload]);
}

/** RFC 8926: ver/opt_len, O/C flags, protocol type, VNI, options. */
export function geneve(o: {
  vni: number;
  protocolType?: number;
  version?: number;
  oam?: boolean;
  critical?: boolean;
  options?: Buffer;
  payload: Buffer;
}): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  if (options.length % 4 || options.length > 252) throw new Error('Geneve options are 4-byte words, at most 63');
  const h = Buffer.alloc(8);
  h[0] = ((o.version ?? 0) << 6) | (options.length / 4);
  h[1] = (o.oam ? 0x80 : 0) | (o.critical ? 0x40 : 0);
  h.writeUInt16BE(o.protocolType ?? ETHERTYPE.teb, 2);
  h.writeUIntBE(o.vni & 0xffffff, 4, 3);
  return Buffer.concat([h, options, o.payload]);
}

/** VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): flags R R Ver(2) I P B O (default I|P), reserved, next protocol, VNI, reserved. */
export function vxlanGpe(o: { vni: number; nextProtocol: number; flags?: number; payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.flags ?? 0x0c;
  h[3] = o.nextProtocol;
  h.writeUIntBE(o.vni & 0xffffff, 4, 3);
  return Buffer.concat([h, o.payload]);
}

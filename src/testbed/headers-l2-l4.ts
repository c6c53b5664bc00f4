// Ethernet (+ VLAN tags), IPv4 (+ options, fragments), IPv6 (+ extension headers), UDP, TCP and ICMP echo headers, byte for byte.
import ipaddr from 'ipaddr.js';

export const ETHERTYPE = { ipv4: 0x0800, ipv6: 0x86dd, arp: 0x0806, vlan: 0x8100, qinq: 0x88a8, teb: 0x6558 } as const;
export const IPPROTO = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
  icmpv6: 58,
  sctp: 132,
  hopopts: 0,
  routing: 43,
  fragment: 44,
  dstopts: 60,
  ah: 51,
  mobility: 135,
  hip: 139,
  shim6: 140,
} as const;

export interface VlanTag {
  tpid: 0x8100 | 0x88a8;
  vid: number;
}

function mac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC ${text}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

function ipBytes(text: string): Buffer {
  return Buffer.from(ipaddr.parse(text).toByteArray());
}

/** RFC 1071 ones'-complement sum over `parts`, folded, complemented. */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  const all = Buffer.concat(parts);
  for (let i = 0; i + 1 < all.length; i += 2) sum += all.readUInt16BE(i);
  if (all.length % 2) sum += (all[all.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ethernet(o: { dst?: string; src?: string; vlans?: VlanTag[]; etherType: number; payload: Buffer }): Buffer {
  const tags = (o.vlans ?? []).map((_, i, all) => {
    const t = Buffer.alloc(4);
    // Each tag's TPID sits in the previous field; the tag carries the next TPID / EtherType after it.
    t.writeUInt16BE(o.vlans![i]!.vid & 0x0fff, 0);
    t.writeUInt16BE(i + 1 < all.length ? all[i + 1]!.tpid : o.etherType, 2);
    return t;
  });
  const head = Buffer.alloc(14);
  mac(o.dst ?? '02:00:00:00:00:02').copy(head, 0);
  mac(o.src ?? '02:00:00:00:00:01').copy(head, 6);
  head.writeUInt16BE(o.vlans?.length ? o.vlans[0]!.tpid : o.etherType, 12);
  return Buffer.concat([head, ...tags, o.payload]);
}

export function ipv4(o: {
  src: string;
  dst: string;
  protocol: number;
  payload: Buffer;
  options?: Buffer;
  ttl?: number;
  id?: number;
  moreFragments?: boolean;
  fragOffset?: number;
  ihl?: number;
}): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  if (options.length % 4) throw new Error('IPv4 options must be a multiple of 4 bytes');
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | (o.ihl ?? 5 + options.length / 4);
  h.writeUInt16BE(h.length + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE((o.moreFragments ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  ipBytes(o.src).copy(h, 12);
  ipBytes(o.dst).copy(h, 16);
  options.copy(h, 20);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([h, o.payload]);
}

export interface Ipv6Extension {
  type: number;
  /** Body after the 2-byte next-header/length; padded to a multiple of 8 bytes in all. */
  body?: Buffer;
}

export function ipv6(o: { src: string; dst: string; nextHeader: number; payload: Buffer; extensions?: Ipv6Extension[]; hopLimit?: number }): Buffer {
  const exts = o.extensions ?? [];
  const extBufs = exts.map((e, i) => {
    const next = i + 1 < exts.length ? exts[i + 1]!.type : o.nextHeader;
    if (e.type === IPPROTO.fragment) {
      const f = Buffer.alloc(8);
      f[0] = next;
      (e.body ?? Buffer.alloc(6)).copy(f, 2, 0, 6);
      return f;
    }
    const body = e.body ?? Buffer.alloc(6);
    const len = Math.ceil((body.length + 2) / 8) * 8;
    const b = Buffer.alloc(len);
    b[0] = next;
    b[1] = len / 8 - 1;
    body.copy(b, 2);
    return b;
  });
  const rest = Buffer.concat([...extBufs, o.payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(rest.length, 4);
  h[6] = exts.length ? exts[0]!.type : o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  ipBytes(o.src).copy(h, 8);
  ipBytes(o.dst).copy(h, 24);
  return Buffer.concat([h, rest]);
}

/** UDP; with `pseudo` (outer addresses) the checksum is computed, else 0 (allowed over IPv4). */
export function udp(o: { sport: number; dport: number; payload: Buffer; pseudo?: { src: string; dst: string } }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(8 + o.payload.length, 4);
  if (o.pseudo) {
    const src = ipBytes(o.pseudo.src);
    const pseudo = Buffer.alloc(src.length === 4 ? 12 : 40);
    if (src.length === 4) {
      src.copy(pseudo, 0);
      ipBytes(o.pseudo.dst).copy(pseudo, 4);
      pseudo[9] = IPPROTO.udp;
      pseudo.writeUInt16BE(8 + o.payload.length, 10);
    } else {
      src.copy(pseudo, 0);
      ipBytes(o.pseudo.dst).copy(pseudo, 16);
      pseudo.writeUInt32BE(8 + o.payload.length, 32);
      pseudo[39] = IPPROTO.udp;
    }
    h.writeUInt16BE(internetChecksum(pseudo, h, o.payload) || 0xffff, 6);
  }
  return Buffer.concat([h, o.payload]);
}

export function tcp(o: { sport: number; dport: number; flags?: number; seq?: number; payload?: Buffer }): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(o.seq ?? 1, 4);
  h[12] = 5 << 4;
  h[13] = o.flags ?? 0x02; // SYN
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export function icmpEcho(o: { id?: number; seq?: number; payload?: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 8;
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(o.seq ?? 1, 6);
  const msg = Buffer.concat([h, o.payload ?? Buffer.alloc(32)]);
  msg.writeUInt16BE(internetChecksum(msg), 2);
  return msg;
}

/** IPv6 fragment extension header: 13-bit offset (in 8-byte units), M flag, identification. */
export function ipv6Fragment(o: { offset?: number; more?: boolean; id?: number } = {}): Ipv6Extension {
  const body = Buffer.alloc(6);
  body.writeUInt16BE((((o.offset ?? 0) & 0x1fff) << 3) | (o.more ? 1 : 0), 0);
  body.writeUInt32BE(o.id ?? 1, 2);
  return { type: IPPROTO.fragment, body };
}

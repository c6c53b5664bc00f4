// Frame builders for tests and the demo: Ethernet/VLAN, IPv4/IPv6, UDP/TCP/ICMP, VXLAN and Geneve, composable.
import ipaddr from 'ipaddr.js';

export const ETHERTYPE = { ipv4: 0x0800, ipv6: 0x86dd, arp: 0x0806, vlan: 0x8100, qinq: 0x88a8, teb: 0x6558 } as const;
export const IPPROTO = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, hopopts: 0, routing: 43, fragment: 44, dstopts: 60 } as const;

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
  src: string; dst: string; protocol: number; payload: Buffer;
  options?: Buffer; ttl?: number; id?: number; moreFragments?: boolean; fragOffset?: number; ihl?: number;
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

/** RFC 7348: flags (I bit 0x08), 24 reserved bits, VNI, 8 reserved bits. */
export function vxlan(o: { vni: number; flags?: number; payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.flags ?? 0x08;
  h.writeUIntBE(o.vni & 0xffffff, 4, 3);
  return Buffer.concat([h, o.payload]);
}

/** RFC 8926: ver/opt_len, O/C flags, protocol type, VNI, options. */
export function geneve(o: { vni: number; protocolType?: number; version?: number; oam?: boolean; critical?: boolean; options?: Buffer; payload: Buffer }): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  if (options.length % 4 || options.length > 252) throw new Error('Geneve options are 4-byte words, at most 63');
  const h = Buffer.alloc(8);
  h[0] = ((o.version ?? 0) << 6) | (options.length / 4);
  h[1] = (o.oam ? 0x80 : 0) | (o.critical ? 0x40 : 0);
  h.writeUInt16BE(o.protocolType ?? ETHERTYPE.teb, 2);
  h.writeUIntBE(o.vni & 0xffffff, 4, 3);
  return Buffer.concat([h, options, o.payload]);
}

export interface InnerFrameOptions {
  src: string;
  dst: string;
  protocol: 'udp' | 'tcp' | 'icmp';
  sport?: number;
  dport?: number;
  payloadSize?: number;
  srcMac?: string;
  dstMac?: string;
  vlans?: VlanTag[];
}

/** A client frame as a VM would send it: Ethernet + IPv4/IPv6 + UDP/TCP/ICMP. */
export function innerFrame(o: InnerFrameOptions): Buffer {
  const payload = Buffer.alloc(o.payloadSize ?? 32, 0x5a);
  const v6 = o.src.includes(':');
  let l4: Buffer;
  let proto: number;
  if (o.protocol === 'udp') {
    l4 = udp({ sport: o.sport ?? 40000, dport: o.dport ?? 53, payload, pseudo: v6 ? { src: o.src, dst: o.dst } : undefined });
    proto = IPPROTO.udp;
  } else if (o.protocol === 'tcp') {
    l4 = tcp({ sport: o.sport ?? 40000, dport: o.dport ?? 443, payload });
    proto = IPPROTO.tcp;
  } else {
    l4 = icmpEcho({ payload });
    proto = v6 ? IPPROTO.icmpv6 : IPPROTO.icmp;
  }
  const ip = v6 ? ipv6({ src: o.src, dst: o.dst, nextHeader: proto, payload: l4 }) : ipv4({ src: o.src, dst: o.dst, protocol: proto, payload: l4 });
  return ethernet({ src: o.srcMac ?? '52:54:00:00:00:01', dst: o.dstMac ?? '52:54:00:00:00:02', vlans: o.vlans, etherType: v6 ? ETHERTYPE.ipv6 : ETHERTYPE.ipv4, payload: ip });
}

export interface TunnelFrameOptions {
  outerSrc: string;
  outerDst: string;
  vni: number;
  inner: Buffer;
  srcMac?: string;
  dstMac?: string;
  vlans?: VlanTag[];
  dport?: number;
  sport?: number;
  ipv4Options?: Buffer;
}

export interface TunnelFrame {
  frame: Buffer;
  /** The bytes a correct decap leaves: the inner Ethernet frame. */
  inner: Buffer;
  /** Outer bytes a correct decap removes. */
  overhead: number;
}

function wrap(o: TunnelFrameOptions, tunnelHeaderAndInner: Buffer, dport: number): TunnelFrame {
  const v6 = o.outerSrc.includes(':');
  const l4 = udp({ sport: o.sport ?? 49152, dport, payload: tunnelHeaderAndInner, pseudo: v6 ? { src: o.outerSrc, dst: o.outerDst } : undefined });
  const ip = v6
    ? ipv6({ src: o.outerSrc, dst: o.outerDst, nextHeader: IPPROTO.udp, payload: l4 })
    : ipv4({ src: o.outerSrc, dst: o.outerDst, protocol: IPPROTO.udp, payload: l4, options: o.ipv4Options });
  const frame = ethernet({ src: o.srcMac, dst: o.dstMac, vlans: o.vlans, etherType: v6 ? ETHERTYPE.ipv6 : ETHERTYPE.ipv4, payload: ip });
  return { frame, inner: o.inner, overhead: frame.length - o.inner.length };
}

export function vxlanFrame(o: TunnelFrameOptions & { flags?: number }): TunnelFrame {
  return wrap(o, vxlan({ vni: o.vni, flags: o.flags, payload: o.inner }), o.dport ?? 4789);
}

export function geneveFrame(o: TunnelFrameOptions & { options?: Buffer; protocolType?: number; version?: number; oam?: boolean }): TunnelFrame {
  return wrap(o, geneve({ vni: o.vni, options: o.options, protocolType: o.protocolType, version: o.version, oam: o.oam, payload: o.inner }), o.dport ?? 6081);
}

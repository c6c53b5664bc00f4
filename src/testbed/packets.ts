// Frame builders for tests and the demo: Ethernet/VLAN, IPv4/IPv6 (+ extension headers), UDP/TCP/ICMP, VXLAN, Geneve, VXLAN-GPE, GRE, ERSPAN I/II/III, nestable.
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
/** GRE protocol types of the ERSPAN flavours (type I and II share 0x88BE). */
export const GRE_PROTOCOL = { teb: 0x6558, erspan2: 0x88be, erspan3: 0x22eb, ipv4: 0x0800, ipv6: 0x86dd, mpls: 0x8847 } as const;
/** VXLAN-GPE next protocol values. */
export const GPE_NEXT = { ipv4: 1, ipv6: 2, ethernet: 3, nsh: 4 } as const;

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
  return ethernet({
    src: o.srcMac ?? '52:54:00:00:00:01',
    dst: o.dstMac ?? '52:54:00:00:00:02',
    vlans: o.vlans,
    etherType: v6 ? ETHERTYPE.ipv6 : ETHERTYPE.ipv4,
    payload: ip,
  });
}

export interface TunnelFrameOptions extends OuterOptions {
  vni: number;
  inner: Buffer;
  dport?: number;
}

/** The outer Ethernet + IP frame around a tunnel (UDP port or GRE). */
export interface OuterOptions {
  outerSrc: string;
  outerDst: string;
  srcMac?: string;
  dstMac?: string;
  vlans?: VlanTag[];
  sport?: number;
  ipv4Options?: Buffer;
  /** IPv6 outers: extension headers between the fixed header and UDP/GRE. */
  ipv6Extensions?: Ipv6Extension[];
  /** IPv4 outers: the MF bit (a first fragment). */
  moreFragments?: boolean;
}

export interface TunnelFrame {
  frame: Buffer;
  /** The bytes a correct decap leaves: the inner Ethernet frame (for IP payloads, with the Ethernet header written in front). */
  inner: Buffer;
  /** Outer bytes a correct decap removes (frame length - inner length). */
  overhead: number;
  /** The innermost tunnel's type and segment id (what the counters key it by). */
  type?: string;
  vni?: number;
  /** Set when the innermost payload is an IP packet: the EtherType and packet the written Ethernet header goes in front of. */
  ipPayload?: { etherType: number; packet: Buffer };
}

const DEFAULT_OUTER_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_OUTER_DST_MAC = '02:00:00:00:00:02';

/** IPv6 fragment extension header: 13-bit offset (in 8-byte units), M flag, identification. */
export function ipv6Fragment(o: { offset?: number; more?: boolean; id?: number } = {}): Ipv6Extension {
  const body = Buffer.alloc(6);
  body.writeUInt16BE((((o.offset ?? 0) & 0x1fff) << 3) | (o.more ? 1 : 0), 0);
  body.writeUInt32BE(o.id ?? 1, 2);
  return { type: IPPROTO.fragment, body };
}

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

/** VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): flags R R Ver(2) I P B O (default I|P), reserved, next protocol, VNI, reserved. */
export function vxlanGpe(o: { vni: number; nextProtocol: number; flags?: number; payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.flags ?? 0x0c;
  h[3] = o.nextProtocol;
  h.writeUIntBE(o.vni & 0xffffff, 4, 3);
  return Buffer.concat([h, o.payload]);
}

/** One tunnel level, as `encapsulate` builds it. */
export type TunnelSpec =
  | { type: 'vxlan'; vni: number; flags?: number; dport?: number }
  | { type: 'geneve'; vni: number; protocolType?: number; options?: Buffer; version?: number; oam?: boolean; dport?: number }
  | { type: 'vxlan-gpe'; vni: number; nextProtocol?: number; flags?: number; dport?: number }
  | { type: 'gre'; key?: number; checksum?: boolean; seq?: number; protocol?: number; version?: number; routing?: boolean }
  | {
      type: 'erspan';
      erspanType: 1 | 2 | 3;
      sessionId?: number;
      version?: number;
      vlan?: number;
      index?: number;
      frameType?: number;
      subheader?: Buffer;
      checksum?: boolean;
      key?: number;
      seq?: number;
    };

/** The EtherType of the IP payload a tunnel level announces, or undefined for an Ethernet (or other) payload. */
function ipPayloadType(t: TunnelSpec): number | undefined {
  if (t.type === 'geneve' && (t.protocolType === ETHERTYPE.ipv4 || t.protocolType === ETHERTYPE.ipv6)) return t.protocolType;
  if (t.type === 'vxlan-gpe' && t.nextProtocol === GPE_NEXT.ipv4) return ETHERTYPE.ipv4;
  if (t.type === 'vxlan-gpe' && t.nextProtocol === GPE_NEXT.ipv6) return ETHERTYPE.ipv6;
  return undefined;
}

/** The segment id the counters key a level by. */
function segmentIdOf(t: TunnelSpec): number {
  if (t.type === 'gre') return t.key ?? 0;
  if (t.type === 'erspan') return t.erspanType === 1 ? 0 : (t.sessionId ?? 0) & 0x3ff;
  return t.vni & 0xffffff;
}

/** The tunnel header(s) of one level around `payload`, and the carrier: UDP destination port or GRE (port undefined). */
function tunnelBytes(t: TunnelSpec, payload: Buffer): { bytes: Buffer; dport?: number } {
  switch (t.type) {
    case 'vxlan':
      return { bytes: vxlan({ vni: t.vni, flags: t.flags, payload }), dport: t.dport ?? 4789 };
    case 'geneve':
      return {
        bytes: geneve({ vni: t.vni, protocolType: t.protocolType, options: t.options, version: t.version, oam: t.oam, payload }),
        dport: t.dport ?? 6081,
      };
    case 'vxlan-gpe':
      return { bytes: vxlanGpe({ vni: t.vni, nextProtocol: t.nextProtocol ?? GPE_NEXT.ethernet, flags: t.flags, payload }), dport: t.dport ?? 4790 };
    case 'gre':
      return {
        bytes: gre({ checksum: t.checksum, key: t.key, seq: t.seq, protocol: t.protocol ?? GRE_PROTOCOL.teb, version: t.version, routing: t.routing, payload }),
      };
    case 'erspan': {
      const common = { checksum: t.checksum, key: t.key };
      if (t.erspanType === 1) return { bytes: gre({ ...common, seq: t.seq, protocol: GRE_PROTOCOL.erspan2, payload }) };
      if (t.erspanType === 2) {
        return {
          bytes: gre({
            ...common,
            seq: t.seq ?? 1,
            protocol: GRE_PROTOCOL.erspan2,
            payload: erspan2({ sessionId: t.sessionId ?? 0, vlan: t.vlan, version: t.version, index: t.index, payload }),
          }),
        };
      }
      return {
        bytes: gre({
          ...common,
          seq: t.seq ?? 1,
          protocol: GRE_PROTOCOL.erspan3,
          payload: erspan3({ sessionId: t.sessionId ?? 0, vlan: t.vlan, version: t.version, frameType: t.frameType, o: t.subheader, payload }),
        }),
      };
    }
  }
}

/** Outer Ethernet + IPv4/IPv6 (+ UDP when `dport` is set, else GRE's IP protocol 47) around `l4payload`. */
function outerFrame(o: OuterOptions, l4payload: Buffer, dport: number | undefined): Buffer {
  const v6 = o.outerSrc.includes(':');
  const l4 =
    dport === undefined
      ? l4payload
      : udp({ sport: o.sport ?? 49152, dport, payload: l4payload, pseudo: v6 ? { src: o.outerSrc, dst: o.outerDst } : undefined });
  const protocol = dport === undefined ? IPPROTO.gre : IPPROTO.udp;
  const ip = v6
    ? ipv6({ src: o.outerSrc, dst: o.outerDst, nextHeader: protocol, payload: l4, extensions: o.ipv6Extensions })
    : ipv4({ src: o.outerSrc, dst: o.outerDst, protocol, payload: l4, options: o.ipv4Options, moreFragments: o.moreFragments });
  return ethernet({
    src: o.srcMac ?? DEFAULT_OUTER_SRC_MAC,
    dst: o.dstMac ?? DEFAULT_OUTER_DST_MAC,
    vlans: o.vlans,
    etherType: v6 ? ETHERTYPE.ipv6 : ETHERTYPE.ipv4,
    payload: ip,
  });
}

/** The Ethernet header xdp-decap writes in front of an IP payload: the outermost frame's MACs, the payload's EtherType. */
export function writtenEthernet(o: { srcMac?: string; dstMac?: string }, etherType: number, packet: Buffer): Buffer {
  return ethernet({ src: o.srcMac ?? DEFAULT_OUTER_SRC_MAC, dst: o.dstMac ?? DEFAULT_OUTER_DST_MAC, etherType, payload: packet });
}

/**
 * Wraps `inner` (an Ethernet frame, or an already built TunnelFrame to nest) in one tunnel level and an outer
 * frame. For IP payloads (Geneve 0x0800/0x86DD, GPE 1/2) the inner frame's 14-byte Ethernet header is dropped
 * (it must have no VLAN tag) and the expected output gets the written Ethernet header instead.
 */
export function encapsulate(o: OuterOptions & { tunnel: TunnelSpec; inner: Buffer | TunnelFrame }): TunnelFrame {
  const nested = Buffer.isBuffer(o.inner) ? undefined : o.inner;
  const innerBytes = nested ? nested.frame : (o.inner as Buffer);
  const ipType = ipPayloadType(o.tunnel);
  const payload = ipType === undefined ? innerBytes : innerBytes.subarray(14);
  const { bytes, dport } = tunnelBytes(o.tunnel, payload);
  const frame = outerFrame(o, bytes, dport);
  let ipPayload: TunnelFrame['ipPayload'];
  let type: string | undefined;
  let vni: number | undefined;
  if (nested?.type !== undefined) {
    ({ ipPayload, type, vni } = nested);
  } else {
    ipPayload = ipType === undefined ? undefined : { etherType: ipType, packet: payload };
    type = o.tunnel.type;
    vni = segmentIdOf(o.tunnel);
  }
  const inner = ipPayload ? writtenEthernet(o, ipPayload.etherType, ipPayload.packet) : nested ? nested.inner : innerBytes;
  return { frame, inner, overhead: frame.length - inner.length, type, vni, ipPayload };
}

/** Wraps `inner` in each level of `levels`, innermost first (levels[0] is the innermost tunnel), with the same outer addresses. */
export function nest(o: OuterOptions & { levels: TunnelSpec[]; inner: Buffer }): TunnelFrame {
  let t: Buffer | TunnelFrame = o.inner;
  for (const level of o.levels) t = encapsulate({ ...o, tunnel: level, inner: t });
  if (Buffer.isBuffer(t)) throw new Error('nest needs at least one level');
  return t;
}

export function vxlanFrame(o: TunnelFrameOptions & { flags?: number }): TunnelFrame {
  return encapsulate({ ...o, tunnel: { type: 'vxlan', vni: o.vni, flags: o.flags, dport: o.dport } });
}

export function geneveFrame(o: TunnelFrameOptions & { options?: Buffer; protocolType?: number; version?: number; oam?: boolean }): TunnelFrame {
  return encapsulate({
    ...o,
    tunnel: { type: 'geneve', vni: o.vni, options: o.options, protocolType: o.protocolType, version: o.version, oam: o.oam, dport: o.dport },
  });
}

export function gpeFrame(o: TunnelFrameOptions & { nextProtocol?: number; flags?: number }): TunnelFrame {
  return encapsulate({ ...o, tunnel: { type: 'vxlan-gpe', vni: o.vni, nextProtocol: o.nextProtocol, flags: o.flags, dport: o.dport } });
}

export function greFrame(
  o: OuterOptions & { inner: Buffer | TunnelFrame; key?: number; checksum?: boolean; seq?: number; protocol?: number; version?: number; routing?: boolean },
): TunnelFrame {
  return encapsulate({
    ...o,
    tunnel: { type: 'gre', key: o.key, checksum: o.checksum, seq: o.seq, protocol: o.protocol, version: o.version, routing: o.routing },
  });
}

export function erspanFrame(
  o: OuterOptions & {
    inner: Buffer | TunnelFrame;
    erspanType: 1 | 2 | 3;
    sessionId?: number;
    version?: number;
    vlan?: number;
    index?: number;
    frameType?: number;
    subheader?: Buffer;
    checksum?: boolean;
    key?: number;
    seq?: number;
  },
): TunnelFrame {
  const { erspanType, sessionId, version, vlan, index, frameType, subheader, checksum, key, seq } = o;
  return encapsulate({ ...o, tunnel: { type: 'erspan', erspanType, sessionId, version, vlan, index, frameType, subheader, checksum, key, seq } });
}

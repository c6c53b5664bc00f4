// One tunnel level (UDP tunnel, GRE or ERSPAN) and its outer frame around an inner frame, and levels nested, with
// what a correct decap leaves of the result.
import { erspan2, erspan3, GRE_PROTOCOL, gre } from './headers-gre-erspan.ts';
import { ETHERTYPE, ethernet, IPPROTO, type Ipv6Extension, ipv4, ipv6, udp, type VlanTag } from './headers-l2-l4.ts';
import { GPE_NEXT, geneve, vxlan, vxlanGpe } from './headers-udp-tunnels.ts';

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
function writtenEthernet(o: { srcMac?: string; dstMac?: string }, etherType: number, packet: Buffer): Buffer {
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

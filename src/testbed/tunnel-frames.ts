// One call per tunnel type for a whole frame (outer Ethernet, IP, UDP or GRE, the tunnel header, the inner frame).
import { encapsulate, type OuterOptions, type TunnelFrame } from './encapsulate.ts';

export interface TunnelFrameOptions extends OuterOptions {
  vni: number;
  inner: Buffer;
  dport?: number;
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

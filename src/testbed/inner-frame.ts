// A client frame as a VM would send it, the payload the tunnel builders wrap.
import { ETHERTYPE, ethernet, IPPROTO, icmpEcho, ipv4, ipv6, tcp, udp, type VlanTag } from './headers-l2-l4.ts';

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

// What a flow exporter tapping a capture would report: frames grouped by their outermost IP 5-tuple.
import { formatAddress } from '../decode/flow-decoders.ts';

export interface TapFlow {
  protocol: string;
  src: string;
  dst: string;
  packets: number;
  bytes: number;
}

const PROTOCOL_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };

/** The first IP 5-tuple of an Ethernet frame (after up to two VLAN tags), as text; undefined if not IP. */
export function outermostFlow(frame: Buffer): Omit<TapFlow, 'packets' | 'bytes'> | undefined {
  let off = 14;
  if (frame.length < off) return undefined;
  let type = frame.readUInt16BE(12);
  for (let i = 0; i < 2 && (type === 0x8100 || type === 0x88a8) && frame.length >= off + 4; i++) {
    type = frame.readUInt16BE(off + 2);
    off += 4;
  }
  let proto: number;
  let src: string;
  let dst: string;
  if (type === 0x0800 && frame.length >= off + 20) {
    proto = frame[off + 9] ?? 0;
    src = formatAddress(frame.subarray(off + 12, off + 16), 4);
    dst = formatAddress(frame.subarray(off + 16, off + 20), 4);
    off += ((frame[off] ?? 0x45) & 0x0f) * 4;
  } else if (type === 0x86dd && frame.length >= off + 40) {
    proto = frame[off + 6] ?? 0;
    src = formatAddress(frame.subarray(off + 8, off + 24), 6);
    dst = formatAddress(frame.subarray(off + 24, off + 40), 6);
    off += 40;
  } else {
    return undefined;
  }
  const name = PROTOCOL_NAMES[proto] ?? `proto ${proto}`;
  if ((proto === 6 || proto === 17 || proto === 132) && frame.length >= off + 4) {
    return { protocol: name, src: `${src}:${frame.readUInt16BE(off)}`, dst: `${dst}:${frame.readUInt16BE(off + 2)}` };
  }
  return { protocol: name, src, dst };
}

/** Groups frames into flows, busiest first. */
export function summarizeTap(frames: Iterable<Buffer>): TapFlow[] {
  const flows = new Map<string, TapFlow>();
  for (const frame of frames) {
    const f = outermostFlow(frame);
    if (!f) continue;
    const key = `${f.protocol} ${f.src} ${f.dst}`;
    const row = flows.get(key) ?? { ...f, packets: 0, bytes: 0 };
    row.packets++;
    row.bytes += frame.length;
    flows.set(key, row);
  }
  return [...flows.values()].sort((a, b) => b.packets - a.packets);
}

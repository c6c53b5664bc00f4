// Test oracle: the decap rules written a second time, plainly, in TypeScript, to judge the kernel program's verdicts.
import type { Outcome } from '../../src/decode/layout.ts';

export interface ReferenceSettings {
  vxlanPorts: number[];
  genevePorts: number[];
  /** Outer destination filter; empty = any. Each entry [family, address bytes, prefix length]. */
  decapPrefixes: Array<[4 | 6, Uint8Array, number]>;
  excludePrefixes: Array<[4 | 6, Uint8Array, number]>;
}

export interface ReferenceVerdict {
  outcome: Outcome;
  /** Bytes removed when decapsulated. */
  overhead: number;
  vni?: number;
  type?: 'vxlan' | 'geneve';
}

function inPrefix(addr: Uint8Array, [, net, len]: [4 | 6, Uint8Array, number]): boolean {
  for (let bit = 0; bit < len; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((addr[byte] ?? 0) & mask) !== ((net[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const IPV6_EXTENSIONS = new Set([0, 43, 60, 51, 135, 139, 140]);

/** What the kernel program should do with `f` under `s`. */
export function referenceDecap(f: Buffer, s: ReferenceSettings): ReferenceVerdict {
  const v = (outcome: Outcome): ReferenceVerdict => ({ outcome, overhead: 0 });
  let off = 14;
  if (f.length < 14) return v('truncated');
  let proto = f.readUInt16BE(12);
  for (let i = 0; i < 2 && (proto === 0x8100 || proto === 0x88a8); i++) {
    if (f.length < off + 4) return v('truncated');
    proto = f.readUInt16BE(off + 2);
    off += 4;
  }
  let family: 4 | 6;
  let src: Uint8Array;
  let dst: Uint8Array;
  let l4: number;
  let firstFragment = false;
  if (proto === 0x0800) {
    if (f.length < off + 20) return v('truncated');
    const ihl = (f[off]! & 0x0f) * 4;
    if (ihl < 20) return v('malformed');
    if (f.length < off + ihl) return v('truncated');
    const frag = f.readUInt16BE(off + 6);
    if (frag & 0x1fff) return v('fragment');
    firstFragment = (frag & 0x2000) !== 0;
    l4 = f[off + 9]!;
    family = 4;
    src = f.subarray(off + 12, off + 16);
    dst = f.subarray(off + 16, off + 20);
    off += ihl;
  } else if (proto === 0x86dd) {
    if (f.length < off + 40) return v('truncated');
    l4 = f[off + 6]!;
    if (l4 === 44) return v('fragment');
    if (IPV6_EXTENSIONS.has(l4)) return v('unsupported');
    family = 6;
    src = f.subarray(off + 8, off + 24);
    dst = f.subarray(off + 24, off + 40);
    off += 40;
  } else {
    return v('not_tunnel');
  }
  if (l4 !== 17) return v('not_tunnel');
  if (f.length < off + 8) return v('truncated');
  const dport = f.readUInt16BE(off + 2);
  off += 8;
  const type = s.vxlanPorts.includes(dport) ? 'vxlan' : s.genevePorts.includes(dport) ? 'geneve' : undefined;
  if (!type) return v('not_tunnel');
  if (firstFragment) return v('fragment');
  const excluded = s.excludePrefixes.filter((p) => p[0] === family);
  if (excluded.some((p) => inPrefix(src, p) || inPrefix(dst, p))) return v('excluded');
  if (s.decapPrefixes.length > 0 && !s.decapPrefixes.some((p) => p[0] === family && inPrefix(dst, p))) return v('filtered');
  let vni: number;
  if (type === 'vxlan') {
    if (f.length < off + 8) return v('truncated');
    if (!(f[off]! & 0x08)) return v('malformed');
    vni = f.readUIntBE(off + 4, 3);
    off += 8;
  } else {
    if (f.length < off + 8) return v('truncated');
    if (f[off]! >> 6 !== 0) return v('malformed');
    if (f[off + 1]! & 0x80) return v('unsupported');
    if (f.readUInt16BE(off + 2) !== 0x6558) return v('unsupported');
    const len = 8 + (f[off]! & 0x3f) * 4;
    if (f.length < off + len) return v('truncated');
    vni = f.readUIntBE(off + 4, 3);
    off += len;
  }
  if (f.length < off + 14) return v('truncated');
  return { outcome: 'decapsulated', overhead: off, vni, type };
}

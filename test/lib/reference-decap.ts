// Test oracle: the decap rules of docs/decap-rules.md written a second time, plainly, in TypeScript, to judge the kernel program's verdicts.
import type { Outcome } from '../../src/decode/layout.ts';
import type { TunnelSettings, TunnelType } from '../../src/decode/tunnel-types.ts';

export interface ReferenceSettings extends TunnelSettings {
  /** Outer destination filter; empty = any. Each entry [family, address bytes, prefix length]. */
  decapPrefixes: Array<[4 | 6, Uint8Array, number]>;
  excludePrefixes: Array<[4 | 6, Uint8Array, number]>;
}

export interface ReferenceVerdict {
  outcome: Outcome;
  /** Bytes removed when decapsulated: original length - output length. */
  overhead: number;
  /** The innermost stripped level's segment id and type. */
  vni?: number;
  type?: TunnelType;
  /** Levels stripped (1..3 when decapsulated). */
  depth?: number;
  /** The frame the taps see when decapsulated (for IP payloads, with the written Ethernet header). */
  output?: Buffer;
}

/** DECAP_MAX_DEPTH: levels stripped in one pass. */
export const MAX_DEPTH = 3;
/** IPv6 extension headers walked before `unsupported`. */
export const MAX_IPV6_EXTENSIONS = 4;

function inPrefix(addr: Uint8Array, [, net, len]: [4 | 6, Uint8Array, number]): boolean {
  for (let bit = 0; bit < len; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((addr[byte] ?? 0) & mask) !== ((net[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const IPV6_WALKED = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;
const IPV6_REFUSED = new Set([51, 135, 139, 140]);
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/** Where a level fails: the skip reason. */
class Skip {
  readonly reason: Outcome;
  constructor(reason: Outcome) {
    this.reason = reason;
  }
}

/** What steps 1–4 found for one level: a tunnel carrier, with the tunnel header's offset. */
interface Carrier {
  type: TunnelType;
  /** Offset of the tunnel header: after UDP, or of the GRE header. */
  at: number;
  family: 4 | 6;
  src: Uint8Array;
  dst: Uint8Array;
  firstFragment: boolean;
}

/**
 * Steps 1 (when `ethernet`) to 3 of one level starting at `off`. Returns the carrier, or a Skip:
 * `not_tunnel` for anything that is not a tunnel, or the reason a check failed.
 */
function carrier(f: Buffer, off: number, ethernet: boolean, ipEtherType: number, s: ReferenceSettings): Carrier | Skip {
  let proto = ipEtherType;
  if (ethernet) {
    if (f.length < off + 14) return new Skip('truncated');
    proto = f.readUInt16BE(off + 12);
    off += 14;
    for (let i = 0; i < 2 && (proto === 0x8100 || proto === 0x88a8); i++) {
      if (f.length < off + 4) return new Skip('truncated');
      proto = f.readUInt16BE(off + 2);
      off += 4;
    }
  }
  let family: 4 | 6;
  let src: Uint8Array;
  let dst: Uint8Array;
  let l4: number;
  let firstFragment = false;
  if (proto === ETH_IPV4) {
    if (f.length < off + 20) return new Skip('truncated');
    const ihl = (f[off]! & 0x0f) * 4;
    if (ihl < 20) return new Skip('malformed');
    if (f.length < off + ihl) return new Skip('truncated');
    const frag = f.readUInt16BE(off + 6);
    if (frag & 0x1fff) return new Skip('fragment');
    firstFragment = (frag & 0x2000) !== 0;
    l4 = f[off + 9]!;
    family = 4;
    src = f.subarray(off + 12, off + 16);
    dst = f.subarray(off + 16, off + 20);
    off += ihl;
  } else if (proto === ETH_IPV6) {
    if (f.length < off + 40) return new Skip('truncated');
    l4 = f[off + 6]!;
    family = 6;
    src = f.subarray(off + 8, off + 24);
    dst = f.subarray(off + 24, off + 40);
    off += 40;
    let walked = 0;
    while (IPV6_WALKED.has(l4) || l4 === IPV6_FRAGMENT || IPV6_REFUSED.has(l4)) {
      if (IPV6_REFUSED.has(l4) || walked === MAX_IPV6_EXTENSIONS) return new Skip('unsupported');
      walked++;
      if (l4 === IPV6_FRAGMENT) {
        if (f.length < off + 8) return new Skip('truncated');
        const frag = f.readUInt16BE(off + 2);
        if (frag >> 3) return new Skip('fragment');
        if (frag & 1) firstFragment = true;
        l4 = f[off]!;
        off += 8;
      } else {
        if (f.length < off + 2) return new Skip('truncated');
        const len = (f[off + 1]! + 1) * 8;
        if (f.length < off + len) return new Skip('truncated');
        l4 = f[off]!;
        off += len;
      }
    }
  } else {
    return new Skip('not_tunnel');
  }
  if (l4 === 17) {
    if (f.length < off + 8) return new Skip('truncated');
    const dport = f.readUInt16BE(off + 2);
    const type: TunnelType | undefined = s.vxlanPorts.includes(dport)
      ? 'vxlan'
      : s.genevePorts.includes(dport)
        ? 'geneve'
        : s.vxlanGpePorts.includes(dport)
          ? 'vxlan-gpe'
          : undefined;
    if (!type) return new Skip('not_tunnel');
    return { type, at: off + 8, family, src, dst, firstFragment };
  }
  if (l4 === 47) {
    if (f.length < off + 4) return new Skip('truncated');
    const flags = f.readUInt16BE(off);
    const protocol = f.readUInt16BE(off + 2);
    const type: TunnelType | undefined = protocol === 0x6558 && s.gre ? 'gre' : (protocol === 0x88be || protocol === 0x22eb) && s.erspan ? 'erspan' : undefined;
    if (!type || (flags & 7) !== 0) return new Skip('not_tunnel');
    if (flags & 0x4000) return new Skip('unsupported');
    const len = 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
    if (f.length < off + len) return new Skip('truncated');
    return { type, at: off, family, src, dst, firstFragment };
  }
  return new Skip('not_tunnel');
}

/** Step 6 and 7: the tunnel header at `c.at`; the payload's offset, kind, segment id, or a Skip. */
function tunnelHeader(f: Buffer, c: Carrier): { payload: number; ipEtherType?: number; vni: number } | Skip {
  let off = c.at;
  let vni: number;
  let ipEtherType: number | undefined;
  switch (c.type) {
    case 'vxlan':
      if (f.length < off + 8) return new Skip('truncated');
      if (!(f[off]! & 0x08)) return new Skip('malformed');
      vni = f.readUIntBE(off + 4, 3);
      off += 8;
      break;
    case 'geneve': {
      if (f.length < off + 8) return new Skip('truncated');
      if (f[off]! >> 6 !== 0) return new Skip('malformed');
      if (f[off + 1]! & 0x80) return new Skip('unsupported');
      const protocol = f.readUInt16BE(off + 2);
      if (protocol === ETH_IPV4 || protocol === ETH_IPV6) ipEtherType = protocol;
      else if (protocol !== 0x6558) return new Skip('unsupported');
      const len = 8 + (f[off]! & 0x3f) * 4;
      if (f.length < off + len) return new Skip('truncated');
      vni = f.readUIntBE(off + 4, 3);
      off += len;
      break;
    }
    case 'vxlan-gpe': {
      if (f.length < off + 8) return new Skip('truncated');
      const flags = f[off]!;
      if ((flags & 0x30) !== 0 || !(flags & 0x08) || !(flags & 0x04)) return new Skip('malformed');
      if (flags & 0x01) return new Skip('unsupported');
      const next = f[off + 3]!;
      if (next === 1) ipEtherType = ETH_IPV4;
      else if (next === 2) ipEtherType = ETH_IPV6;
      else if (next !== 3) return new Skip('unsupported');
      vni = f.readUIntBE(off + 4, 3);
      off += 8;
      break;
    }
    case 'gre': {
      const flags = f.readUInt16BE(off);
      vni = flags & 0x2000 ? f.readUInt32BE(off + 4 + (flags & 0x8000 ? 4 : 0)) : 0;
      off += 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
      break;
    }
    case 'erspan': {
      const flags = f.readUInt16BE(off);
      const protocol = f.readUInt16BE(off + 2);
      off += 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
      if (protocol === 0x88be && !(flags & 0x1000)) {
        vni = 0; // type I: no ERSPAN header
      } else if (protocol === 0x88be) {
        if (f.length < off + 8) return new Skip('truncated');
        if (f[off]! >> 4 !== 1) return new Skip('malformed');
        vni = f.readUInt16BE(off + 2) & 0x3ff;
        off += 8;
      } else {
        if (f.length < off + 12) return new Skip('truncated');
        if (f[off]! >> 4 !== 2) return new Skip('malformed');
        const last = f.readUInt16BE(off + 10);
        if ((last >> 10) & 0x1f) return new Skip('unsupported');
        const len = 12 + (last & 1 ? 8 : 0);
        if (f.length < off + len) return new Skip('truncated');
        vni = f.readUInt16BE(off + 2) & 0x3ff;
        off += len;
      }
      break;
    }
  }
  const need = ipEtherType === ETH_IPV4 ? 20 : ipEtherType === ETH_IPV6 ? 40 : 14;
  if (f.length < off + need) return new Skip('truncated');
  return ipEtherType === undefined ? { payload: off, vni } : { payload: off, vni, ipEtherType };
}

/** What the kernel program should do with `f` under `s`. */
export function referenceDecap(f: Buffer, s: ReferenceSettings): ReferenceVerdict {
  const untouched = (outcome: Outcome): ReferenceVerdict => ({ outcome, overhead: 0 });

  // The outermost level: every step, the address filters included; any failure leaves the frame untouched.
  const outer = carrier(f, 0, true, 0, s);
  if (outer instanceof Skip) return untouched(outer.reason);
  if (outer.firstFragment) return untouched('fragment');
  const excluded = s.excludePrefixes.filter((p) => p[0] === outer.family);
  if (excluded.some((p) => inPrefix(outer.src, p) || inPrefix(outer.dst, p))) return untouched('excluded');
  if (s.decapPrefixes.length > 0 && !s.decapPrefixes.some((p) => p[0] === outer.family && inPrefix(outer.dst, p))) return untouched('filtered');
  const first = tunnelHeader(f, outer);
  if (first instanceof Skip) return untouched(first.reason);

  // Inner levels: a tunnel that passes every check is stripped too, up to MAX_DEPTH; one more such level makes
  // the frame too_deep. A level failing any check (cut, malformed, unsupported, a first fragment) ends the
  // nesting there, the fourth level included: it is then the packet the taps see.
  let level = { type: outer.type, ...first };
  let depth = 1;
  for (;;) {
    const next = carrier(f, level.payload, level.ipEtherType === undefined, level.ipEtherType ?? 0, s);
    if (next instanceof Skip || next.firstFragment) break;
    const header = tunnelHeader(f, next);
    if (header instanceof Skip) break;
    if (depth === MAX_DEPTH) return untouched('too_deep');
    level = { type: next.type, ...header };
    depth++;
  }

  const output =
    level.ipEtherType === undefined
      ? f.subarray(level.payload)
      : Buffer.concat([f.subarray(0, 12), Buffer.from([level.ipEtherType >> 8, level.ipEtherType & 0xff]), f.subarray(level.payload)]);
  return { outcome: 'decapsulated', overhead: f.length - output.length, vni: level.vni, type: level.type, depth, output };
}

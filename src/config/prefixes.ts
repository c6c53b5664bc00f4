// CIDR prefixes for the outer-address filters: parse, normalise, and encode as LPM trie keys.
import ipaddr from 'ipaddr.js';
import { LAYOUT } from '../decode/layout.ts';

/**
 * How many prefixes of one address family each LPM trie holds: max_entries of dst_v4, dst_v6, excl_v4 and
 * excl_v6 in bpf/decap.bpf.c (keep in sync; test/unit/config.test.ts reads the compiled object and checks).
 */
export const PREFIX_TRIE_CAPACITY = 1024;

export interface Prefix {
  family: 4 | 6;
  prefixLen: number;
  /** Network address bytes, network order (4 or 16). */
  bytes: Uint8Array;
  /** As the user wrote it (trimmed): for messages and logs. */
  text: string;
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128); rejects host bits. */
export function parsePrefix(text: string): Prefix {
  const trimmed = text.trim();
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  let len: number;
  try {
    if (trimmed.includes('/')) {
      [addr, len] = ipaddr.parseCIDR(trimmed);
    } else {
      addr = ipaddr.parse(trimmed);
      len = addr.kind() === 'ipv4' ? 32 : 128;
    }
  } catch {
    throw new Error(`"${text}" is not an IPv4 or IPv6 prefix (expected e.g. 10.0.0.0/8 or 2001:db8::/32)`);
  }
  const family = addr.kind() === 'ipv4' ? 4 : 6;
  const bytes = Uint8Array.from(addr.toByteArray());
  const network = Uint8Array.from(bytes);
  for (let bit = len; bit < bytes.length * 8; bit++) network[bit >> 3]! &= ~(0x80 >> (bit & 7));
  if (!network.every((b, i) => b === bytes[i])) {
    const fixed = `${ipaddr.fromByteArray([...network]).toString()}/${len}`;
    throw new Error(`${text} has host bits set; did you mean ${fixed}?`);
  }
  return { family, prefixLen: len, bytes: network, text: trimmed };
}

/** `struct lpm_v4_key` / `struct lpm_v6_key`: u32 prefixlen (host order), then the address (network order). */
export function lpmKey(p: Prefix): Buffer {
  const layout = p.family === 4 ? LAYOUT.lpm_v4_key : LAYOUT.lpm_v6_key;
  const key = Buffer.alloc(layout.size);
  key.writeUInt32LE(p.prefixLen, layout.prefixlen);
  key.set(p.bytes, layout.addr);
  return key;
}

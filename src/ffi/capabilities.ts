// The capabilities loading and attaching an XDP program needs, and which of them this process holds.
import { readFileSync } from 'node:fs';

/** What plugin.json's requirements.capabilities lists, with each one's bit (linux/capability.h). */
const LOAD_CAPABILITIES = { CAP_BPF: 39, CAP_NET_ADMIN: 12, CAP_PERFMON: 38 } as const;
export type LoadCapability = keyof typeof LOAD_CAPABILITIES;

/** The load capabilities this process's effective set lacks (/proc/self/status); none when it cannot tell. */
export function missingLoadCapabilities(status?: string): LoadCapability[] {
  let text = status;
  try {
    text ??= readFileSync('/proc/self/status', 'utf8');
  } catch {
    return [];
  }
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  if (!hex) return [];
  const effective = BigInt(`0x${hex}`);
  return (Object.entries(LOAD_CAPABILITIES) as Array<[LoadCapability, number]>)
    .filter(([, bit]) => ((effective >> BigInt(bit)) & 1n) === 0n)
    .map(([name]) => name);
}

/** Names joined as a sentence: "A", "A and B", "A, B and C". */
function andList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** What to do about an EPERM from a load, from the capabilities this process holds: each capability named once. */
export function permissionHint(missing: readonly LoadCapability[]): string {
  const all = Object.keys(LOAD_CAPABILITIES) as LoadCapability[];
  if (missing.length === 0) {
    return `this process has ${andList(all)}, so the kernel itself refuses BPF here (lockdown, or a security module): see dmesg`;
  }
  const held = all.filter((c) => !missing.includes(c));
  const has = held.length === 0 ? `this process has none of ${andList(all)}` : `this process has ${andList(held)} but not ${andList(missing)}`;
  return `${has}, and loading an XDP program needs all three: run it as root (sudo) or grant ${held.length === 0 ? 'them' : missing.length === 1 ? 'the missing one' : 'the missing ones'}`;
}

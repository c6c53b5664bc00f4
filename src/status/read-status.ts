// What is attached where, read from the kernel (no running plugin needed): XDP per interface, xdp-decap counters.
import { readdirSync, readFileSync } from 'node:fs';
import type { CounterSnapshot } from '../decode/counter-snapshot.ts';
import { decodeFlows } from '../decode/flow-decoders.ts';
import { MAP_NAMES, PROGRAM_NAME } from '../decode/layout.ts';
import type { FlowRecord } from '../decode/records.ts';
import type { BpfMap } from '../ffi/bpf-object.ts';
import { BpfError } from '../ffi/errors.ts';
import { libbpf } from '../ffi/libbpf.ts';
import { interfaceIndex, openMapById, programInfo, queryXdp, type XdpAttachMode } from '../ffi/xdp.ts';
import { readCounterMaps } from '../program/counters.ts';
import { readMergedFlows } from '../program/flow-table.ts';

export interface InterfaceXdp {
  name: string;
  ifindex: number;
  mode: XdpAttachMode;
  progId: number;
  /** The attached program's name; null when this process may not open it (see DecapStatus.unreadable). */
  progName: string | null;
  /** Is it xdp-decap's program? null when this process could not tell. */
  isDecap: boolean | null;
}

export interface DecapStatus {
  interfaces: InterfaceXdp[];
  /** Counters of each xdp-decap program found attached, by program id. */
  programs: Array<{ progId: number; counters: CounterSnapshot }>;
  /** Why some attached programs could not be identified or read (a missing privilege), if any. */
  unreadable?: string;
}

/**
 * Interfaces of this process's network namespace. /proc/self/net/dev follows the namespace the process is in;
 * /sys/class/net shows the namespace of whoever mounted /sys (the host's, under `nsenter --net`).
 */
export function listInterfaces(): string[] {
  try {
    return readFileSync('/proc/self/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((line) => line.split(':')[0]!.trim())
      .filter((name) => name !== '')
      .sort();
  } catch {
    return readdirSync('/sys/class/net').sort();
  }
}

/** The named interfaces that do not exist in this network namespace. */
export function missingInterfaces(names: readonly string[]): string[] {
  return names.filter((name) => !interfaceIndex(name));
}

const CAP_SYS_ADMIN = 21;

/** Does this process hold CAP_SYS_ADMIN in its effective set (/proc/self/status)? */
function hasSysAdmin(): boolean {
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return eff !== undefined && ((BigInt(`0x${eff}`) >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * The line that says why attached programs cannot be opened: the kernel opens a BPF program, map or link by id
 * (BPF_*_GET_FD_BY_ID) only for CAP_SYS_ADMIN, which CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (enough for `run`) lack.
 */
export function unreadableProgramsReason(where: string, err: BpfError): string {
  const lacking = hasSysAdmin()
    ? `the kernel refused it (${err.code})`
    : 'this process lacks CAP_SYS_ADMIN, which the kernel requires to open a BPF program by id (CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON are enough for run, not for this)';
  return `cannot tell whether the XDP program on ${where} is xdp-decap's or read its counters: ${lacking}; run it as root (sudo)`;
}

export function readXdpAttachments(names: readonly string[]): { interfaces: InterfaceXdp[]; unreadable?: string } {
  const interfaces: InterfaceXdp[] = [];
  const denied: string[] = [];
  let deniedErr: BpfError | undefined;
  for (const name of names) {
    const ifindex = interfaceIndex(name);
    if (!ifindex) continue;
    const q = queryXdp(ifindex, name);
    let progName: string | null = '';
    if (q.progId) {
      try {
        progName = programInfo(q.progId).name;
      } catch (err) {
        if (!(err instanceof BpfError)) throw err;
        if (err.code === 'ENOENT') {
          progName = '(detached)'; // detached between the query and the open: not xdp-decap's any more
          interfaces.push({ name, ifindex, mode: q.mode, progId: q.progId, progName, isDecap: false });
          continue;
        }
        if (err.code !== 'EPERM' && err.code !== 'EACCES') throw err;
        progName = null;
        denied.push(`${name} (program id ${q.progId})`);
        deniedErr = err;
      }
    }
    interfaces.push({ name, ifindex, mode: q.mode, progId: q.progId, progName, isDecap: progName === null ? null : progName === PROGRAM_NAME });
  }
  return deniedErr ? { interfaces, unreadable: unreadableProgramsReason(denied.join(', '), deniedErr) } : { interfaces };
}

/** Reads the counter maps of a loaded xdp-decap program through their ids. */
export function readProgramCounters(progId: number): CounterSnapshot {
  const maps = new Map<string, BpfMap>();
  try {
    for (const id of programInfo(progId).mapIds) {
      const map = openMapById(id);
      maps.set(map.name, map);
    }
    return readCounterMaps((name) => {
      const map = maps.get(name);
      if (!map) throw new Error(`program ${progId} has no map ${name}: not an xdp-decap program of this version`);
      return map;
    });
  } finally {
    for (const map of maps.values()) libbpf().close(map.fd);
  }
}

/** The inner flow table of a loaded xdp-decap program (its per-CPU flow cache merged in), through its map ids. */
export function readProgramFlows(progId: number): FlowRecord[] {
  const maps = new Map<string, BpfMap>();
  try {
    for (const id of programInfo(progId).mapIds) {
      const map = openMapById(id);
      maps.set(map.name, map);
    }
    const flows = maps.get(MAP_NAMES.flows);
    const cache = maps.get(MAP_NAMES.flowCache);
    if (!flows || !cache)
      throw new Error(`program ${progId} has no map ${flows ? MAP_NAMES.flowCache : MAP_NAMES.flows}: not an xdp-decap program of this version`);
    return decodeFlows(readMergedFlows(flows, cache));
  } finally {
    for (const map of maps.values()) libbpf().close(map.fd);
  }
}

export function readStatus(onlyInterfaces?: readonly string[]): DecapStatus {
  const { interfaces, unreadable } = readXdpAttachments(onlyInterfaces && onlyInterfaces.length > 0 ? onlyInterfaces : listInterfaces());
  const ids = [...new Set(interfaces.filter((i) => i.isDecap).map((i) => i.progId))];
  const programs = ids.map((progId) => ({ progId, counters: readProgramCounters(progId) }));
  return unreadable ? { interfaces, programs, unreadable } : { interfaces, programs };
}

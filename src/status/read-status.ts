// What is attached where, read from the kernel (no running plugin needed): XDP per interface, xdp-decap counters.
import { readdirSync } from 'node:fs';
import { decodeFlows } from '../decode/decoders.ts';
import { readCounterMaps } from '../program/counters.ts';
import { MAP_NAMES, PROGRAM_NAME } from '../decode/layout.ts';
import type { CounterSnapshot, FlowRecord } from '../decode/records.ts';
import type { BpfMap } from '../ffi/bpf-object.ts';
import { libbpf } from '../ffi/libbpf.ts';
import { readMergedFlows } from '../program/flow-table.ts';
import { interfaceIndex, openMapById, programInfo, queryXdp, type XdpAttachMode } from '../ffi/xdp.ts';

export interface InterfaceXdp {
  name: string;
  ifindex: number;
  mode: XdpAttachMode;
  progId: number;
  progName: string;
  /** Is it xdp-decap's program? */
  isDecap: boolean;
}

export interface DecapStatus {
  interfaces: InterfaceXdp[];
  /** Counters of each xdp-decap program found attached, by program id. */
  programs: Array<{ progId: number; counters: CounterSnapshot }>;
}

/** Interfaces of this network namespace (sysfs as seen from here; `ip netns exec` remounts it). */
export function listInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

export function readXdpAttachments(names: readonly string[]): InterfaceXdp[] {
  const out: InterfaceXdp[] = [];
  for (const name of names) {
    const ifindex = interfaceIndex(name);
    if (!ifindex) continue;
    const q = queryXdp(ifindex, name);
    let progName = '';
    if (q.progId) {
      try {
        progName = programInfo(q.progId).name;
      } catch {
        progName = '?';
      }
    }
    out.push({ name, ifindex, mode: q.mode, progId: q.progId, progName, isDecap: progName === PROGRAM_NAME });
  }
  return out;
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
    if (!flows || !cache) throw new Error(`program ${progId} has no map ${flows ? MAP_NAMES.flowCache : MAP_NAMES.flows}: not an xdp-decap program of this version`);
    return decodeFlows(readMergedFlows(flows, cache));
  } finally {
    for (const map of maps.values()) libbpf().close(map.fd);
  }
}

export function readStatus(onlyInterfaces?: readonly string[]): DecapStatus {
  const interfaces = readXdpAttachments(onlyInterfaces && onlyInterfaces.length > 0 ? onlyInterfaces : listInterfaces());
  const ids = [...new Set(interfaces.filter((i) => i.isDecap).map((i) => i.progId))];
  return { interfaces, programs: ids.map((progId) => ({ progId, counters: readProgramCounters(progId) })) };
}

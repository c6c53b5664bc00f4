// The loaded decap program: load with map sizes, apply settings to its maps live, read its counters.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataplaneSettings, DEFAULT_CAPACITIES, DEFAULT_DATAPLANE, type MapCapacities } from '../config/dataplane.ts';
import { lpmKey, type Prefix } from '../config/prefixes.ts';
import { type BpfMap, BpfObject, type BpfProgram } from '../ffi/bpf-object.ts';

export { type DataplaneSettings, DEFAULT_CAPACITIES, DEFAULT_DATAPLANE, type MapCapacities } from '../config/dataplane.ts';

import { activeFlowCounts, countActiveFlows, type FlowsAtPass, flowsAtPass, flowsSincePass, noFlowsAtPass } from '../decode/active-flows.ts';
import { type CounterSnapshot, vniTableOf } from '../decode/counter-snapshot.ts';
import { type DataplaneFlags, encodeDecapConfig, encodeIndex, encodePortValue } from '../decode/encoders.ts';
import { decodeFlows } from '../decode/flow-decoders.ts';
import { MAP_NAMES, PROGRAM_NAME, type TunnelType } from '../decode/layout.ts';
import type { ActiveFlowCount, FlowRecord } from '../decode/records.ts';
import { greProtocolMap, tunnelPortMap } from '../decode/tunnel-types.ts';
import { VniMap } from '../decode/vni-map.ts';
import { readCounterMaps } from './counters.ts';
import { type BuildPlan, checkKernelRelease, loadFirstThatLoads, planDecapBuilds } from './decap-builds.ts';
import { forEachFlowChunkSeenSince, readMergedFlows } from './flow-table.ts';

/** How often a flow_cache slot syncs with the flows table: 1 s, or the idle timeout if that is shorter. */
function flowSyncMillis(flowIdleSeconds = 60): number {
  return Math.max(1, Math.min(1000, Math.floor(flowIdleSeconds * 1000)));
}

/** Finds build/NAME.bpf.o above this file (src/ when run from source, dist/src/ when compiled). */
export function bpfObjectPath(name = 'decap'): string {
  const override = process.env.XDP_DECAP_BPF_OBJECT;
  if (override && name === 'decap') {
    if (!existsSync(override)) throw new Error(`XDP_DECAP_BPF_OBJECT=${override}: no such file; unset it or point it at build/decap.bpf.o (npm run build)`);
    return override;
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', `${name}.bpf.o`);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`build/${name}.bpf.o not found above ${fileURLToPath(import.meta.url)}: run \`npm run build\` first (needs clang)`);
}

/**
 * The decap builds to try on this kernel, best first, and why: build/decap.bpf.o (Linux 6.2+: no helper call
 * for the frame length of a linear frame), then build/decap-compat.bpf.o (the same program with the helper
 * call for every frame, for older kernels such as Debian 12's 6.1); XDP_DECAP_BPF_OBJECT alone when set.
 */
export function decapBuildPlan(): BuildPlan {
  const override = process.env.XDP_DECAP_BPF_OBJECT ? bpfObjectPath('decap') : undefined;
  let compat: string | undefined;
  try {
    compat = bpfObjectPath('decap-compat');
  } catch {
    // A build without the compat object (an older package layout): the main object alone.
  }
  return planDecapBuilds({ decap: override ?? bpfObjectPath('decap'), ...(compat ? { compat } : {}), ...(override ? { override } : {}) });
}

/**
 * Makes `map` hold exactly `desired` (hex key -> value): adds and updates first, deletes stale keys last,
 * so no packet ever sees a moment where a wanted entry is missing.
 */
function syncMap(map: BpfMap, desired: Map<string, Buffer>): void {
  for (const [hex, value] of desired) map.update(Buffer.from(hex, 'hex'), value);
  for (const key of map.keys()) if (!desired.has(key.toString('hex'))) map.delete(key);
}

function prefixSets(prefixes: readonly Prefix[]): { v4: Map<string, Buffer>; v6: Map<string, Buffer> } {
  const present = Buffer.from([1]);
  const v4 = new Map<string, Buffer>();
  const v6 = new Map<string, Buffer>();
  for (const prefix of prefixes) {
    (prefix.family === 4 ? v4 : v6).set(lpmKey(prefix).toString('hex'), present);
  }
  return { v4, v6 };
}

export class DecapProgram {
  readonly object: BpfObject;
  readonly program: BpfProgram;
  readonly capacities: MapCapacities;
  /** The object file this program was loaded from (build/decap.bpf.o, or decap-compat.bpf.o on older kernels). */
  readonly objectPath: string;
  /** Which build was loaded and why (for the log): the kernel's features, and any build that did not load. */
  buildNote = '';
  private flags: DataplaneFlags | undefined;
  /** Ports currently set in the tunnel_ports array (all others hold 0). */
  private ports = new Map<number, TunnelType>();
  /** GRE protocol types currently set in the gre_protocols array (all others hold 0). */
  private greProtocols = new Map<number, TunnelType>();
  /**
   * What the last expiry pass left in the flow table, per VNI, and each VNI's new-flow counter right after it:
   * `flowsInTable` adds the flows inserted since. Empty before the first pass (the maps start empty at load).
   */
  private lastPass: FlowsAtPass = noFlowsAtPass();

  private constructor(object: BpfObject, capacities: MapCapacities, objectPath: string) {
    this.object = object;
    this.objectPath = objectPath;
    this.capacities = capacities;
    this.program = object.program(PROGRAM_NAME);
  }

  /**
   * Opens and loads the object with the given map sizes and applies `settings`. Without `objectPath`, the
   * program for this kernel (decapBuildPlan): a kernel older than MIN_KERNEL is refused first, in one line;
   * when no build loads, the DecapLoadError says why for each one tried.
   */
  static load(settings: DataplaneSettings = DEFAULT_DATAPLANE, capacities: MapCapacities = DEFAULT_CAPACITIES, objectPath?: string): DecapProgram {
    if (objectPath !== undefined) return DecapProgram.loadObject(settings, capacities, objectPath);
    checkKernelRelease();
    const plan = decapBuildPlan();
    const { value: program, path, failed } = loadFirstThatLoads(plan.candidates, (p) => DecapProgram.loadObject(settings, capacities, p));
    const skipped = failed.map((f) => `${f.path} did not load (${f.error instanceof Error ? f.error.message.split('\n').slice(-1)[0] : String(f.error)})`);
    program.buildNote = `loaded ${path}: ${[plan.reason, ...skipped].join('; ')}`;
    return program;
  }

  private static loadObject(settings: DataplaneSettings, capacities: MapCapacities, objectPath: string): DecapProgram {
    const object = BpfObject.open(objectPath);
    try {
      object.setMaxEntries(MAP_NAMES.vniStats, capacities.vniCapacity);
      object.setMaxEntries(MAP_NAMES.flows, capacities.flowCapacity);
      object.load();
      const program = new DecapProgram(object, capacities, objectPath);
      program.applySettings(settings);
      return program;
    } catch (err) {
      object.close();
      throw err;
    }
  }

  /** Rewrites the settings maps in place; safe while attached (see syncMap and the flag ordering below). */
  applySettings(settings: DataplaneSettings): void {
    const ports = tunnelPortMap(settings);
    const greProtocols = greProtocolMap(settings);
    const decap = prefixSets(settings.decapPrefixes);
    const exclude = prefixSets(settings.excludePrefixes);
    // A non-empty prefix set filters both families: with only IPv4 prefixes, IPv6 tunnels are filtered out.
    const filtering = settings.decapPrefixes.length > 0;
    const next: DataplaneFlags = {
      dstFilterV4: filtering,
      dstFilterV6: filtering,
      trackFlows: settings.trackFlows,
      excludeV4: exclude.v4.size > 0,
      excludeV6: exclude.v6.size > 0,
      flowSyncMillis: flowSyncMillis(settings.flowIdleSeconds),
      gre: greProtocols.size > 0,
    };
    const cfgMap = this.object.map(MAP_NAMES.config);
    // A destination filter that stays on through the change must not see a half-written trie with the
    // old flag, and one that turns off must stop filtering before its trie empties: keep it only if
    // on both before and after while the tries change, then set the final flags.
    if (this.flags) {
      cfgMap.update(
        encodeIndex(0),
        encodeDecapConfig({
          dstFilterV4: this.flags.dstFilterV4 && next.dstFilterV4,
          dstFilterV6: this.flags.dstFilterV6 && next.dstFilterV6,
          trackFlows: next.trackFlows,
          // Look excludes up while either the old or the new set has entries.
          excludeV4: this.flags.excludeV4 || next.excludeV4,
          excludeV6: this.flags.excludeV6 || next.excludeV6,
          // A shorter idle timeout makes slots sync sooner before any flow is expired with it.
          flowSyncMillis: Math.min(this.flags.flowSyncMillis, next.flowSyncMillis),
          // Look GRE up while either the old or the new settings have GRE protocols.
          gre: this.flags.gre || next.gre,
        }),
      );
    }
    syncMap(this.object.map(MAP_NAMES.excludeV4), exclude.v4);
    syncMap(this.object.map(MAP_NAMES.excludeV6), exclude.v6);
    syncMap(this.object.map(MAP_NAMES.dstV4), decap.v4);
    syncMap(this.object.map(MAP_NAMES.dstV6), decap.v6);
    // tunnel_ports is an array over all 65536 ports: set the new ones first, then clear the old ones.
    const portMap = this.object.map(MAP_NAMES.tunnelPorts);
    for (const [port, type] of ports) if (this.ports.get(port) !== type) portMap.update(encodeIndex(port), encodePortValue(type));
    for (const port of this.ports.keys()) if (!ports.has(port)) portMap.update(encodeIndex(port), encodePortValue(undefined));
    this.ports = ports;
    const greMap = this.object.map(MAP_NAMES.greProtocols);
    for (const [proto, type] of greProtocols) if (this.greProtocols.get(proto) !== type) greMap.update(encodeIndex(proto), encodePortValue(type));
    for (const proto of this.greProtocols.keys()) if (!greProtocols.has(proto)) greMap.update(encodeIndex(proto), encodePortValue(undefined));
    this.greProtocols = greProtocols;
    cfgMap.update(encodeIndex(0), encodeDecapConfig(next));
    this.flags = next;
  }

  /** Reads every counter map once, summed over CPUs, the kernel's caches merged in (program/counters.ts). */
  readCounters(): CounterSnapshot {
    return readCounterMaps((name) => this.object.map(name));
  }

  /** Reads the whole flow table (the per-CPU flow cache merged in). */
  readFlows(): FlowRecord[] {
    return decodeFlows(readMergedFlows(this.object.map(MAP_NAMES.flows), this.object.map(MAP_NAMES.flowCache)));
  }

  private forEachFlowChunk(cutoffNs: bigint, visit: Parameters<typeof forEachFlowChunkSeenSince>[3]): void {
    forEachFlowChunkSeenSince(this.object.map(MAP_NAMES.flows), this.object.map(MAP_NAMES.flowCache), cutoffNs, visit);
  }

  /**
   * The active-flows gauge, per (interface, tunnel type, VNI), without reading the flow table: the flows the last
   * expiry pass kept plus the new flows `counters` (a fresh readCounters()) show since that pass. Flows that go
   * idle (or that the LRU evicts) leave it at the next pass, within one expiry interval (half the idle timeout).
   * A metrics collection calls it: it costs nothing beyond the counters the collection reads anyway. The rows
   * are reused by the next call (every field rewritten, 100k objects not made again per collection): use them
   * before calling it again.
   */
  flowsInTable(counters: CounterSnapshot): ActiveFlowCount[] {
    return flowsSincePass(this.lastPass, vniTableOf(counters));
  }

  /** Flows seen within `idleNs`, per (interface, tunnel type, VNI), from a read of the whole flow table. */
  countActiveFlows(idleNs: bigint, nowNs = process.hrtime.bigint()): ActiveFlowCount[] {
    const counts = new VniMap<number>();
    // Streamed chunk by chunk: a million flows never sit in memory as objects.
    this.forEachFlowChunk(nowNs - idleNs, (chunk) => void countActiveFlows(chunk, nowNs - idleNs, counts));
    return activeFlowCounts(counts);
  }

  /**
   * Deletes the flows unseen for `idleNs`, so a flow that comes back later is counted as new, as a NetFlow
   * exporter's inactive timeout would. Run by FlowExpiry on its own timer, never by a metrics collection.
   */
  expireIdleFlows(idleNs: bigint, nowNs = process.hrtime.bigint()): { expired: number; kept: number } {
    // Never sooner than the flow cache syncs: a deleted flow's next packet must find its slot due (decap.bpf.c).
    // Plus 20 ms, two ticks at HZ 100: the kernel's coarse clock runs up to a tick behind this one, and the
    // slot's last read of it up to another.
    const shortestIdleNs = BigInt(this.flags?.flowSyncMillis ?? 1000) * 1_000_000n + 20_000_000n;
    if (idleNs < shortestIdleNs) idleNs = shortestIdleNs;
    const map = this.object.map(MAP_NAMES.flows);
    const counts = new VniMap<number>();
    let kept = 0;
    // Idle keys packed into one buffer that doubles as needed (48 bytes a key): a pass that expires a million
    // flows holds 48 MB of keys, not a million Buffer objects (300 MB of RSS).
    let idleKeys = Buffer.alloc(64 * map.keySize);
    let idleCount = 0;
    this.forEachFlowChunk(nowNs - idleNs, (chunk) => {
      const idle = countActiveFlows(chunk, nowNs - idleNs, counts);
      kept += chunk.count - idle.length;
      if ((idleCount + idle.length) * map.keySize > idleKeys.length) {
        const grown = Buffer.alloc(Math.max(idleKeys.length * 2, (idleCount + idle.length) * map.keySize));
        idleKeys.copy(grown, 0, 0, idleCount * map.keySize);
        idleKeys = grown;
      }
      for (const i of idle) chunk.keys.copy(idleKeys, idleCount++ * map.keySize, i * map.keySize, (i + 1) * map.keySize);
    });
    // New-flow counters read after the table: a flow inserted during the read is either in `counts` or, if
    // the read missed it, left out until the next pass; never counted twice. Deleted only after that read, so
    // a deleted flow that comes back counts as new.
    const table = vniTableOf(this.readCounters());
    const pass = flowsAtPass(counts, table);
    table.release();
    // Keys the LRU evicted since the read are skipped by deleteMany, not counted.
    const expired = map.deleteMany(idleKeys, idleCount);
    this.lastPass = pass;
    return { expired, kept };
  }

  close(): void {
    this.object.close();
  }
}

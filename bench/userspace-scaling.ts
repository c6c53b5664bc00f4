// Userspace scaling: with the kernel maps filled to 1k/10k/100k VNIs and 10k/100k/1M flows, the time and memory
// of one collection (map read + metric build + OTLP protobuf encode), and the plugin process's resident memory.
// Each size runs in a fresh child process so its RSS is its own.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { LAYOUT, MAP_NAMES } from '../src/decode/layout.ts';
import { openMapById, programIdOfFd, programInfo } from '../src/ffi/xdp.ts';
import { registerDecapMetrics } from '../src/metrics/decap-metrics.ts';
import { sdkCardinalityLimit } from '../src/metrics/meter-pipeline.ts';
import { DEFAULT_DATAPLANE, DecapProgram } from '../src/program/decap-program.ts';
import { TestReader } from '../test/lib/metrics-fixture.ts';
import { type BenchRow, median, report, SMOKE } from './lib.ts';

const SIZES: Array<[number, number]> = SMOKE
  ? [[100, 1000]]
  : [
      [1000, 10_000],
      [10_000, 100_000],
      [100_000, 1_000_000],
    ];
const EXPORT_INTERVAL_MS = 60_000;

/** Filler process: writes `vnis` VNI counters and `flows` flows into the maps of program `progId`. */
function fill(progId: number, vnis: number, flows: number): void {
  const maps = new Map(
    programInfo(progId)
      .mapIds.map((id) => openMapById(id))
      .map((m) => [m.name, m]),
  );
  const vniMap = maps.get(MAP_NAMES.vniStats)!;
  const value = Buffer.alloc(vniMap.userValueSize);
  for (let cpu = 0; cpu < vniMap.userValueSize / vniMap.valueStride; cpu++) {
    value.writeBigUInt64LE(10n, cpu * vniMap.valueStride);
    value.writeBigUInt64LE(15000n, cpu * vniMap.valueStride + 8);
  }
  const key = Buffer.alloc(LAYOUT.vni_key.size);
  for (let v = 1; v <= vnis; v++) {
    key.writeUInt32LE(2, 0);
    key.writeUInt32LE(v, 4);
    key.writeUInt32LE(1, 8);
    value.writeBigUInt64LE(BigInt(v), 8);
    vniMap.update(key, value);
  }
  const flowMap = maps.get(MAP_NAMES.flows)!;
  const fk = Buffer.alloc(LAYOUT.flow_key.size);
  const fv = Buffer.alloc(LAYOUT.flow_value.size);
  const now = process.hrtime.bigint();
  fv.writeBigUInt64LE(3n, 0);
  fv.writeBigUInt64LE(3000n, 8);
  fv.writeBigUInt64LE(now, 16);
  fv.writeBigUInt64LE(now, 24);
  for (let f = 0; f < flows; f++) {
    fk.writeUInt32LE(2, 0);
    fk.writeUInt32LE(1 + (f % vnis), 4);
    fk[8] = 1;
    fk[9] = 4;
    fk[10] = 17;
    fk.writeUInt16LE(f & 0xffff, 12);
    fk.writeUInt16LE(53, 14);
    fk.writeUInt32BE(0x0a000000 + (f >>> 16), 16);
    fk.writeUInt32BE(0x0a800001, 32);
    flowMap.update(fk, fv);
  }
}

/** Child: load the program as the plugin does, have another process fill its maps, time collections. */
async function measure(vnis: number, flows: number): Promise<void> {
  const program = DecapProgram.load(DEFAULT_DATAPLANE, { vniCapacity: vnis + 1024, flowCapacity: flows + 1024 });
  // Filled from another process, so this one's memory is only what the plugin itself needs.
  const filler = spawnSync(process.execPath, [import.meta.filename, '--fill', String(programIdOfFd(program.program.fd)), String(vnis), String(flows)], {
    encoding: 'utf8',
  });
  if (filler.status !== 0) throw new Error(`filler failed: ${filler.stderr}`);
  const gc = (globalThis as { gc?: () => void }).gc;
  const reader = new TestReader({ cardinalitySelector: () => sdkCardinalityLimit(2000) });
  const provider = new MeterProvider({ readers: [reader] });
  registerDecapMetrics({
    meterProvider: provider,
    maxVniSeries: 2000,
    interfaceName: () => 'ens1f0',
    // As the plugin reads: the active-flows gauge from the last expiry pass plus the counters' new flows.
    read: () => {
      const counters = program.readCounters();
      return { counters, activeFlows: program.flowsInTable(counters) };
    },
  });
  // One expiry pass first, as the plugin's timer runs it (every half idle timeout): it reads the whole flow
  // table, so its time is reported beside the collection's and its memory is in this process's RSS.
  const p0 = performance.now();
  const pass = program.expireIdleFlows(3600n * 1_000_000_000n);
  const passMs = performance.now() - p0;
  if (pass.kept !== flows || pass.expired !== 0) throw new Error(`expiry pass kept ${pass.kept} of ${flows} flows, expired ${pass.expired}`);
  const times: number[] = [];
  // CPU time (user + system, this process) beside wall time: on a loaded machine wall time includes waiting for a CPU.
  const cpuTimes: number[] = [];
  let encoded = 0;
  let active = 0;
  for (let i = 0; i < (SMOKE ? 1 : 5); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { resourceMetrics } = await reader.collect();
    encoded = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)?.length ?? 0;
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
  }
  const peakDuring = process.memoryUsage().rss;
  // After the RSS sample: the gauge as the collections saw it, to check it against the table.
  active = program.flowsInTable(program.readCounters()).reduce((n, r) => n + r.flows, 0);
  gc?.();
  const mem = process.memoryUsage();
  console.log(
    JSON.stringify({
      vnis,
      flows,
      collectMs: median(times),
      collectCpuMs: median(cpuTimes),
      passMs,
      active,
      encodedBytes: encoded,
      rssMB: mem.rss / 2 ** 20,
      rssBeforeGcMB: peakDuring / 2 ** 20,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  );
  program.close();
}

type ChildResult = {
  collectMs: number;
  collectCpuMs: number;
  passMs: number;
  active: number;
  encodedBytes: number;
  rssMB: number;
  rssBeforeGcMB: number;
  maxRssMB: number;
};

function runChild(script: string, vnis: number, flows: number): ChildResult {
  const r = spawnSync(process.execPath, ['--expose-gc', script, '--child', String(vnis), String(flows), ...(SMOKE ? ['--smoke'] : [])], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`child ${script} for ${vnis} VNIs / ${flows} flows failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

/** Newest modification time of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * This file as `npm run build` compiled it (dist/), when that build is newer than every source it covers: the
 * plugin runs compiled JavaScript (plugin.json entryPoint), without the TypeScript loader running from source adds.
 */
function compiledChild(): string | undefined {
  const root = join(import.meta.dirname, '..');
  const compiled = join(root, 'dist', 'bench', 'userspace-scaling.js');
  if (!existsSync(compiled)) return undefined;
  const built = statSync(compiled).mtimeMs;
  return ['src', 'bench', join('test', 'lib')].every((d) => newestSource(join(root, d)) <= built) ? compiled : undefined;
}

if (process.argv[2] === '--fill') {
  fill(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
} else if (process.argv[2] === '--child') {
  await measure(Number(process.argv[3]), Number(process.argv[4]));
} else {
  const rows: BenchRow[] = [];
  for (const [vnis, flows] of SIZES) {
    const m = runChild(import.meta.filename, vnis, flows);
    const big = vnis === 100_000 && flows === 1_000_000;
    const fraction = m.collectMs / EXPORT_INTERVAL_MS;
    rows.push({
      name: `${vnis} VNIs + ${flows} flows: collection / 60 s interval`,
      measured: fraction,
      unit: 'ratio',
      target: big ? '<= 0.005' : undefined,
      met: big ? fraction <= 0.005 : undefined,
      context: `${m.collectMs.toFixed(0)} ms per collection (${m.collectCpuMs.toFixed(0)} ms of CPU), OTLP body ${(m.encodedBytes / 1024).toFixed(0)} KiB`,
    });
    if (m.active !== flows) throw new Error(`active-flows gauge says ${m.active}, the table holds ${flows}`);
    rows.push({
      name: `${vnis} VNIs + ${flows} flows: expiry pass / its 30 s interval (default idle 60 s)`,
      measured: m.passMs / 30_000,
      unit: 'ratio',
      context: `${m.passMs.toFixed(0)} ms per pass (reads the whole flow table; the collection no longer does)`,
    });
    rows.push({
      name: `${vnis} VNIs + ${flows} flows: plugin RSS / 250 MB`,
      measured: m.rssBeforeGcMB / 250,
      unit: 'ratio',
      target: big ? '<= 1' : undefined,
      met: big ? m.rssBeforeGcMB <= 250 : undefined,
      context: `RSS right after ${SMOKE ? 1 : 5} collections ${m.rssBeforeGcMB.toFixed(0)} MB (${m.rssMB.toFixed(0)} MB after GC); process peak ${m.maxRssMB.toFixed(0)} MB; run from source (TypeScript loader included)`,
    });
  }
  // The largest size again as the plugin ships: compiled (dist/), no TypeScript loader. Informational: the target
  // rows above stay measured from source, as they always were.
  const compiled = compiledChild();
  const [vnis, flows] = SIZES.at(-1)!;
  if (!compiled) {
    console.log('(no up-to-date dist/ build: run `npm run build:ts` for the as-shipped RSS row)');
  } else {
    const m = runChild(compiled, vnis, flows);
    rows.push({
      name: `${vnis} VNIs + ${flows} flows: plugin RSS as shipped (compiled dist/) / 250 MB`,
      measured: m.rssBeforeGcMB / 250,
      unit: 'ratio',
      context: `RSS right after ${SMOKE ? 1 : 5} collections ${m.rssBeforeGcMB.toFixed(0)} MB (${m.rssMB.toFixed(0)} MB after GC); process peak ${m.maxRssMB.toFixed(0)} MB; ${m.collectMs.toFixed(0)} ms per collection (${m.collectCpuMs.toFixed(0)} ms of CPU)`,
    });
  }
  report('userspace-scaling', rows, { loadavg: (await import('node:os')).loadavg() });
}

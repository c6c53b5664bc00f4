// `xdp-decap demo`: a throwaway testbed, a real tap before and after, the plugin run as a user runs it, a summary.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SKIP_REASONS, type SkipReason } from '../decode/layout.ts';
import type { TunnelType } from '../decode/tunnel-types.ts';
import { bpfObjectPath } from '../program/decap-program.ts';
import { PcapReader, PcapWriter } from '../replay/pcap.ts';
import { formatTable } from '../replay/summary-table.ts';
import { startCapture } from '../testbed/capture.ts';
import type { TunnelFrame } from '../testbed/encapsulate.ts';
import { innerFrame } from '../testbed/inner-frame.ts';
import { Testbed, type VxlanTunnel } from '../testbed/testbed.ts';
import { erspanFrame, geneveFrame } from '../testbed/tunnel-frames.ts';
import { demoCollectorConfig } from './collector.ts';
import { latestValue, readExports } from './otlp-json.ts';
import { summarizeTap, type TapFlow } from './tap-flows.ts';

export interface DemoOptions {
  /** Seconds of traffic while xdp-decap runs. */
  durationSeconds: number;
  /** How many VXLAN tunnels (VNIs 100, 200, ...). */
  vnis: number;
  /** Export to this OTLP/HTTP metrics URL instead of the demo's own sink. */
  otlpUrl?: string;
  /** Run xdp-decap through this OpenTelemetry Collector (built with the xdp_decap receiver) instead of `xdp-decap run`. */
  collectorBinary?: string;
  /** Progress and live-table output (stderr when --json). */
  out: (text: string) => void;
  /** Redraw-in-place for the live table (terminal only). */
  live?: (text: string) => void;
}

export interface DemoVniRow {
  vni: number;
  type: TunnelType;
  sentFrames: number;
  sentBytes: number;
  packets: number;
  bytes: number;
  overheadBytes: number;
  flows: number;
  match: boolean;
}

export interface DemoSummary {
  ok: boolean;
  vnis: DemoVniRow[];
  skipped: Record<SkipReason, number>;
  plainFramesSent: number;
  tap: { before: TapFlow[]; after: TapFlow[] };
  otlp: { endpoint: string; exportsReceived: number | null };
  /** Where the counts came from: the demo's OTLP sink, or the kernel maps when exporting elsewhere. */
  countedFrom: 'otlp' | 'kernel';
  /** Who ran xdp-decap: `xdp-decap run`, or the Collector's xdp_decap receiver (--collector). */
  host: 'run' | 'collector';
}

const GENEVE_VNI = 5000;
const GENEVE_FRAMES = 40;
/** A port-mirror source beside the VTEPs: ERSPAN type II frames of this session, mirroring 172.16.60.0/24. */
const ERSPAN_SESSION = 300;
const ERSPAN_FRAMES = 30;
const PLAIN_PINGS = 20;
const SINK_PORT = 4318;

/** The demo was stopped by a signal; its testbed has been removed. */
export class DemoInterrupted extends Error {
  readonly signal: string;

  constructor(signal: string) {
    super(`${signal}: demo stopped; its testbed was removed`);
    this.name = 'DemoInterrupted';
    this.signal = signal;
  }
}

/** One line per missing requirement, with its fix; empty when the demo can run. */
export function demoPreflight(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('not root: the demo creates network namespaces and loads BPF; run it with sudo (or as root)');
  if (!existsSync('/sys/fs/bpf') || spawnSync('mountpoint', ['-q', '/sys/fs/bpf']).status !== 0) {
    problems.push('bpffs is not mounted at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf');
  }
  try {
    bpfObjectPath();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['ping', 'iputils-ping'],
    ['tcpdump', 'tcpdump'],
    ['tcpreplay', 'tcpreplay'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) problems.push(`${tool} is missing: apt-get install ${pkg}`);
  }
  return problems;
}

function script(name: string): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`${name}${ext}`, import.meta.url));
}

/** Starts a process and resolves once a line of its output matches `ready` (rejects on exit or timeout). */
function startUntil(cmd: string, args: string[], ready: RegExp, what: string, env?: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 15 s; it said: ${seen.slice(-500)}`)), 15000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready: ${seen.slice(-500)}`));
    });
  });
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Captures on the capture host's interface while `during` runs; returns the flows the tap saw. */
async function tapWhile(bed: Testbed, pcap: string, during: () => Promise<void>): Promise<TapFlow[]> {
  const capture = await startCapture(bed.cap, bed.capIf, pcap);
  try {
    await during();
  } finally {
    await capture.stop();
  }
  const reader = PcapReader.open(pcap);
  const frames: Buffer[] = [];
  try {
    for (let r = reader.next(); r; r = reader.next()) frames.push(r.data);
  } finally {
    reader.close();
  }
  return summarizeTap(frames);
}

/** Runs the traffic generator inside the mirror source until it exits. */
async function sendInnerTraffic(bed: Testbed, tunnels: VxlanTunnel[], seconds: number): Promise<void> {
  const plan = JSON.stringify({ targets: tunnels.map((t) => t.innerDst), durationMs: seconds * 1000, udpPerSecond: 20 });
  const pings = tunnels.map((t) =>
    spawn('ip', ['netns', 'exec', bed.src, 'ping', '-q', '-c', String(seconds * 5), '-i', '0.2', '-W', '0.2', t.innerDst], { stdio: 'ignore' }),
  );
  const gen = spawn('ip', ['netns', 'exec', bed.src, process.execPath, script('traffic'), plan], { stdio: 'ignore' });
  await Promise.all([...pings, gen].map((p) => new Promise((r) => p.once('exit', r))));
}

/**
 * Writes `count` crafted tunnel frames to a pcap and replays them into the capture host with tcpreplay (this
 * kernel may have no Geneve or ERSPAN device); returns what was sent and the inner bytes a correct decap leaves.
 */
function injectCrafted(bed: Testbed, file: string, count: number, build: (i: number) => TunnelFrame): { frames: number; bytes: number } {
  const writer = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
  let bytes = 0;
  try {
    for (let i = 0; i < count; i++) {
      const { frame, inner } = build(i);
      bytes += inner.length;
      writer.write({ tsSec: i, tsFrac: 0, caplen: frame.length, origLen: frame.length, data: frame });
    }
  } finally {
    writer.close();
  }
  const r = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', '-i', bed.srcIf, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tcpreplay failed: ${r.stderr}`);
  return { frames: count, bytes };
}

/** Geneve frames for GENEVE_VNI (UDP to 172.16.50.2:8125). */
function injectGeneve(bed: Testbed, dir: string, capMac: string, srcMac: string): { frames: number; bytes: number } {
  return injectCrafted(bed, join(dir, 'geneve.pcap'), GENEVE_FRAMES, (i) => {
    const inner = innerFrame({ src: '172.16.50.1', dst: '172.16.50.2', protocol: 'udp', sport: 40000 + (i % 4), dport: 8125, payloadSize: 64 });
    return geneveFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, srcMac, dstMac: capMac, vni: GENEVE_VNI, inner });
  });
}

/** A switch's ERSPAN type II port mirror (GRE 0x88BE) of a TCP conversation 172.16.60.1 -> 172.16.60.2:443. */
function injectErspan(bed: Testbed, dir: string, capMac: string, srcMac: string): { frames: number; bytes: number } {
  return injectCrafted(bed, join(dir, 'erspan.pcap'), ERSPAN_FRAMES, (i) => {
    const inner = innerFrame({ src: '172.16.60.1', dst: '172.16.60.2', protocol: 'tcp', sport: 41000 + (i % 3), dport: 443, payloadSize: 100 });
    return erspanFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, srcMac, dstMac: capMac, erspanType: 2, sessionId: ERSPAN_SESSION, seq: i, inner });
  });
}

interface StatusJson {
  vnis: Array<{ interface: string | null; type: TunnelType; vni: number; packets: number; bytes: number; overheadBytes: number; flows: number }>;
  skipped: Array<{ interface: string | null; reason: SkipReason; packets: number }>;
}

/** `xdp-decap status --json` in the capture host: the kernel's counters, read the way a user reads them. */
function readStatus(bed: Testbed): Promise<StatusJson> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', bed.cap, process.execPath, script('../cli'), 'status', '--interface', bed.capIf, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as StatusJson) : reject(new Error(`xdp-decap status failed: ${err}`))));
  });
}

function liveTable(status: StatusJson): string {
  const rows = [...status.vnis].sort((a, b) => a.vni - b.vni).map((v) => [v.vni, v.type, v.packets, v.bytes, v.overheadBytes, v.flows]);
  const skipped =
    status.skipped
      .filter((s) => s.packets > 0)
      .map((s) => `${s.reason} ${s.packets}`)
      .join(', ') || 'none';
  return `${formatTable(['vni', 'type', 'packets', 'inner bytes', 'overhead', 'flows'], rows)}\npassed untouched: ${skipped}`;
}

/** Runs the whole demo; always removes its testbed, also on error and on SIGINT/SIGTERM. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const say = options.out;
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-demo-'));
  let bed: Testbed | undefined;
  let sink: ChildProcess | undefined;
  let plugin: ChildProcess | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    const onSignal = (sig: string) => reject(new DemoInterrupted(sig));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  interrupted.catch(() => undefined);
  const step = async <T>(label: string, fn: () => Promise<T> | T): Promise<T> => {
    say(`• ${label}`);
    return Promise.race([Promise.resolve().then(fn), interrupted]);
  };

  try {
    bed = await step('building the testbed: namespaces "mirror source" and "capture host", a veth pair', () => Testbed.create('demo'));
    const b = bed;
    const tunnels = await step(
      `creating ${options.vnis} VXLAN tunnels (ip link add type vxlan), VNIs ${Array.from({ length: options.vnis }, (_, i) => (i + 1) * 100).join(', ')}`,
      () => Array.from({ length: options.vnis }, (_, i) => b.addVxlan((i + 1) * 100)),
    );
    const capMac = b.macOf(b.cap, b.capIf);
    const srcMac = b.macOf(b.src, b.srcIf);
    const sinkFile = join(dir, 'otlp.jsonl');
    const endpoint = options.otlpUrl ?? `http://127.0.0.1:${SINK_PORT}/v1/metrics`;
    if (!options.otlpUrl) {
      sink = await step(`starting an OTLP/HTTP receiver on 127.0.0.1:${SINK_PORT} inside the capture host`, () =>
        startUntil('ip', ['netns', 'exec', b.cap, process.execPath, script('otlp-sink'), String(SINK_PORT), sinkFile], /listening/, 'OTLP sink'),
      );
    }

    const before = await step('BEFORE: tcpdump on the capture interface, no xdp-decap, 2 s of mirrored traffic', () =>
      tapWhile(b, join(dir, 'before.pcap'), () => sendInnerTraffic(b, tunnels, 2)),
    );

    if (options.collectorBinary) {
      const collectorBinary = options.collectorBinary;
      const configFile = join(dir, 'otelcol.yaml');
      const yaml = demoCollectorConfig({ interface: b.capIf, sinkUrl: `http://127.0.0.1:${SINK_PORT}`, prometheus: '127.0.0.1:9464' });
      writeFileSync(configFile, yaml);
      say(`• the Collector config (${configFile}):\n${yaml.replace(/^/gm, '    ').trimEnd()}`);
      plugin = await step(
        `starting the OpenTelemetry Collector in the capture host: ${collectorBinary} --config ${configFile}; its xdp_decap receiver runs xdp-decap (generic XDP on ${b.capIf})`,
        () => startUntil('ip', ['netns', 'exec', b.cap, collectorBinary, '--config', configFile], /attached in/, 'the Collector'),
      );
    } else {
      const config = {
        interfaces: [{ name: b.capIf, mode: 'generic' }],
        flowIdleTimeoutSeconds: 300,
        metrics: { endpoint, exportIntervalSeconds: 1, encoding: options.otlpUrl ? 'protobuf' : 'json' },
      };
      const configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      plugin = await step(`starting xdp-decap run --config ${configFile} in the capture host (generic XDP on ${b.capIf})`, () =>
        startUntil('ip', ['netns', 'exec', b.cap, process.execPath, script('../cli'), 'run', '--config', configFile], /attached in/, 'xdp-decap run'),
      );
    }

    const sentBefore = tunnels.map((t) => b.txCounters(t.device));
    let geneve = { frames: 0, bytes: 0 };
    let erspan = { frames: 0, bytes: 0 };
    const after = await step(
      `AFTER: the same tap with xdp-decap attached, ${options.durationSeconds} s of traffic (+ Geneve frames, an ERSPAN port mirror and plain pings)`,
      () =>
        tapWhile(b, join(dir, 'after.pcap'), async () => {
          const liveTimer = setInterval(() => {
            readStatus(b).then(
              (st) => options.live?.(liveTable(st)),
              () => undefined /* the next tick redraws */,
            );
          }, 1000);
          try {
            const traffic = sendInnerTraffic(b, tunnels, options.durationSeconds);
            geneve = injectGeneve(b, dir, capMac, srcMac);
            erspan = injectErspan(b, dir, capMac, srcMac);
            spawnSync('ip', ['netns', 'exec', b.src, 'ping', '-q', '-c', String(PLAIN_PINGS), '-i', '0.05', '-W', '0.5', b.capIp]);
            await traffic;
          } finally {
            clearInterval(liveTimer);
          }
        }),
    );
    const sentAfter = tunnels.map((t) => b.txCounters(t.device));

    // The kernel's count, then wait until the OTLP export has caught up with it (export interval 1 s).
    const kernel = await readStatus(b);
    options.live?.(liveTable(kernel));
    const counted = (type: string, vni: number, field: 'packets' | 'bytes' | 'overheadBytes' | 'flows') =>
      kernel.vnis.filter((v) => v.type === type && v.vni === vni).reduce((a, v) => a + v[field], 0);
    let exportsReceived: number | null = null;
    let countedFrom: DemoSummary['countedFrom'] = 'kernel';
    let fromOtlp = (_type: string, _vni: number, _metric: string): number | undefined => undefined;
    if (!options.otlpUrl) {
      await step('waiting for the OTLP export to carry the final counts', async () => {
        for (let i = 0; i < 50; i++) {
          const exports = readExports(sinkFile);
          const done = [...tunnels.map((t) => ['vxlan', t.vni] as const), ['geneve', GENEVE_VNI] as const, ['erspan', ERSPAN_SESSION] as const].every(
            ([type, vni]) =>
              latestValue(exports, 'decap.tunnel.packet.count', { 'decap.tunnel.id': vni, 'decap.tunnel.type': type }) === counted(type, vni, 'packets'),
          );
          if (done) break;
          await sleep(200);
        }
      });
      const exports = readExports(sinkFile);
      exportsReceived = exports.length;
      countedFrom = 'otlp';
      fromOtlp = (type, vni, metric) => latestValue(exports, metric, { 'decap.tunnel.id': vni, 'decap.tunnel.type': type });
    }
    const value = (type: TunnelType, vni: number, metric: string, field: 'packets' | 'bytes' | 'overheadBytes' | 'flows') =>
      countedFrom === 'otlp' ? (fromOtlp(type, vni, metric) ?? 0) : counted(type, vni, field);

    const rows: DemoVniRow[] = tunnels.map((t, i) => {
      const frames = sentAfter[i]!.packets - sentBefore[i]!.packets;
      // A VXLAN device counts IP bytes; the inner frame adds its 14-byte Ethernet header.
      const bytes = sentAfter[i]!.bytes - sentBefore[i]!.bytes + 14 * frames;
      const row = { vni: t.vni, type: 'vxlan' as const, sentFrames: frames, sentBytes: bytes };
      return finishRow(row, value);
    });
    rows.push(finishRow({ vni: GENEVE_VNI, type: 'geneve', sentFrames: geneve.frames, sentBytes: geneve.bytes }, value));
    rows.push(finishRow({ vni: ERSPAN_SESSION, type: 'erspan', sentFrames: erspan.frames, sentBytes: erspan.bytes }, value));
    const skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
    for (const s of kernel.skipped) skipped[s.reason] += s.packets;

    const stopping = options.collectorBinary
      ? 'stopping the Collector (SIGTERM: its receiver stops xdp-decap: detach, last export)'
      : 'stopping xdp-decap (SIGTERM: detach, last export)';
    await step(stopping, async () => {
      const code = await stopChild(plugin);
      plugin = undefined;
      if (code !== 0) throw new Error(`${options.collectorBinary ? 'the Collector' : 'xdp-decap run'} exited ${code} on SIGTERM`);
    });
    const ok = rows.every((r) => r.match) && skipped.not_tunnel >= PLAIN_PINGS;
    return {
      ok,
      vnis: rows,
      skipped,
      plainFramesSent: PLAIN_PINGS,
      tap: { before, after },
      otlp: { endpoint, exportsReceived },
      countedFrom,
      host: options.collectorBinary ? 'collector' : 'run',
    };
  } finally {
    await stopChild(plugin);
    await stopChild(sink);
    bed?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function finishRow(
  sent: { vni: number; type: TunnelType; sentFrames: number; sentBytes: number },
  value: (type: TunnelType, vni: number, metric: string, field: 'packets' | 'bytes' | 'overheadBytes' | 'flows') => number,
): DemoVniRow {
  const packets = value(sent.type, sent.vni, 'decap.tunnel.packet.count', 'packets');
  const bytes = value(sent.type, sent.vni, 'decap.tunnel.io', 'bytes');
  return {
    ...sent,
    packets,
    bytes,
    overheadBytes: value(sent.type, sent.vni, 'decap.tunnel.overhead', 'overheadBytes'),
    flows: value(sent.type, sent.vni, 'decap.tunnel.flow.count', 'flows'),
    match: packets === sent.sentFrames && bytes === sent.sentBytes,
  };
}

/** The human summary: taps side by side, sent vs counted, next steps. */
export function formatDemoSummary(s: DemoSummary): string {
  const tapRows = (flows: TapFlow[]) => flows.slice(0, 8).map((f) => [f.protocol, f.src, f.dst, f.packets]);
  const lines = [
    '',
    'What the tap (tcpdump on the capture interface) saw, busiest flows first:',
    '',
    'BEFORE (no xdp-decap): only the tunnel between the VTEPs',
    formatTable(['proto', 'source', 'destination', 'frames'], tapRows(s.tap.before)),
    '',
    'AFTER (xdp-decap attached): the client conversations inside the tunnels',
    formatTable(['proto', 'source', 'destination', 'frames'], tapRows(s.tap.after)),
    '',
    `Sent vs counted per VNI (counted from ${s.countedFrom === 'otlp' ? `the OTLP export ${s.host === 'collector' ? 'the Collector forwarded to' : 'received at'} ${s.otlp.endpoint}` : `the kernel maps; metrics went to ${s.otlp.endpoint}`}):`,
    formatTable(
      ['vni', 'type', 'frames sent', 'packets counted', 'inner bytes sent', 'bytes counted', 'overhead', 'flows', 'match'],
      s.vnis.map((v) => [v.vni, v.type, v.sentFrames, v.packets, v.sentBytes, v.bytes, v.overheadBytes, v.flows, v.match ? 'yes' : 'NO']),
    ),
    `plain (non-tunnel) frames passed untouched: ${s.skipped.not_tunnel} (${s.plainFramesSent} pings sent)`,
    '',
    s.ok ? 'Result: every VNI counted exactly what was sent.' : 'Result: MISMATCH between what was sent and what was counted (see above).',
    '',
    'Next steps (README sections): "Run it on a capture host", "Enable it in your collector", "Metrics",',
    '"Replay a capture offline".',
  ];
  return lines.join('\n');
}

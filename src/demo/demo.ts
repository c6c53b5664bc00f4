// `xdp-decap demo`: a throwaway testbed, a real tap before and after, the plugin run as a user runs it, a summary.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bpfObjectPath } from '../program/decap-program.ts';
import { Testbed } from '../testbed/testbed.ts';
import { liveTable, readStatus } from './kernel-status.ts';
import { stopChild } from './processes.ts';
import { otlpEndpoint, startOtlpSink, startXdpDecap, stopXdpDecap } from './run-xdp-decap.ts';
import { PLAIN_PINGS } from './send-traffic.ts';
import { countedByExport, countedByKernel, sentVsCounted, skippedByReason, waitForExport } from './sent-vs-counted.ts';
import { interruptibleSteps } from './steps.ts';
import type { DemoSummary } from './summary.ts';
import { tapAfter, tapBefore } from './tap.ts';

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

/** Runs the whole demo; always removes its testbed, also on error and on SIGINT/SIGTERM. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const step = interruptibleSteps(options.out);
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-demo-'));
  const host = { endpoint: otlpEndpoint(options.otlpUrl), otlpUrl: options.otlpUrl, collectorBinary: options.collectorBinary };
  let bed: Testbed | undefined;
  let sink: ChildProcess | undefined;
  let xdpDecap: ChildProcess | undefined;
  try {
    bed = await step('building the testbed: namespaces "mirror source" and "capture host", a veth pair', () => Testbed.create('demo'));
    const b = bed;
    const tunnels = await step(
      `creating ${options.vnis} VXLAN tunnels (ip link add type vxlan), VNIs ${Array.from({ length: options.vnis }, (_, i) => (i + 1) * 100).join(', ')}`,
      () => Array.from({ length: options.vnis }, (_, i) => b.addVxlan((i + 1) * 100)),
    );
    const sinkFile = join(dir, 'otlp.jsonl');
    if (!options.otlpUrl) sink = await startOtlpSink(step, b, sinkFile);
    const before = await tapBefore(step, b, dir, tunnels);
    xdpDecap = await startXdpDecap(step, options.out, b, dir, host);
    const { after, sent } = await tapAfter(step, b, dir, tunnels, options.durationSeconds, options.live);

    // The kernel's count, then wait until the OTLP export has caught up with it (export interval 1 s).
    const kernel = await readStatus(b);
    options.live?.(liveTable(kernel));
    if (!options.otlpUrl) await step('waiting for the OTLP export to carry the final counts', () => waitForExport(sinkFile, kernel, sent));
    const counted = options.otlpUrl ? countedByKernel(kernel) : countedByExport(sinkFile);
    const rows = sent.map((s) => sentVsCounted(s, counted));
    const skipped = skippedByReason(kernel);

    await stopXdpDecap(step, xdpDecap, host);
    xdpDecap = undefined;
    return {
      ok: rows.every((r) => r.match) && skipped.not_tunnel >= PLAIN_PINGS,
      vnis: rows,
      skipped,
      plainFramesSent: PLAIN_PINGS,
      tap: { before, after },
      otlp: { endpoint: host.endpoint, exportsReceived: counted.exportsReceived },
      countedFrom: counted.from,
      host: options.collectorBinary ? 'collector' : 'run',
    };
  } finally {
    await stopChild(xdpDecap);
    await stopChild(sink);
    bed?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

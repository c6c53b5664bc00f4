// xdp-decap in the capture host as a user runs it, `xdp-decap run` or the Collector's xdp_decap receiver, and the
// OTLP/HTTP receiver (otlp-sink.ts) it exports to unless the demo exports elsewhere.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Testbed } from '../testbed/testbed.ts';
import { demoCollectorConfig } from './collector.ts';
import { demoScript, startUntil, stopChild } from './processes.ts';
import type { Step } from './steps.ts';

const SINK_PORT = 4318;

/** Who runs xdp-decap and where it exports. */
export interface XdpDecapHost {
  /** The OTLP/HTTP metrics URL xdp-decap exports to. */
  endpoint: string;
  /** Export there (protobuf) instead of to the demo's own sink (JSON). */
  otlpUrl?: string;
  /** Run it through this OpenTelemetry Collector instead of `xdp-decap run`. */
  collectorBinary?: string;
}

/** The metrics URL of the demo's sink, or `otlpUrl` when given. */
export function otlpEndpoint(otlpUrl: string | undefined): string {
  return otlpUrl ?? `http://127.0.0.1:${SINK_PORT}/v1/metrics`;
}

/** Starts the demo's OTLP/HTTP receiver in the capture host; it appends each export to `sinkFile`. */
export function startOtlpSink(step: Step, bed: Testbed, sinkFile: string): Promise<ChildProcess> {
  return step(`starting an OTLP/HTTP receiver on 127.0.0.1:${SINK_PORT} inside the capture host`, () =>
    startUntil('ip', ['netns', 'exec', bed.cap, process.execPath, demoScript('otlp-sink'), String(SINK_PORT), sinkFile], /listening/, 'OTLP sink'),
  );
}

/** The Collector with its config written to `dir` (and shown through `say`), its receiver running xdp-decap. */
function startCollector(step: Step, say: (text: string) => void, bed: Testbed, dir: string, collectorBinary: string): Promise<ChildProcess> {
  const configFile = join(dir, 'otelcol.yaml');
  const yaml = demoCollectorConfig({ interface: bed.capIf, sinkUrl: `http://127.0.0.1:${SINK_PORT}`, prometheus: '127.0.0.1:9464' });
  writeFileSync(configFile, yaml);
  say(`• the Collector config (${configFile}):\n${yaml.replace(/^/gm, '    ').trimEnd()}`);
  return step(
    `starting the OpenTelemetry Collector in the capture host: ${collectorBinary} --config ${configFile}; its xdp_decap receiver runs xdp-decap (generic XDP on ${bed.capIf})`,
    () => startUntil('ip', ['netns', 'exec', bed.cap, collectorBinary, '--config', configFile], /attached in/, 'the Collector'),
  );
}

/** `xdp-decap run` with a config written to `dir`: generic XDP on the capture interface, exporting every second. */
function startRun(step: Step, bed: Testbed, dir: string, host: XdpDecapHost): Promise<ChildProcess> {
  const config = {
    interfaces: [{ name: bed.capIf, mode: 'generic' }],
    flowIdleTimeoutSeconds: 300,
    metrics: { endpoint: host.endpoint, exportIntervalSeconds: 1, encoding: host.otlpUrl ? 'protobuf' : 'json' },
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return step(`starting xdp-decap run --config ${configFile} in the capture host (generic XDP on ${bed.capIf})`, () =>
    startUntil('ip', ['netns', 'exec', bed.cap, process.execPath, demoScript('../cli'), 'run', '--config', configFile], /attached in/, 'xdp-decap run'),
  );
}

/** Starts xdp-decap in the capture host as `host` says; resolves once it has attached. */
export function startXdpDecap(step: Step, say: (text: string) => void, bed: Testbed, dir: string, host: XdpDecapHost): Promise<ChildProcess> {
  return host.collectorBinary ? startCollector(step, say, bed, dir, host.collectorBinary) : startRun(step, bed, dir, host);
}

/** Stops xdp-decap (or the Collector running it) with SIGTERM: it detaches and exports a last time; any exit but 0 throws. */
export async function stopXdpDecap(step: Step, child: ChildProcess | undefined, host: XdpDecapHost): Promise<void> {
  const stopping = host.collectorBinary
    ? 'stopping the Collector (SIGTERM: its receiver stops xdp-decap: detach, last export)'
    : 'stopping xdp-decap (SIGTERM: detach, last export)';
  await step(stopping, async () => {
    const code = await stopChild(child);
    if (code !== 0) throw new Error(`${host.collectorBinary ? 'the Collector' : 'xdp-decap run'} exited ${code} on SIGTERM`);
  });
}

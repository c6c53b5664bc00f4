// The demo's Collector: builds (or takes from the cache) the distribution with the xdp_decap receiver, and writes the config it runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this module runs from (src/demo/ or dist/src/demo/): the directory holding scripts/build-collector.sh. */
function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'scripts', 'build-collector.sh'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('scripts/build-collector.sh not found above this file: run the demo from an xdp-decap checkout');
}

/** Runs scripts/build-collector.sh (minutes the first time, cached after) and returns the Collector's path. */
export function buildDemoCollector(): string {
  const r = spawnSync('bash', [join(checkoutRoot(), 'scripts', 'build-collector.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const binary = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !binary) {
    const tail = r.stderr.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`building the Collector with scripts/build-collector.sh failed (${r.status ?? r.signal}): ${tail}`);
  }
  return binary;
}

/**
 * The Collector config of `demo --collector`: the xdp_decap receiver on the capture interface, exporting every
 * second to the demo's OTLP/HTTP JSON sink (which the summary reads) and to a Prometheus endpoint.
 */
export function demoCollectorConfig(o: { interface: string; sinkUrl: string; prometheus: string }): string {
  return [
    '# xdp-decap demo: the OpenTelemetry Collector runs xdp-decap through its xdp_decap receiver.',
    'receivers:',
    '  xdp_decap:',
    `    interfaces: [{ name: ${o.interface}, mode: generic }]`,
    '    flow_idle_timeout: 300s',
    '    collection_interval: 1s',
    'exporters:',
    '  otlphttp/demo:            # the demo reads what the Collector forwards',
    `    endpoint: ${o.sinkUrl}`,
    '    encoding: json',
    '    compression: none',
    '  prometheus:',
    `    endpoint: ${o.prometheus}`,
    'service:',
    '  pipelines:',
    '    metrics:',
    '      receivers: [xdp_decap]',
    '      exporters: [otlphttp/demo, prometheus]',
    '  telemetry:',
    '    metrics:',
    '      level: none',
    '',
  ].join('\n');
}

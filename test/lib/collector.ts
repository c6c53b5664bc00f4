// The real OpenTelemetry Collector for the live tests: built by scripts/build-collector.sh, run in a testbed namespace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './env.ts';

export const COLLECTOR_CONFIG = join(REPO_ROOT, 'examples', 'otelcol', 'config.yaml');

/** Builds (or takes from the cache) the collector of examples/otelcol/builder-config.yaml; returns its path. */
export function buildCollector(): { binary: string; seconds: number } {
  const started = Date.now();
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'build-collector.sh')], { encoding: 'utf8', timeout: 30 * 60 * 1000, maxBuffer: 64 * 1024 * 1024 });
  const binary = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !binary) throw new Error(`scripts/build-collector.sh failed (${r.status ?? r.signal}):\n${r.stderr.split('\n').slice(-30).join('\n')}`);
  return { binary, seconds: (Date.now() - started) / 1000 };
}

/**
 * A config overlay for the tests: also forwards the raw NetFlow records to `logsEndpoint` (an OTLP/HTTP JSON
 * sink), so a test can see each flow. Merged over examples/otelcol/config.yaml, which is used unchanged.
 */
export function writeFlowLogsOverlay(dir: string, logsEndpoint: string): string {
  const file = join(dir, 'collector-test-overlay.yaml');
  writeFileSync(
    file,
    [
      '# Test overlay: forwards raw flow records to the test sink, beside everything examples/otelcol/config.yaml does.',
      'exporters:',
      '  otlphttp/flowlogs:',
      `    endpoint: ${logsEndpoint}`,
      '    encoding: json',
      '    compression: none',
      'service:',
      '  pipelines:',
      '    logs:',
      '      exporters: [sum, debug, otlphttp/flowlogs]',
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * A config overlay for a standalone `xdp-decap run` pushing OTLP to the collector: takes the xdp_decap receiver
 * out of the metrics pipeline (it stays configured, unused), so the collector attaches nothing itself.
 */
export function writeStandaloneOverlay(dir: string): string {
  const file = join(dir, 'collector-standalone-overlay.yaml');
  writeFileSync(
    file,
    [
      '# Test overlay: xdp-decap runs standalone and pushes OTLP; the receiver is not in any pipeline.',
      'service:',
      '  pipelines:',
      '    metrics:',
      '      receivers: [otlp]',
      '',
    ].join('\n'),
  );
  return file;
}

export class Collector {
  private child: ChildProcess | undefined;
  private out = '';

  private constructor() {}

  /** Starts `binary --config A --config B ...` in `ns` and waits until it says it is ready. */
  /** `wrap` goes before the binary (e.g. setpriv dropping capabilities); it must exec the binary in place. */
  static async start(options: { binary: string; ns: string; configs: string[]; env?: NodeJS.ProcessEnv; wrap?: string[] }): Promise<Collector> {
    const c = new Collector();
    const args = options.configs.flatMap((f) => ['--config', f]);
    c.child = spawn('ip', ['netns', 'exec', options.ns, ...(options.wrap ?? []), options.binary, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    c.child.stdout!.on('data', (d: Buffer) => (c.out += d.toString()));
    c.child.stderr!.on('data', (d: Buffer) => (c.out += d.toString()));
    const deadline = Date.now() + 30000;
    while (!/Everything is ready/.test(c.out)) {
      if (c.child.exitCode !== null || Date.now() > deadline) {
        const why = c.child.exitCode !== null ? `exited ${c.child.exitCode}` : 'not ready after 30 s';
        c.stop();
        throw new Error(`collector ${why}:\n${c.out.split('\n').slice(-40).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return c;
  }

  output(): string {
    return this.out;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); resolves to the exit code or signal. */
  async terminate(timeoutMs = 30000): Promise<number | string> {
    const child = this.child;
    if (!child) return 'not running';
    const exited =
      child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
    return child.exitCode ?? child.signalCode ?? 'unknown';
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

/** One NetFlow/IPFIX flow record as the collector's netflow receiver turned it into an OTLP log record. */
export interface FlowLogRecord {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  transport: string;
  packets: number;
  bytes: number;
  flowType: string;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
}

/** Every flow record in an OTLP/HTTP JSON logs file written by src/demo/otlp-sink.ts. */
export function readFlowRecords(file: string): FlowLogRecord[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: FlowLogRecord[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const body = (
      JSON.parse(line) as {
        body: { resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: Array<{ attributes?: Array<{ key: string; value: OtlpAnyValue }> }> }> }> };
      }
    ).body;
    for (const rl of body.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const rec of sl.logRecords ?? []) {
          const a = new Map((rec.attributes ?? []).map((kv) => [kv.key, kv.value]));
          const str = (k: string) => a.get(k)?.stringValue ?? '';
          const int = (k: string) => Number(a.get(k)?.intValue ?? NaN);
          out.push({
            src: str('source.address'),
            dst: str('destination.address'),
            sport: int('source.port'),
            dport: int('destination.port'),
            transport: str('network.transport'),
            packets: int('flow.io.packets'),
            bytes: int('flow.io.bytes'),
            flowType: str('flow.type'),
          });
        }
      }
    }
  }
  return out;
}

/** One sample of the Prometheus text exposition format. */
export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of a Prometheus exposition (the subset the collector's exporter writes: no escapes in label values beyond \\" and \\\\). */
export function parseExposition(text: string): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `where`. */
export function sumSamples(samples: ExpositionSample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

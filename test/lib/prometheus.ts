// A real Prometheus server for tests (Debian's /usr/bin/prometheus), optionally inside a namespace; HTTP goes through a pluggable fetcher.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './env.ts';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const EXAMPLE_PROMETHEUS_CONFIG = join(REPO_ROOT, 'examples', 'prometheus', 'prometheus.yml');

/** GETs a URL and resolves with the response body whatever the HTTP status; rejects when nothing answered. */
export type FetchText = (url: string) => Promise<string>;

export interface PrometheusArgvOptions {
  config: string;
  /** TSDB directory (--storage.tsdb.path). */
  storageDir: string;
  port: number;
  /** Run through this command, e.g. ['ip', 'netns', 'exec', NS]. */
  prefix?: readonly string[];
  binary?: string;
  extraArgs?: readonly string[];
}

/** The full argv, prefix included: [...prefix, prometheus, --config.file=..., --storage.tsdb.path=..., --web.listen-address=127.0.0.1:PORT, ...extra]. */
export function prometheusArgv(o: PrometheusArgvOptions): string[] {
  return [
    ...(o.prefix ?? []),
    o.binary ?? PROMETHEUS_BINARY,
    `--config.file=${o.config}`,
    `--storage.tsdb.path=${o.storageDir}`,
    `--web.listen-address=127.0.0.1:${o.port}`,
    ...(o.extraArgs ?? []),
  ];
}

/** A FetchText that runs `[...prefix] curl -sS URL` (e.g. inside a namespace with ['ip', 'netns', 'exec', NS]). */
export function curlFetcher(prefix: readonly string[] = [], timeoutSeconds = 10): FetchText {
  const argv = [...prefix, 'curl', '-sS', '--max-time', String(timeoutSeconds), '--globoff'];
  return (url) =>
    new Promise((resolve, reject) => {
      execFile(argv[0]!, [...argv.slice(1), url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${[...argv, url].join(' ')} failed (${err.code ?? err.signal ?? err.message}): ${stderr.trim()}`));
        else resolve(stdout);
      });
    });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a Prometheus in the test's own network namespace). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}

/**
 * Writes `dir`/prometheus.yml: examples/prometheus/prometheus.yml (or `source`) with every scrape_interval
 * (and scrape_timeout, if any) set to `scrapeInterval`, so a test sees new samples quickly. Everything else
 * (job, honor_labels, the 127.0.0.1:9464 target, comments) is kept byte for byte. Returns the file's path.
 */
export function writeTestPrometheusConfig(dir: string, options: { scrapeInterval?: string; source?: string } = {}): string {
  const interval = options.scrapeInterval ?? '1s';
  const source = options.source ?? EXAMPLE_PROMETHEUS_CONFIG;
  const original = readFileSync(source, 'utf8');
  let replaced = 0;
  const text = original.replace(/^(\s*(?:scrape_interval|scrape_timeout):[ \t]*)([^\s#]+)/gm, (_m, key: string) => {
    replaced++;
    return `${key}${interval}`;
  });
  if (replaced === 0) throw new Error(`${source} sets no scrape_interval: nothing to shorten`);
  const parsed = parseYaml(text) as { global?: { scrape_interval?: string } };
  if (parsed.global?.scrape_interval !== interval) throw new Error(`${source}: global.scrape_interval did not become ${interval}`);
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, `# Test copy of ${source}: scrape_interval ${interval}, everything else identical.\n${text}`);
  return file;
}

/** One series of an instant (value) or range (values) query. */
export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

/** One scrape target as /api/v1/targets reports it. */
export interface PromTarget {
  scrapeUrl: string;
  health: string;
  lastError: string;
  labels: Record<string, string>;
}

interface ApiResponse<T> {
  status: string;
  data?: T;
  errorType?: string;
  error?: string;
}

export interface PrometheusOptions {
  /** Scratch directory: the TSDB goes to `dir`/prometheus-data. */
  dir: string;
  config: string;
  /** Port on 127.0.0.1 (in the prefix's network namespace). Default 9090. */
  port?: number;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', NS]. The default fetcher runs curl with the same prefix. */
  prefix?: readonly string[];
  fetchText?: FetchText;
  binary?: string;
  extraArgs?: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Prometheus {
  readonly argv: string[];
  readonly baseUrl: string;
  readonly fetchText: FetchText;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private exitStatus: string | undefined;
  private out = '';
  private readonly killOnExit = (): void => this.signalGroup('SIGKILL');

  private constructor(options: PrometheusOptions) {
    const port = options.port ?? 9090;
    const storageDir = join(options.dir, 'prometheus-data');
    mkdirSync(storageDir, { recursive: true });
    this.argv = prometheusArgv({
      config: options.config,
      storageDir,
      port,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(options.binary ? { binary: options.binary } : {}),
      ...(options.extraArgs ? { extraArgs: options.extraArgs } : {}),
    });
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.fetchText = options.fetchText ?? curlFetcher(options.prefix ?? []);
    // Its own process group, so stop() also reaches anything a prefix command forked.
    this.child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = signal ? `killed by ${signal}` : `exited ${code}`;
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitStatus = `could not start: ${err.message}`;
        resolve();
      });
    });
    const keep = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > 1_000_000) this.out = this.out.slice(-500_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    process.once('exit', this.killOnExit);
  }

  /** Spawns Prometheus; call waitReady() before querying. */
  static start(options: PrometheusOptions): Prometheus {
    return new Prometheus(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Its log so far (stdout and stderr). */
  output(): string {
    return this.out;
  }

  private tail(lines = 30): string {
    return this.out.trimEnd().split('\n').slice(-lines).join('\n');
  }

  private failIfExited(what: string): void {
    if (this.exitStatus !== undefined) throw new Error(`prometheus ${this.exitStatus} while ${what}: ${this.argv.join(' ')}\n${this.tail()}`);
  }

  /** Polls /-/ready until Prometheus says it is ready. */
  async waitReady(timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      this.failIfExited('waiting for /-/ready');
      try {
        last = await this.fetchText(`${this.baseUrl}/-/ready`);
        if (/is Ready/i.test(last)) return;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`prometheus not ready after ${timeoutMs} ms (last answer: ${last.trim()}):\n${this.tail()}`);
      await sleep(200);
    }
  }

  private async api<T>(path: string, what: string): Promise<T> {
    const text = await this.fetchText(`${this.baseUrl}${path}`);
    let body: ApiResponse<T>;
    try {
      body = JSON.parse(text) as ApiResponse<T>;
    } catch {
      throw new Error(`prometheus answered ${what} with something that is not JSON: ${text.slice(0, 500)}`);
    }
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(`prometheus ${what} failed (${body.errorType ?? body.status}): ${body.error ?? text.slice(0, 500)}`);
    }
    return body.data;
  }

  /**
   * An instant query: the API's result array. A scalar or string result comes back as one series with no
   * labels. Throws with Prometheus' error text and the expression when the status is not 'success'.
   */
  async query(expr: string, time?: number): Promise<PromSeries[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const data = await this.api<{ resultType: string; result: unknown }>(`/api/v1/query?${params.toString()}`, `query ${JSON.stringify(expr)}`);
    if (data.resultType === 'scalar' || data.resultType === 'string') return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as PromSeries[];
  }

  /** The active scrape targets with their health and last error (to explain a series that never came). */
  async targets(): Promise<PromTarget[]> {
    const data = await this.api<{ activeTargets: PromTarget[] }>('/api/v1/targets?state=active', 'targets');
    return data.activeTargets;
  }

  /** Polls `expr` until it returns at least one series with a non-NaN value; returns those series. */
  async waitForSeries(expr: string, timeoutMs = 30000): Promise<PromSeries[]> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      this.failIfExited(`waiting for ${expr}`);
      try {
        const series = (await this.query(expr)).filter((s) => s.value !== undefined && !Number.isNaN(Number(s.value[1])));
        if (series.length > 0) return series;
        last = 'no series with a value';
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        let targets = '';
        try {
          targets = (await this.targets()).map((t) => `${t.scrapeUrl} ${t.health}${t.lastError ? `: ${t.lastError}` : ''}`).join('; ');
        } catch (err) {
          targets = `(targets unavailable: ${(err as Error).message})`;
        }
        throw new Error(`no series for ${expr} after ${timeoutMs} ms (last: ${last}); targets: ${targets || 'none'}`);
      }
      await sleep(500);
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  }

  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5000): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.exitStatus === undefined) {
      this.signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([this.exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (timedOut) {
        this.signalGroup('SIGKILL');
        await this.exited;
      }
    }
    // Anything a prefix command left in the group goes too.
    this.signalGroup('SIGKILL');
  }
}

// A testbed with the plugin's OTLP sink running in the capture namespace, for the live tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OtlpExport, readExports } from '../../src/demo/otlp-json.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { REPO_ROOT } from './env.ts';

export class LiveBed {
  readonly bed: Testbed;
  readonly dir: string;
  readonly sinkFile: string;
  readonly sinkPort = 4318;
  private sink: ChildProcess | undefined;

  private constructor(tag: string) {
    this.bed = Testbed.create(tag);
    this.dir = mkdtempSync(join(tmpdir(), `xdp-decap-${tag}-`));
    this.sinkFile = join(this.dir, 'otlp.jsonl');
  }

  static async create(tag: string): Promise<LiveBed> {
    const live = new LiveBed(tag);
    try {
      await live.startSink();
      return live;
    } catch (err) {
      live.destroy();
      throw err;
    }
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.sinkPort}/v1/metrics`;
  }

  private startSink(): Promise<void> {
    const script = join(REPO_ROOT, 'src', 'demo', 'otlp-sink.ts');
    this.sink = spawn('ip', ['netns', 'exec', this.bed.cap, process.execPath, script, String(this.sinkPort), this.sinkFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Promise((resolve, reject) => {
      this.sink!.stdout!.once('data', () => resolve());
      this.sink!.once('exit', (code) => reject(new Error(`OTLP sink exited ${code}`)));
    });
  }

  /** Writes a config file for `run` that exports JSON to the sink. */
  writeConfig(name: string, config: Record<string, unknown>): string {
    const file = join(this.dir, name);
    const metrics = { endpoint: this.endpoint, encoding: 'json', exportIntervalSeconds: 1, ...(config.metrics as object | undefined) };
    writeFileSync(file, JSON.stringify({ interfaces: [{ name: this.bed.capIf }], ...config, metrics }, null, 2));
    return file;
  }

  exports(): OtlpExport[] {
    return readExports(this.sinkFile);
  }

  /** Waits until `check(exports)` holds (polling the sink's file). */
  async waitForExports(check: (e: OtlpExport[]) => boolean, timeoutMs = 15000): Promise<OtlpExport[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const e = this.exports();
      if (check(e)) return e;
      if (Date.now() > until) throw new Error(`exports never satisfied the check; last export: ${JSON.stringify(e.at(-1)?.points ?? []).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  destroy(): void {
    this.sink?.kill('SIGKILL');
    this.bed.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

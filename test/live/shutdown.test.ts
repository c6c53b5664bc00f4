// `xdp-decap run` stops in time whatever the OTLP endpoint does: SIGTERM with an endpoint that never answers.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SHUTDOWN_EXPORT_BUDGET_MS } from '../../src/metrics/meter-pipeline.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { type CliProcess, startCli } from '../lib/cli.ts';
import { IN_CI, IS_ROOT, requireRoot } from '../lib/env.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (XDP, namespaces); runs in CI' : false;
/** The unit's TimeoutStopSec (examples/systemd/xdp-decap.service): systemd kills the daemon after it. */
const UNIT_STOP_TIMEOUT_MS = 20_000;
/** A TCP server that accepts and never answers, inside the capture namespace. */
const HANGING_SERVER = "require('net').createServer(() => {}).listen(4318, '127.0.0.1', () => console.log('listening'))";

describe('xdp-decap run against an OTLP endpoint that never answers', { skip: SKIP }, () => {
  let bed: Testbed | undefined;
  let dir: string;
  let server: ChildProcess | undefined;
  let run: CliProcess | undefined;

  before(async () => {
    if (!IS_ROOT) return;
    bed = Testbed.create('hang');
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-hang-'));
    server = spawn('ip', ['netns', 'exec', bed.cap, process.execPath, '-e', HANGING_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.once('data', () => resolve());
      server!.once('exit', (code) => reject(new Error(`hanging server exited ${code}`)));
    });
  });

  after(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    server?.kill('SIGKILL');
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('SIGTERM detaches and exits 0 within the shutdown budget, far inside the unit stop timeout; one line says the last export was given up', async (t) => {
    if (!requireRoot(t, 'the live shutdown test')) return;
    const config = join(dir, 'config.json');
    // The default interval's 10 s export timeout: the SDK alone would wait for the export in flight, then 10 s more.
    writeFileSync(
      config,
      JSON.stringify({ interfaces: [{ name: bed!.capIf }], metrics: { endpoint: 'http://127.0.0.1:4318/v1/metrics', exportIntervalSeconds: 12 } }),
    );
    run = startCli(['run', '--config', config], { ns: bed!.cap });
    await run.waitFor(/attached in generic mode/, 60_000);
    // Let the first periodic export start and hang.
    await new Promise((r) => setTimeout(r, 13_000));
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.exited;
    const took = Date.now() - t0;
    assert.equal(code, 0, run.output());
    assert.ok(took < SHUTDOWN_EXPORT_BUDGET_MS + 3000, `stopped in ${took} ms (budget ${SHUTDOWN_EXPORT_BUDGET_MS} ms)`);
    assert.ok(took < UNIT_STOP_TIMEOUT_MS / 2, `well inside TimeoutStopSec (${took} ms)`);
    assert.match(run.output(), /metrics shutdown: the last export to http:\/\/127\.0\.0\.1:4318\/v1\/metrics did not finish within 5 s; exiting without it/);
    const link = spawnSync('ip', ['netns', 'exec', bed!.cap, 'ip', '-d', 'link', 'show', bed!.capIf], { encoding: 'utf8' });
    assert.doesNotMatch(link.stdout, /xdp/, 'detached');
  });
});

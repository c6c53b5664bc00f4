// Reloads of `xdp-decap run`: every save of the config file however it is written, and a reload obeys the rules of a start.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Testbed } from '../../src/testbed/testbed.ts';
import { type CliProcess, startCli } from '../lib/cli.ts';
import { IN_CI, IS_ROOT, requireRoot } from '../lib/env.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (XDP, namespaces); runs in CI' : false;

describe('xdp-decap run reloads its config file', { skip: SKIP }, () => {
  let bed: Testbed | undefined;
  let dir: string;
  let run: CliProcess | undefined;

  before(() => {
    if (!IS_ROOT) return;
    bed = Testbed.create('reload');
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-reload-'));
  });

  after(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const configText = (ports: number[], interfaces = bed ? [{ name: bed.capIf }] : []) =>
    JSON.stringify({ interfaces, vxlanPorts: ports, metrics: { endpoint: 'http://127.0.0.1:4318/v1/metrics', exportIntervalSeconds: 600 } });
  const count = (re: RegExp) => (run!.output().match(new RegExp(re.source, 'g')) ?? []).length;
  /** Waits until `re` has been logged `n` times in all. */
  const loggedTimes = (re: RegExp, n: number) => run!.waitFor(new RegExp(`(?:[\\s\\S]*?${re.source}){${n}}`), 10_000);
  const attached = () => spawnSync('ip', ['netns', 'exec', bed!.cap, 'ip', '-d', 'link', 'show', bed!.capIf], { encoding: 'utf8' }).stdout;

  test('a save by rename (sed -i, editors), in place, and delete-then-write each reload, every time; a broken save is reported, the running config kept', async (t) => {
    if (!requireRoot(t, 'the live reload test')) return;
    const config = join(dir, 'config.json');
    writeFileSync(config, configText([4789]));
    run = startCli(['run', '--config', config], { ns: bed!.cap });
    await run.waitFor(/attached in generic mode/, 60_000);
    const reloaded = /config reloaded/;
    let n = 0;
    const byRename = (ports: number[]) => {
      const tmp = join(dir, '.config.json.tmp');
      writeFileSync(tmp, configText(ports));
      renameSync(tmp, config);
    };
    // Three saves by rename in a row: the old watcher died after the first.
    for (const port of [9790, 9791, 9792]) {
      byRename([4789, port]);
      await loggedTimes(reloaded, ++n);
    }
    writeFileSync(config, configText([4789, 9793])); // in place
    await loggedTimes(reloaded, ++n);
    unlinkSync(config);
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(config, configText([4789, 9794])); // deleted, then written again
    await loggedTimes(reloaded, ++n);
    writeFileSync(config, '{ not json');
    await run.waitFor(/config not applied, keeping the running one: .*not valid JSON/, 10_000);
    byRename([4789, 9795]);
    await loggedTimes(reloaded, ++n);
    assert.equal(count(reloaded), n);
    assert.match(attached(), /xdpgeneric/, 'attached throughout');
  });

  test('a reload to `interfaces: []` is refused as a start refuses it: one warning, the old config kept, still attached', async (t) => {
    if (!requireRoot(t, 'the live reload test')) return;
    const config = join(dir, 'config.json');
    const before = count(/config reloaded/);
    writeFileSync(config, configText([4789], []));
    await run!.waitFor(/config not applied, keeping the running one: .*interfaces: nothing to attach/, 10_000);
    run!.child.kill('SIGHUP');
    await loggedTimes(/interfaces: nothing to attach/, 2);
    assert.equal(count(/config reloaded/), before, 'nothing applied');
    const refusals = run!
      .output()
      .split('\n')
      .filter((l) => /nothing to attach/.test(l));
    assert.ok(
      refusals.every((l) => /^xdp-decap warn: /.test(l)),
      `warnings, one line each: ${refusals.join(' | ')}`,
    );
    assert.match(attached(), /xdpgeneric/, 'still attached: the running config was kept');
    run!.child.kill('SIGTERM');
    assert.equal(await run!.exited, 0, run!.output());
  });
});

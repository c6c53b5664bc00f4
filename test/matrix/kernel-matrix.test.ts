// The kernel matrix in CI: this host's kernel, then Debian 12's 6.1 and Debian 13's 6.12 booted under qemu; each guest's results judged here.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { IN_CI, IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { failureContext, type KernelResult, readKernelResult } from './results.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (BPF, namespaces, qemu with the host root shared); runs in CI' : false;

/** Each guest kernel: its Debian release, and the build the daemon must load there (decap.bpf.o needs Linux 6.2+). */
const GUESTS = [
  { kernel: '6.1', debian: 'Debian 12', release: /^6\.1\.\d+-\d+-amd64$/, build: 'decap-compat.bpf.o' },
  { kernel: '6.12', debian: 'Debian 13', release: /^6\.12\.\d+\+deb13-amd64$/, build: 'decap.bpf.o' },
] as const;

/** Runs scripts/kernel-matrix.sh for one kernel (the build is already done by the test command). */
function runMatrix(kernel: string, results: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts', 'kernel-matrix.sh'), results], {
      env: { ...process.env, KERNEL: kernel, XDP_DECAP_MATRIX_SETUP: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) => resolve(code));
  });
}

function diagnose(t: TestContext, r: KernelResult): void {
  const timings = Object.entries(r.timings)
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ');
  const builds = (r.verifier?.builds ?? []).map((b) =>
    b.loaded
      ? `${b.object} ${b.processedInsns} insns processed in ${((b.verificationMicros ?? 0) / 1000).toFixed(0)} ms (${b.xlatedInsns} after verification)`
      : `${b.object} refused: ${b.reason?.join(' | ')}`,
  );
  const line = `${r.name} (${r.verifier?.kernel ?? '?'}): ${r.seconds ?? '?'} s in all (${timings}); ${builds.join('; ')}`;
  t.diagnostic(line);
  console.log(`# kernel matrix: ${line}`);
}

/** What every kernel must show, whatever its version. */
function assertSuitePassed(r: KernelResult, host: KernelResult | undefined): void {
  assert.equal(r.exitStatus, 0, failureContext(r));
  assert.ok(r.tests, `no test totals: ${failureContext(r)}`);
  assert.equal(r.tests.fail, 0, failureContext(r));
  assert.equal(r.tests.cancelled, 0, failureContext(r));
  assert.equal(r.tests.skipped, 0, 'nothing skipped: every kernel test runs on every kernel');
  if (host && host !== r) {
    // The same tests pass as on the host, suite by suite, but for the rule table of a build this kernel cannot load.
    const loaded = new Set(r.verifier?.builds.filter((b) => b.loaded).map((b) => b.object));
    const expected = [...host.passedBySuite].filter(
      ([suite]) => !/real program (\S+\.bpf\.o)/.test(suite) || loaded.has(/real program (\S+\.bpf\.o)/.exec(suite)![1]!),
    );
    assert.deepEqual([...r.passedBySuite].sort(), expected.sort(), 'the kernel tests that pass, suite by suite, as on the host');
    assert.ok(r.replay && host.replay, 'both replayed the crafted capture');
    assert.deepEqual(r.replay.summary, host.replay.summary, "replay summary identical to the host's");
    assert.equal(r.replay.sha256, host.replay.sha256, "replay output identical to the host's, byte for byte");
  }
}

describe("the kernel matrix: the suite on this host, Debian 12's 6.1 and Debian 13's 6.12 (qemu, TCG)", { skip: SKIP }, () => {
  let results: string;
  let host: KernelResult | undefined;

  before(() => {
    if (IS_ROOT) results = mkdtempSync('/var/tmp/xdp-decap-matrix-');
  });
  after(() => {
    // Kept when something failed, for the CI log's pointers; removed otherwise.
    if (results && [host, ...guestResults.values()].every((r) => r?.exitStatus === 0)) rmSync(results, { recursive: true, force: true });
  });
  const guestResults = new Map<string, KernelResult>();

  test("this host's kernel: every build verifies, the kernel tests pass, replay runs", async (t) => {
    if (!requireRoot(t, 'the kernel matrix')) return;
    await runMatrix('host', results);
    host = readKernelResult(results, 'host');
    diagnose(t, host);
    assertSuitePassed(host, undefined);
    assert.ok(
      host.verifier?.builds.every((b) => b.loaded),
      'the development kernel loads both builds',
    );
  });

  for (const g of GUESTS) {
    test(`${g.debian}'s own kernel (${g.kernel}, booted under qemu): ${g.build} loads and is chosen, the same tests pass, the same replay`, async (t) => {
      if (!requireRoot(t, 'the kernel matrix') || !requireTool(t, 'qemu-system-x86_64')) return;
      await runMatrix(g.kernel, results);
      const r = readKernelResult(results, g.kernel);
      // A run that crashed under TCG was already run once more by scripts/vm/boot.sh: say so.
      if (r.firstRunCrashes.length > 0) t.diagnostic(`${g.kernel}: run twice, the first run's processes killed by a signal: ${r.firstRunCrashes.join(' | ')}`);
      guestResults.set(g.kernel, r);
      diagnose(t, r);
      assert.match(r.verifier?.kernel ?? '', g.release, `booted ${g.debian}'s kernel: ${failureContext(r)}`);
      const choice = r.verifier!.choice;
      assert.ok('object' in choice, `the daemon loads a build: ${JSON.stringify(choice)}`);
      assert.equal(choice.object, g.build);
      assert.match(choice.note, g.build === 'decap.bpf.o' ? /this kernel has bpf_cast_to_kern_ctx/ : /this kernel lacks bpf_cast_to_kern_ctx/);
      for (const b of r.verifier!.builds) {
        if (b.object === 'decap.bpf.o' && g.build !== 'decap.bpf.o') {
          assert.equal(b.loaded, false);
          assert.ok(
            b.reason?.some((l) => l.includes('bpf_cast_to_kern_ctx')),
            `decap.bpf.o refused for the kfunc this kernel lacks: ${b.reason}`,
          );
        } else {
          assert.equal(b.loaded, true, `${b.object} loads on ${g.kernel}: ${b.reason?.join('\n')}`);
        }
      }
      assertSuitePassed(r, host);
    });
  }
});

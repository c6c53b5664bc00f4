// The benchmarks in smoke mode (tiny sizes, same code paths, no thresholds): they must keep running.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IS_ROOT, REPO_ROOT, requireRoot } from '../lib/env.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF, namespaces); runs in CI' : false;

describe('benchmarks (smoke)', { skip: SKIP }, () => {
  for (const bench of ['kernel-cost', 'datapath', 'userspace-scaling', 'replay-memory']) {
    test(bench, (t) => {
      if (!requireRoot(t, `bench/${bench}.ts`)) return;
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bench', `${bench}.ts`), '--smoke'], { encoding: 'utf8', timeout: 240000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${bench} \\(smoke run`));
      assert.match(r.stdout, /ratio/);
    });
  }

  test('real-path-ab: two builds against the floor and the trivial program in the receive path', (t) => {
    if (!requireRoot(t, 'bench/real-path-ab.ts')) return;
    const decap = join(REPO_ROOT, 'build', 'decap.bpf.o');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bench', 'real-path-ab.ts'), '--rounds', '1', '--loops', '2', decap, `${decap}:notrack`], {
      encoding: 'utf8',
      timeout: 240000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^trivial XDP_PASS +median +\d+/m);
    assert.match(r.stdout, /^floor +median +\d+ +min +\d+ +work -?\d+ ns = [\d.]+x the floor's/m);
    assert.match(r.stdout, /decap\.bpf\.o:notrack +median +\d+ +min +\d+ +work -?\d+ ns/m);
  });
});

describe('real-path-ab: bad arguments', () => {
  for (const [args, problem] of [
    [[], /name at least one decap object/],
    [['--rounds', '0', 'build/decap.bpf.o'], /--rounds must be an integer >= 1, got "0"/],
    [['build/no-such.bpf.o'], /"build\/no-such\.bpf\.o" does not exist/],
    [['build/decap.bpf.o:fast'], /the suffix after ":" is notrack/],
  ] as const) {
    test(`${args.join(' ') || '(none)'}: one line, exit 2`, () => {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bench', 'real-path-ab.ts'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
      assert.equal(r.status, 2);
      assert.match(r.stderr, problem);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
});

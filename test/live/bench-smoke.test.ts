// The benchmarks in smoke mode (tiny sizes, same code paths, no thresholds): they must keep running.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { IS_ROOT, REPO_ROOT, requireRoot } from '../lib/env.ts';

const SKIP = !IS_ROOT && !process.env['CI'] ? 'needs root (BPF, namespaces); runs in CI' : false;

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
});

// Per-interface counters for any ifindex: below 512 in the per-CPU array, above it in the fallback hash.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeNamespace } from '../../src/testbed/namespaces.ts';
import { inNs, sh } from '../../src/testbed/testbed.ts';
import { IS_ROOT, REPO_ROOT, requireRoot } from '../lib/env.ts';

test('an interface with ifindex 700 is counted (fallback hash) beside ifindex 1 (array)', {
  skip: !IS_ROOT && !process.env.CI ? 'needs root; runs in CI' : false,
}, (t) => {
  if (!requireRoot(t, 'test runs with an ingress interface')) return;
  const ns = `xd-ifindex-${process.pid}`;
  try {
    sh('ip', ['netns', 'add', ns]);
    inNs(ns, 'ip', ['link', 'add', 'name', 'hi0', 'index', '700', 'type', 'veth', 'peer', 'name', 'hi1']);
    inNs(ns, 'ip', ['link', 'set', 'hi0', 'up']);
    inNs(ns, 'ip', ['link', 'set', 'hi1', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, join(REPO_ROOT, 'test', 'lib', 'ifindex-probe.ts'), '700'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const counters = JSON.parse(r.stdout);
    assert.deepEqual(
      counters.vnis.map((v: { ifindex: number; packets: number }) => [v.ifindex, v.packets]),
      [[700, 3]],
    );
    const outcomes = counters.outcomes.map((o: { ifindex: number; outcome: string; packets: number }) => [o.ifindex, o.outcome, o.packets]).sort();
    assert.deepEqual(outcomes, [
      [1, 'not_tunnel', 1],
      [700, 'decapsulated', 3],
      [700, 'not_tunnel', 1],
    ]);
  } finally {
    removeNamespace(ns);
  }
});

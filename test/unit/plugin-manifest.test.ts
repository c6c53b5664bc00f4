// plugin.json is the single source of truth: the code registers exactly its metrics, and the docs are generated from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import manifest from '../../plugin.json' with { type: 'json' };
import pkg from '../../package.json' with { type: 'json' };
import { SKIP_REASONS, LOST_COUNTERS, TUNNEL_TYPES } from '../../src/decode/layout.ts';
import { registerDecapMetrics } from '../../src/metrics/decap-metrics.ts';
import { replaceMetricsBlock } from '../../src/metrics/metrics-doc.ts';
import { ATTR, METRIC } from '../../src/metrics/names.ts';
import * as api from '../../src/index.ts';
import { collectPoints, syntheticInput, testProvider } from '../lib/metrics-fixture.ts';
import { REPO_ROOT } from '../lib/env.ts';

test('every instrument the code registers is in plugin.json with the same unit, description and kind, and vice versa', async () => {
  const { provider, reader } = testProvider(10);
  const input = syntheticInput(20);
  registerDecapMetrics({ meterProvider: provider, read: () => input, maxVniSeries: 10, interfaceName: () => 'eth0' });
  const { resourceMetrics } = await reader.collect();
  const registered = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  assert.deepEqual(registered.map((m) => m.descriptor.name).sort(), manifest.metrics.map((m) => m.name).sort());
  for (const m of registered) {
    const declared = manifest.metrics.find((d) => d.name === m.descriptor.name)!;
    assert.equal(m.descriptor.unit, declared.unit, `${declared.name} unit`);
    assert.equal(m.descriptor.description, declared.description, `${declared.name} description`);
    const isSum = 'isMonotonic' in m;
    assert.equal(isSum ? 'sum' : 'gauge', declared.kind, `${declared.name} kind`);
    if (isSum) assert.equal((m as { isMonotonic: boolean }).isMonotonic, declared.monotonic);
  }
  const declaredAttrs = new Set(manifest.attributes.map((a) => a.name));
  for (const p of await collectPoints(reader)) {
    const allowed = manifest.metrics.find((d) => d.name === p.metric)!.attributes;
    for (const key of Object.keys(p.attributes)) {
      assert.ok(declaredAttrs.has(key), `attribute ${key} of ${p.metric} is declared`);
      assert.ok(allowed.includes(key) || key === ATTR.overflow, `attribute ${key} is listed for ${p.metric}`);
    }
  }
});

test('names in code, enums and versions agree with plugin.json', () => {
  assert.deepEqual(Object.values(METRIC).sort(), manifest.metrics.map((m) => m.name).sort());
  for (const a of Object.values(ATTR)) assert.ok(manifest.attributes.some((x) => x.name === a), `attribute ${a} declared`);
  const enumOf = (name: string) => manifest.attributes.find((a) => a.name === name)?.enum;
  assert.deepEqual(enumOf('decap.reason'), [...SKIP_REASONS]);
  assert.deepEqual(enumOf('decap.map'), [...LOST_COUNTERS]);
  assert.deepEqual(enumOf('tunnel.type'), [...TUNNEL_TYPES]);
  assert.equal(manifest.version, pkg.version);
  assert.deepEqual(manifest.requirements.capabilities, ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
  assert.equal(typeof (api as Record<string, unknown>)[manifest.export], 'function', `src/index.ts exports ${manifest.export}`);
  assert.ok(readFileSync(join(REPO_ROOT, manifest.configSchema), 'utf8').includes('"interfaces"'));
  assert.equal(pkg.main, manifest.entryPoint);
});

test('docs/metrics.md and the README table are generated from plugin.json and up to date', () => {
  for (const file of ['docs/metrics.md', 'README.md']) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    assert.equal(replaceMetricsBlock(text), text, `${file} is stale: run node scripts/gen-metrics-doc.ts --write`);
    for (const m of manifest.metrics) assert.ok(text.includes(`\`${m.name}\``), `${file} lists ${m.name}`);
  }
});

test('the systemd unit runs the built CLI with the capabilities plugin.json requires, restarts on failure, reloads by SIGHUP', () => {
  const unit = readFileSync(join(REPO_ROOT, 'examples', 'systemd', 'xdp-decap.service'), 'utf8');
  assert.match(unit, /^ExecStart=.*\/dist\/src\/cli\.js run --config \S+$/m);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  for (const cap of manifest.requirements.capabilities) {
    assert.match(unit, new RegExp(`^AmbientCapabilities=.*\\b${cap}\\b`, 'm'), `${cap} granted`);
    assert.match(unit, new RegExp(`^CapabilityBoundingSet=.*\\b${cap}\\b`, 'm'), `${cap} bounded`);
  }
});

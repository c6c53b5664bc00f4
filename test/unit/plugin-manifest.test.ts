// plugin.json is the single source of truth: the code registers exactly its metrics, and the docs are generated from it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { parse as parseYaml } from 'yaml';
import pkg from '../../package.json' with { type: 'json' };
import manifest from '../../plugin.json' with { type: 'json' };
import { LOST_COUNTERS, SKIP_REASONS, TUNNEL_TYPES } from '../../src/decode/layout.ts';
import * as api from '../../src/index.ts';
import { registerDecapMetrics } from '../../src/metrics/decap-metrics.ts';
import { createMeterPipeline, pipelineResourceAttributes, sdkCardinalityLimit } from '../../src/metrics/meter-pipeline.ts';
import { renderMetricsDoc, replaceMetricsBlock, replaceReceiverMetadata } from '../../src/metrics/metrics-doc.ts';
import { ATTR, METRIC } from '../../src/metrics/names.ts';
import { REPO_ROOT } from '../lib/env.ts';
import { collectPoints, fakeCollector, syntheticInput, testProvider } from '../lib/metrics-fixture.ts';

test('every instrument the code registers is in plugin.json with the same unit, description, kind and value type, and vice versa', async () => {
  const { provider, reader } = testProvider(10);
  const input = syntheticInput(20);
  registerDecapMetrics({ meterProvider: provider, read: () => input, maxVniSeries: 10, interfaceName: () => 'eth0' });
  const { resourceMetrics } = await reader.collect();
  const registered = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  assert.deepEqual(registered.map((m) => m.descriptor.name).sort(), manifest.metrics.map((m) => m.name).sort());
  for (const m of registered) {
    const declared = manifest.metrics.find((d) => d.name === m.descriptor.name)!;
    assert.equal(m.descriptor.valueType, declared.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE, `${declared.name} value type`);
    const kind = m.dataPointType === DataPointType.SUM ? 'sum' : m.dataPointType === DataPointType.GAUGE ? 'gauge' : 'other';
    assert.equal(kind, declared.kind, `${declared.name} kind`);
    if (m.dataPointType === DataPointType.SUM) assert.equal(m.isMonotonic, declared.monotonic, `${declared.name} monotonic`);
    else assert.equal(declared.monotonic, false, `${declared.name}: a gauge cannot be declared monotonic`);
  }
  const declaredAttrs = new Set(manifest.attributes.map((a) => a.name));
  const enums = new Map(manifest.attributes.flatMap((a) => ('enum' in a && a.enum ? [[a.name, a.enum] as const] : [])));
  for (const p of await collectPoints(reader)) {
    const allowed = manifest.metrics.find((d) => d.name === p.metric)!.attributes;
    for (const [key, value] of Object.entries(p.attributes)) {
      assert.ok(declaredAttrs.has(key), `attribute ${key} of ${p.metric} is declared`);
      assert.ok(allowed.includes(key) || key === ATTR.overflow, `attribute ${key} is listed for ${p.metric}`);
      const values = enums.get(key);
      if (values) assert.ok(values.includes(String(value)), `${key}=${String(value)} is in its enum`);
    }
    if (p.attributes[ATTR.overflow] === true) {
      assert.ok(manifest.cardinality.appliesTo.includes(p.metric), `${p.metric} has overflow series only if plugin.json says so`);
      assert.ok(!(ATTR.tunnelVni in p.attributes), 'no decap.tunnel.id on an overflow series');
    }
  }
});

test('what reaches a collector (the real OTLP/JSON pipeline) has the unit, description, kind, monotonicity and temporality plugin.json declares', async (t) => {
  const collector = await fakeCollector(200);
  t.after(() => collector.close());
  const pipeline = createMeterPipeline(
    { endpoint: collector.url, headers: {}, exportIntervalMillis: 60000, encoding: 'json', resourceAttributes: {}, serviceName: 'xdp-decap', maxVniSeries: 10 },
    (line) => assert.fail(line),
  );
  registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(5), maxVniSeries: 10, interfaceName: () => 'eth0' });
  await pipeline.shutdown();
  type WireMetric = { name: string; unit?: string; description?: string; sum?: { isMonotonic?: boolean; aggregationTemporality?: number }; gauge?: object };
  const body = JSON.parse(collector.requests.at(-1)!.body.toString()) as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: WireMetric[] }> }> };
  const wire = body.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  assert.deepEqual(wire.map((m) => m.name).sort(), manifest.metrics.map((m) => m.name).sort(), 'every declared metric is exported, nothing else');
  const OTLP_TEMPORALITY = { cumulative: 2, delta: 1 } as const; // AggregationTemporality in the OTLP proto
  for (const m of wire) {
    const declared = manifest.metrics.find((d) => d.name === m.name)!;
    assert.equal(m.unit, declared.unit, `${m.name} unit on the wire`);
    assert.equal(m.description, declared.description, `${m.name} description on the wire`);
    if (declared.kind === 'sum') {
      assert.ok(m.sum, `${m.name} is exported as a sum`);
      assert.equal(Boolean(m.sum.isMonotonic), declared.monotonic, `${m.name} monotonic on the wire`);
      assert.equal(m.sum.aggregationTemporality, OTLP_TEMPORALITY[declared.temporality as keyof typeof OTLP_TEMPORALITY], `${m.name} temporality on the wire`);
      assert.equal(declared.instrument, 'counter', `${m.name}: an exported sum comes from a counter`);
    } else {
      assert.ok(m.gauge, `${m.name} is exported as a gauge`);
      assert.equal(declared.instrument, 'gauge');
    }
  }
});

test('the cardinality rule in plugin.json matches the code', () => {
  const perVni = manifest.metrics.filter((m) => m.attributes.includes(ATTR.tunnelVni)).map((m) => m.name);
  assert.deepEqual([...manifest.cardinality.appliesTo].sort(), perVni.sort(), 'the rule covers exactly the per-VNI metrics');
  assert.deepEqual([...manifest.cardinality.seriesKey].sort(), [ATTR.interfaceName, ATTR.tunnelType, ATTR.tunnelVni].sort());
  assert.deepEqual(manifest.cardinality.overflowSeries.attributes, { [ATTR.overflow]: true });
  const formula = /^(\d+) \* maxVniSeries \+ (\d+) per instrument$/.exec(manifest.cardinality.sdkCardinalityLimit);
  assert.ok(formula, 'sdkCardinalityLimit reads "<a> * maxVniSeries + <b> per instrument"');
  for (const n of [1, 2000, 65536]) assert.equal(sdkCardinalityLimit(n), Number(formula[1]) * n + Number(formula[2]), `SDK limit for maxVniSeries ${n}`);
  assert.ok(manifest.cardinality.rule.includes(`${formula[1]} * maxVniSeries + ${formula[2]}`), 'the prose states the same limit');
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, manifest.configSchema), 'utf8')) as {
    properties: { metrics: { properties: { maxVniSeries: { default: number } } } };
  };
  assert.equal(schema.properties.metrics.properties.maxVniSeries.default, manifest.cardinality.default, 'the default agrees with the config schema');
});

test('the resource carries the attributes plugin.json lists', () => {
  const resource = pipelineResourceAttributes({
    endpoint: 'http://localhost:4318/v1/metrics',
    headers: {},
    exportIntervalMillis: 60000,
    encoding: 'protobuf',
    resourceAttributes: {},
    serviceName: 'xdp-decap',
    maxVniSeries: 2000,
  });
  assert.deepEqual(Object.keys(resource).sort(), manifest.resourceAttributes.map((r) => r.name).sort());
  assert.equal(resource['service.version'], pkg.version);
  assert.equal(resource['service.name'], manifest.resourceAttributes.find((r) => r.name === 'service.name')?.default);
});

test('names in code, enums and versions agree with plugin.json', () => {
  assert.deepEqual(Object.values(METRIC).sort(), manifest.metrics.map((m) => m.name).sort());
  assert.deepEqual(Object.values(ATTR).sort(), manifest.attributes.map((a) => a.name).sort(), 'the attributes in code are exactly those declared');
  const enumOf = (name: string) => manifest.attributes.find((a) => a.name === name)?.enum;
  assert.deepEqual(enumOf('decap.skip.reason'), [...SKIP_REASONS]);
  assert.deepEqual(enumOf('decap.map.name'), [...LOST_COUNTERS]);
  assert.deepEqual(enumOf('decap.tunnel.type'), [...TUNNEL_TYPES]);
  assert.equal(manifest.version, pkg.version);
  assert.deepEqual(manifest.requirements.capabilities, ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
  assert.equal(typeof (api as Record<string, unknown>)[manifest.export], 'function', `src/index.ts exports ${manifest.export}`);
  assert.ok(readFileSync(join(REPO_ROOT, manifest.configSchema), 'utf8').includes('"interfaces"'));
  assert.equal(pkg.main, manifest.entryPoint);
});

test("docs/metrics.md, the README table and the receiver's metadata.yaml are generated from plugin.json and up to date", () => {
  const stale = 'is stale: run node scripts/gen-metrics-doc.ts --write';
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8');
  assert.equal(doc, renderMetricsDoc(), `docs/metrics.md ${stale}`);
  assert.match(doc.split('\n')[0]!, /generated from plugin\.json.*do not edit/);
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.equal(replaceMetricsBlock(readme), readme, `README.md ${stale}`);
  const receiver = join(REPO_ROOT, 'collector', 'xdpdecapreceiver');
  const metadata = readFileSync(join(receiver, 'metadata.yaml'), 'utf8');
  assert.equal(replaceReceiverMetadata(metadata), metadata, `the receiver's metadata.yaml ${stale}`);
  const parsed = parseYaml(metadata) as { metrics: Record<string, { unit: string; attributes: string[] }>; attributes: Record<string, unknown> };
  // mdatagen wants its keys sorted; it makes documentation.md from this file (collector/xdpdecapreceiver/check-generated.sh).
  assert.deepEqual(Object.keys(parsed.metrics), manifest.metrics.map((m) => m.name).sort(), "metadata.yaml lists plugin.json's metrics");
  const overflow = Object.keys(manifest.cardinality.overflowSeries.attributes);
  for (const m of manifest.metrics) {
    const attributes = [...m.attributes, ...((manifest.cardinality.appliesTo as readonly string[]).includes(m.name) ? overflow : [])];
    assert.deepEqual([parsed.metrics[m.name]?.unit, parsed.metrics[m.name]?.attributes], [m.unit, attributes], m.name);
  }
  assert.deepEqual(Object.keys(parsed.attributes), manifest.attributes.map((a) => a.name).sort());
  for (const text of [doc, readme]) {
    for (const m of manifest.metrics) assert.ok(text.includes(`| \`${m.name}\` |`), `${m.name} has a row`);
    for (const a of manifest.attributes) assert.ok(text.includes(`| \`${a.name}\` |`), `${a.name} has a row`);
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

// Metric mapping: one map read per collection, right names/units/attributes, no VNI lost to cardinality limits, and an export pipeline that never throws.

import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import manifest from '../../plugin.json' with { type: 'json' };
import type { VniCounters } from '../../src/decode/records.ts';
import { VniMap } from '../../src/decode/vni-map.ts';
import { type MetricsInput, registerDecapMetrics } from '../../src/metrics/decap-metrics.ts';
import { createMeterPipeline, diagLogger, exportTimeoutMillis, SHUTDOWN_EXPORT_BUDGET_MS, sdkCardinalityLimit } from '../../src/metrics/meter-pipeline.ts';
import { groupVniSeries, isAdmittedSeries, selectVniSeries, VniSeriesSelector } from '../../src/metrics/vni-series.ts';
import { collectPoints, type FlatPoint, fakeCollector, syntheticInput, TestReader, testProvider } from '../lib/metrics-fixture.ts';

const names = (ifindex: number) => (ifindex === 2 ? 'ens1f0' : `if${ifindex}`);
const TUNNEL_COUNTERS = ['decap.tunnel.packet.count', 'decap.tunnel.io', 'decap.tunnel.overhead', 'decap.tunnel.flow.count'] as const;
const FIELD_OF = {
  'decap.tunnel.packet.count': 'packets',
  'decap.tunnel.io': 'bytes',
  'decap.tunnel.overhead': 'overheadBytes',
  'decap.tunnel.flow.count': 'flows',
} as const;

const isOurOverflow = (p: FlatPoint) => p.attributes['otel.metric.overflow'] === true && 'decap.tunnel.type' in p.attributes;
/** The SDK's own overflow series carries `otel.metric.overflow: true` and nothing else. */
const isSdkOverflow = (p: FlatPoint) => p.attributes['otel.metric.overflow'] === true && Object.keys(p.attributes).length === 1;
const sum = (values: number[]) => values.reduce((s, v) => s + v, 0);

test('one read per collection; values, units, descriptions and attributes as plugin.json declares', async () => {
  const { provider, reader } = testProvider(100);
  let reads = 0;
  const input = syntheticInput(3);
  registerDecapMetrics({
    meterProvider: provider,
    read: () => {
      reads++;
      return input;
    },
    maxVniSeries: 100,
    interfaceName: names,
  });
  assert.equal(reads, 0, 'nothing is read before a collection');
  const points = await collectPoints(reader);
  assert.equal(reads, 1);
  await collectPoints(reader);
  assert.equal(reads, 2);

  const find = (metric: string, vni?: number) => points.filter((p) => p.metric === metric && (vni === undefined || p.attributes['decap.tunnel.id'] === vni));
  assert.deepEqual(
    find('decap.tunnel.packet.count', 2).map((p) => [p.value, p.unit, p.attributes]),
    [[2, '{packet}', { 'decap.tunnel.type': 'vxlan', 'decap.tunnel.id': 2, 'network.interface.name': 'ens1f0' }]],
  );
  assert.equal(find('decap.tunnel.io', 3)[0]?.value, 30);
  assert.equal(find('decap.tunnel.io', 3)[0]?.unit, 'By');
  assert.equal(find('decap.tunnel.overhead', 3)[0]?.value, 150);
  assert.equal(find('decap.tunnel.flow.count', 1)[0]?.value, 1);
  assert.equal(find('decap.tunnel.flow.active', 1)[0]?.value, 1);
  assert.deepEqual(
    find('decap.skipped.packet.count').map((p) => [p.attributes, p.value]),
    [[{ 'decap.skip.reason': 'not_tunnel', 'network.interface.name': 'ens1f0' }, 7]],
    'decapsulated is not a skip reason',
  );
  assert.deepEqual(
    find('decap.map.update.lost')
      .map((p) => [p.attributes['decap.map.name'], p.value])
      .sort(),
    [
      ['flows', 3],
      ['outcome_stats', 0],
      ['vni_stats', 0],
    ],
  );
  assert.equal(typeof find('decap.tunnel.packet.count', 1)[0]?.attributes['decap.tunnel.id'], 'number', 'decap.tunnel.id is an integer attribute');
  for (const p of points) {
    const declared = manifest.metrics.find((m) => m.name === p.metric);
    assert.ok(declared, `${p.metric} is declared`);
    assert.equal(p.unit, declared.unit, `${p.metric} unit`);
    assert.equal(p.description, declared.description, `${p.metric} description`);
  }
  assert.ok(
    points.every((p) => !('otel.metric.overflow' in p.attributes)),
    'no overflow below the limit',
  );
});

test('per-CPU sums arrive summed: observed as given, never summed again across CPUs or collections', async () => {
  const { provider, reader } = testProvider(10);
  const big = 2 ** 40 + 12345; // beyond 32 bits, still an exact double
  const row: VniCounters = { ifindex: 2, tunnelType: 'geneve', vni: 0xabcdef, packets: 4, bytes: big, overheadBytes: 200, flows: 2 };
  const input: MetricsInput = { counters: { vnis: [row], outcomes: [], lost: { vni_stats: 0, outcome_stats: 0, flows: 0 } }, activeFlows: [] };
  registerDecapMetrics({ meterProvider: provider, read: () => input, maxVniSeries: 10, interfaceName: names });
  for (let collection = 0; collection < 3; collection++) {
    const points = await collectPoints(reader);
    const value = (metric: string) => points.filter((p) => p.metric === metric).map((p) => p.value);
    assert.deepEqual(value('decap.tunnel.io'), [big], `collection ${collection}: the cumulative value as read, not a running sum`);
    assert.deepEqual(value('decap.tunnel.packet.count'), [4]);
    assert.deepEqual(value('decap.tunnel.flow.count'), [2]);
  }
});

test('50,000 VNIs with maxVniSeries 2000: 2000 series + overflow per instrument, nothing lost, SDK folds nothing, membership sticky', async () => {
  const max = 2000;
  const { provider, reader } = testProvider(max);
  let input: MetricsInput = syntheticInput(50_000);
  const decapMetrics = registerDecapMetrics({ meterProvider: provider, read: () => input, maxVniSeries: max, interfaceName: names });
  const started = performance.now();
  const points = await collectPoints(reader);
  const elapsed = performance.now() - started;

  assert.ok(!points.some(isSdkOverflow), 'the SDK did not fold any series into its own overflow');
  for (const metric of [...TUNNEL_COUNTERS, 'decap.tunnel.flow.active']) {
    const series = points.filter((p) => p.metric === metric);
    assert.equal(series.filter((p) => p.attributes['decap.tunnel.id'] !== undefined).length, max, `${metric}: ${max} individual series`);
    const overflow = series.filter(isOurOverflow);
    assert.equal(overflow.length, 1, `${metric}: one overflow series (one interface, one tunnel type)`);
    assert.deepEqual(overflow[0]!.attributes, { 'decap.tunnel.type': 'vxlan', 'network.interface.name': 'ens1f0', 'otel.metric.overflow': true });
    assert.equal(series.length, max + 1);
  }
  for (const metric of TUNNEL_COUNTERS) {
    const series = points.filter((p) => p.metric === metric);
    const totalIn = sum(input.counters.vnis.map((v) => v[FIELD_OF[metric]]));
    assert.equal(sum(series.map((p) => p.value)), totalIn, `${metric}: total of all series == total input`);
    const individualIn = sum(input.counters.vnis.filter((v) => v.vni > 48_000).map((v) => v[FIELD_OF[metric]]));
    assert.equal(series.find(isOurOverflow)!.value, totalIn - individualIn, `${metric}: overflow == the sum of the rest`);
  }
  assert.equal(sum(points.filter((p) => p.metric === 'decap.tunnel.flow.active').map((p) => p.value)), 50_000);
  assert.equal(decapMetrics.overflowVnis(), 48_000);
  assert.equal(decapMetrics.individualVnis(), max);
  const firstMembers = new Set(
    points.filter((p) => p.metric === 'decap.tunnel.io' && p.attributes['decap.tunnel.id'] !== undefined).map((p) => p.attributes['decap.tunnel.id']),
  );
  assert.equal(Math.min(...[...firstMembers].map(Number)), 48_001, 'the largest VNIs by bytes were admitted first');

  // The order by bytes flips (the small VNIs now carry the most) and one VNI appears: membership does not move.
  input = syntheticInput(50_001, (v) => v * 10 + (v <= 3000 ? 10_000_000 : 0));
  const again = await collectPoints(reader);
  assert.ok(!again.some(isSdkOverflow));
  const againMembers = new Set(
    again.filter((p) => p.metric === 'decap.tunnel.io' && p.attributes['decap.tunnel.id'] !== undefined).map((p) => p.attributes['decap.tunnel.id']),
  );
  assert.deepEqual(againMembers, firstMembers, 'the same VNIs have series of their own');
  for (const metric of TUNNEL_COUNTERS) {
    const before = points.filter((p) => p.metric === metric).find(isOurOverflow)!.value;
    const after = again.filter((p) => p.metric === metric).find(isOurOverflow)!.value;
    assert.ok(after >= before, `${metric}: the overflow series never decreases (${before} -> ${after})`);
    assert.equal(sum(again.filter((p) => p.metric === metric).map((p) => p.value)), sum(input.counters.vnis.map((v) => v[FIELD_OF[metric]])));
  }
  assert.equal(decapMetrics.overflowVnis(), 48_001);
  console.log(`# one collection of 50,000 VNIs (maxVniSeries 2000): ${elapsed.toFixed(1)} ms`);
});

test('without the raised SDK limit the SDK would fold series itself (why createMeterPipeline raises it)', async () => {
  const reader = new TestReader(); // SDK default: 2000 series per instrument
  registerDecapMetrics({ meterProvider: new MeterProvider({ readers: [reader] }), read: () => syntheticInput(5000), maxVniSeries: 2000, interfaceName: names });
  assert.ok((await collectPoints(reader)).some(isSdkOverflow));
  assert.ok(sdkCardinalityLimit(2000) > 2000 + 2 * 64, 'room for our overflow series on many interfaces');
});

test('overflow is per (interface, tunnel type); the active-flows gauge shares the membership and reports 0 once flows go idle', async () => {
  const { provider, reader } = testProvider(3);
  const vnis: VniCounters[] = [];
  for (const ifindex of [2, 7]) {
    for (const tunnelType of ['vxlan', 'geneve'] as const) {
      for (let vni = 1; vni <= 5; vni++) vnis.push({ ifindex, tunnelType, vni, packets: 1, bytes: ifindex * 1000 + vni, overheadBytes: 50, flows: 1 });
    }
  }
  let input: MetricsInput = {
    counters: { vnis, outcomes: [], lost: { vni_stats: 0, outcome_stats: 0, flows: 0 } },
    activeFlows: vnis.map((v) => ({ ifindex: v.ifindex, tunnelType: v.tunnelType, vni: v.vni, flows: 2 })),
  };
  registerDecapMetrics({ meterProvider: provider, read: () => input, maxVniSeries: 3, interfaceName: names });
  const points = await collectPoints(reader);
  const packets = points.filter((p) => p.metric === 'decap.tunnel.packet.count');
  assert.equal(packets.filter((p) => p.attributes['decap.tunnel.id'] !== undefined).length, 3);
  const overflowGroups = packets
    .filter(isOurOverflow)
    .map((p) => `${p.attributes['network.interface.name']}/${p.attributes['decap.tunnel.type']}=${p.value}`)
    .sort();
  // The 3 largest by bytes are on ifindex 7 (vxlan 5, geneve 5, then a tie at 4: the first in input order, vxlan).
  assert.deepEqual(overflowGroups, ['ens1f0/geneve=5', 'ens1f0/vxlan=5', 'if7/geneve=4', 'if7/vxlan=3']);
  assert.equal(sum(packets.map((p) => p.value)), 20);
  const active = points.filter((p) => p.metric === 'decap.tunnel.flow.active');
  assert.deepEqual(
    active
      .filter((p) => p.attributes['decap.tunnel.id'] !== undefined)
      .map((p) => p.attributes['decap.tunnel.id'])
      .sort(),
    packets
      .filter((p) => p.attributes['decap.tunnel.id'] !== undefined)
      .map((p) => p.attributes['decap.tunnel.id'])
      .sort(),
  );
  assert.equal(sum(active.map((p) => p.value)), 40);

  // Every flow goes idle: each gauge series (overflow ones included) reports 0 rather than its last value.
  input = { ...input, activeFlows: [] };
  const idle = (await collectPoints(reader)).filter((p) => p.metric === 'decap.tunnel.flow.active');
  assert.equal(idle.length, active.length);
  assert.ok(
    idle.every((p) => p.value === 0),
    'idle series report 0',
  );
});

test('unregister stops the reads', async () => {
  const { provider, reader } = testProvider(10);
  let reads = 0;
  const registration = registerDecapMetrics({
    meterProvider: provider,
    read: () => {
      reads++;
      return syntheticInput(2);
    },
    maxVniSeries: 10,
    interfaceName: names,
  });
  await collectPoints(reader);
  registration.unregister();
  await collectPoints(reader);
  assert.equal(reads, 1);
});

test('selectVniSeries: pure, the largest first while there is room, then never changes', () => {
  const row = (vni: number, bytes: number, ifindex = 1) => ({ ifindex, tunnelType: 'vxlan' as const, vni, bytes });
  const empty = new VniMap<true>();
  const keys = (set: VniMap<true>) =>
    set
      .entries()
      .map(([ifindex, type, vni]) => `${ifindex}/${type}/${vni}`)
      .sort();
  const first = selectVniSeries(empty, [row(1, 5), row(2, 50), row(3, 20)], 2);
  assert.equal(empty.size, 0, 'the input set is not modified');
  assert.deepEqual(keys(first), ['1/1/2', '1/1/3']);
  assert.equal(selectVniSeries(first, [row(1, 1e12), row(9, 1e12)], 2), first, 'full: the same set back, sticky');
  const roomy = selectVniSeries(empty, [row(1, 5), row(1, 5), row(2, 1)], 10);
  assert.equal(roomy.size, 2, 'duplicates count once');
  const byInterface = selectVniSeries(empty, [row(2, 0, 1), row(2, 0, 2), { ifindex: 1, tunnelType: 'geneve', vni: 2, bytes: 0 }], 10);
  assert.equal(byInterface.size, 3, 'keyed by interface and by tunnel type too');
  // Exact for large ifindexes and 32-bit GRE keys: series differing only in one low bit of either stay apart.
  const big = (ifindex: number, vni: number) => ({ ifindex, tunnelType: 'gre' as const, vni, bytes: 1 });
  const large = selectVniSeries(empty, [big(0xffffffff, 0xffffffff), big(0xfffffffe, 0xffffffff), big(0xffffffff, 0xfffffffe), big(2 ** 17, 0)], 3);
  assert.equal(large.size, 3);
  assert.ok(
    isAdmittedSeries(large, big(0xffffffff, 0xffffffff)) &&
      isAdmittedSeries(large, big(0xfffffffe, 0xffffffff)) &&
      isAdmittedSeries(large, big(0xffffffff, 0xfffffffe)),
    'exact for large ifindexes and 32-bit GRE keys',
  );
  assert.ok(
    !isAdmittedSeries(large, big(2 ** 17, 0)) &&
      !isAdmittedSeries(large, big(0xffffffff, 0)) &&
      !isAdmittedSeries(large, { ...big(0xffffffff, 0xffffffff), tunnelType: 'vxlan' }),
  );

  const selector = new VniSeriesSelector(2);
  selector.update([row(1, 5), row(2, 50), row(3, 20)]);
  assert.ok(selector.has(row(2, 0)) && selector.has(row(3, 0)) && !selector.has(row(1, 0)));
  selector.update([row(1, 1e9)]);
  assert.ok(!selector.has(row(1, 0)), 'sticky');
  assert.throws(() => new VniSeriesSelector(0), RangeError);

  const grouped = groupVniSeries([row(2, 7), row(1, 3), row(4, 4, 2)], (r) => r.ifindex === 1 && r.vni === 2, [(r) => r.bytes]);
  assert.deepEqual(
    grouped.series.map((s) => [s.ifindex, s.vni, s.values]),
    [
      [1, 2, [7]],
      [1, undefined, [3]],
      [2, undefined, [4]],
    ],
  );
  assert.equal(grouped.overflowRows, 2);
});

const pipelineSettings = (endpoint: string, encoding: 'json' | 'protobuf') => ({
  endpoint,
  headers: { 'x-tenant': 'lab' },
  exportIntervalMillis: 1000,
  encoding,
  resourceAttributes: { 'deployment.environment.name': 'test', 'service.name': 'ignored' },
  serviceName: 'xdp-decap-test',
  maxVniSeries: 10,
});

test('pipeline: OTLP/HTTP JSON with the resource, cumulative int sums and the headers', async (t) => {
  t.after(() => diag.disable());
  const collector = await fakeCollector(200);
  t.after(() => collector.close());
  const warnings: string[] = [];
  const pipeline = createMeterPipeline(pipelineSettings(collector.url, 'json'), (line) => warnings.push(line));
  registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(3), maxVniSeries: 10, interfaceName: names });
  await pipeline.forceFlush();
  await pipeline.shutdown();
  assert.deepEqual(warnings, []);
  const request = collector.requests[0]!;
  assert.match(String(request.headers['content-type']), /application\/json/);
  assert.equal(request.headers['x-tenant'], 'lab');
  type KeyValue = { key: string; value: Record<string, unknown> };
  const body = JSON.parse(request.body.toString('utf8')) as {
    resourceMetrics: Array<{
      resource: { attributes: KeyValue[] };
      scopeMetrics: Array<{ metrics: Array<{ name: string; unit: string; sum?: { aggregationTemporality: number; isMonotonic: boolean } }> }>;
    }>;
  };
  const resource = Object.fromEntries(body.resourceMetrics[0]!.resource.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
  assert.equal(resource['service.name'], 'xdp-decap-test', 'serviceName wins over resourceAttributes');
  assert.equal(resource['service.version'], manifest.version);
  assert.equal(resource['host.name'], hostname());
  assert.equal(resource['deployment.environment.name'], 'test');
  const exported = body.resourceMetrics[0]!.scopeMetrics.flatMap((s) => s.metrics);
  assert.deepEqual(exported.map((m) => m.name).sort(), manifest.metrics.map((m) => m.name).sort());
  const bytes = exported.find((m) => m.name === 'decap.tunnel.io')!;
  assert.equal(bytes.unit, 'By');
  assert.deepEqual(bytes.sum && [bytes.sum.aggregationTemporality, bytes.sum.isMonotonic], [2, true], 'cumulative (2), monotonic');
});

test('pipeline: OTLP/HTTP protobuf', async (t) => {
  t.after(() => diag.disable());
  const collector = await fakeCollector(200);
  t.after(() => collector.close());
  const warnings: string[] = [];
  const pipeline = createMeterPipeline(pipelineSettings(collector.url, 'protobuf'), (line) => warnings.push(line));
  registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(3), maxVniSeries: 10, interfaceName: names });
  await pipeline.shutdown();
  assert.deepEqual(warnings, []);
  const request = collector.requests[0]!;
  assert.equal(request.headers['content-type'], 'application/x-protobuf');
  for (const text of ['decap.tunnel.io', 'xdp-decap-test', 'ens1f0']) assert.ok(request.body.includes(text), `the protobuf body carries ${text}`);
});

test('pipeline: a collector that is down or refusing never throws; each failed export is one warning line', async (t) => {
  t.after(() => diag.disable());
  const refusing = await fakeCollector(400);
  t.after(() => refusing.close());
  // Port 1 on loopback: connection refused.
  for (const endpoint of ['http://127.0.0.1:1/v1/metrics', refusing.url]) {
    const warnings: string[] = [];
    const pipeline = createMeterPipeline(pipelineSettings(endpoint, 'protobuf'), (line) => warnings.push(line));
    registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(3), maxVniSeries: 10, interfaceName: names });
    await pipeline.forceFlush();
    assert.equal(warnings.length, 1, `${endpoint}: one line per failed export: ${warnings.join(' | ')}`);
    assert.match(warnings[0]!, new RegExp(`^metrics export: export to ${endpoint.replace(/[.?*]/g, '\\$&')} failed: `));
    assert.ok(!warnings[0]!.includes('\n') && !warnings[0]!.includes('"stack"'), 'a message, not a JSON stack');
    await pipeline.shutdown();
    assert.equal(warnings.length, 2, 'the last export at shutdown failed too, and said so');
  }
});

test('pipeline: an endpoint that accepts but never answers: one warning per failed export, never two', async (t) => {
  // The diag logger as `xdp-decap run` installs it: the SDK's own reports reach the same warnings.
  const warnings: string[] = [];
  diag.setLogger(
    diagLogger((line) => warnings.push(line)),
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  t.after(() => diag.disable());
  const sockets: Socket[] = [];
  const hanging = createServer((socket) => void sockets.push(socket)); // reads nothing, answers nothing
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    hanging.close();
  });
  const endpoint = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1/metrics`;
  const pipeline = createMeterPipeline({ ...pipelineSettings(endpoint, 'protobuf'), exportIntervalMillis: 2000 }, (line) => warnings.push(line));
  registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(3), maxVniSeries: 10, interfaceName: names });
  // The periodic exports time out, one after another: each says so once.
  await new Promise((r) => setTimeout(r, 2000 * 2 + 1500));
  const failedExports = warnings.length;
  assert.ok(failedExports >= 1, `an export timed out and said so: ${warnings.join(' | ')}`);
  assert.ok(
    warnings.every((w) => /^metrics export: export to .* failed: /.test(w)),
    `one kind of line: ${warnings.join(' | ')}`,
  );
  // Exports that failed while the test waited: never two lines for one export (the reader's timer does not fire too).
  assert.ok(failedExports <= 3, `at most one line per export over ~3 intervals: ${warnings.join(' | ')}`);
  await pipeline.shutdown();
});

test('pipeline: shutdown with an export in flight to an endpoint that never answers ends within its budget, saying so once', async (t) => {
  const warnings: string[] = [];
  const sockets: Socket[] = [];
  const hanging = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    hanging.close();
  });
  const endpoint = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1/metrics`;
  // The default interval: a 10 s export timeout, so the SDK alone would wait 10 s for the export in flight, then 10 s more.
  const pipeline = createMeterPipeline({ ...pipelineSettings(endpoint, 'protobuf'), exportIntervalMillis: 60_000 }, (line) => warnings.push(line));
  registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(3), maxVniSeries: 10, interfaceName: names });
  void pipeline.forceFlush(); // an export in flight
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await pipeline.shutdown();
  const took = Date.now() - t0;
  assert.ok(took <= SHUTDOWN_EXPORT_BUDGET_MS + 500, `shutdown took ${took} ms, budget ${SHUTDOWN_EXPORT_BUDGET_MS} ms`);
  assert.deepEqual(
    warnings.filter((w) => /did not finish within/.test(w)),
    [`metrics shutdown: the last export to ${endpoint} did not finish within 5 s; exiting without it`],
  );
});

test('pipeline: the export timeout stays below the interval', () => {
  for (const interval of [1, 1000, 5000, 60_000, 600_000]) {
    const timeout = exportTimeoutMillis(interval);
    assert.ok(timeout > 0 && timeout <= interval && timeout <= 10_000, `${interval} -> ${timeout}`);
  }
});

test('pipeline: building one leaves the process-wide diag logger alone (only an application sets it)', (t) => {
  const seen: string[] = [];
  const mine = {
    error: (m: string) => seen.push(m),
    warn: (m: string) => seen.push(m),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(mine, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  t.after(() => diag.disable());
  const pipeline = createMeterPipeline(pipelineSettings('http://127.0.0.1:1/v1/metrics', 'json'), () => undefined);
  t.after(() => pipeline.shutdown());
  diag.warn('still mine');
  assert.deepEqual(seen, ['still mine'], "the host's diag logger still gets the SDK's messages");
});

test('diagLogger: one line per SDK message, JSON-stringified errors reduced to their message', () => {
  const warned: string[] = [];
  const debugged: string[] = [];
  const logger = diagLogger(
    (l) => warned.push(l),
    (l) => debugged.push(l),
  );
  logger.error(JSON.stringify({ message: 'PeriodicExportingMetricReader: metrics export failed', stack: 'Error\n    at x' }));
  logger.warn('two\nlines');
  logger.debug('detail');
  assert.deepEqual(warned, ['metrics export: PeriodicExportingMetricReader: metrics export failed', 'metrics: two lines']);
  assert.deepEqual(debugged, ['metrics: detail']);
});

test('pipeline: while the collector refuses, nothing is lost: the first export it accepts carries the full cumulative counts', async (t) => {
  let up = false;
  // 400: refused without retries (a 503 or a refused connection is retried within the export timeout first).
  const collector = await fakeCollector(() => (up ? 200 : 400));
  t.after(() => collector.close());
  const warnings: string[] = [];
  const pipeline = createMeterPipeline({ ...pipelineSettings(collector.url, 'json'), exportIntervalMillis: 3_600_000 }, (line) => warnings.push(line));
  let packets = 0;
  const row: VniCounters = { ifindex: 2, tunnelType: 'vxlan', vni: 100, packets: 0, bytes: 0, overheadBytes: 0, flows: 1 };
  const read = (): MetricsInput => ({
    counters: { vnis: [{ ...row, packets, bytes: packets * 100 }], outcomes: [], lost: { vni_stats: 0, outcome_stats: 0, flows: 0 } },
    activeFlows: [],
  });
  registerDecapMetrics({ meterProvider: pipeline.meterProvider, read, maxVniSeries: 10, interfaceName: names });
  packets = 10;
  await pipeline.forceFlush();
  packets = 25;
  await pipeline.forceFlush();
  assert.equal(warnings.length, 2, `each refused export said so: ${warnings.join(' | ')}`);
  up = true;
  packets = 31;
  await pipeline.shutdown();
  const accepted = collector.requests.at(-1)!;
  type Point = { asInt?: string | number; attributes: Array<{ key: string; value: { intValue?: string | number } }> };
  const body = JSON.parse(accepted.body.toString()) as {
    resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string; sum?: { dataPoints: Point[] } }> }> }>;
  };
  const metric = body.resourceMetrics[0]!.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.name === 'decap.tunnel.packet.count')!;
  assert.deepEqual(
    metric.sum!.dataPoints.map((p) => Number(p.asInt)),
    [31],
    'the total, not what accrued since the last accepted export',
  );
  assert.equal(collector.requests.length, 3);
});

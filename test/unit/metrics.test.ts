// Metric mapping: one map read per collection, right names/units/attributes, and no VNI lost to cardinality limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerDecapMetrics, type MetricsInput } from '../../src/metrics/decap-metrics.ts';
import { VniSeriesSelector } from '../../src/metrics/vni-series.ts';
import { collectPoints, syntheticInput, testProvider } from '../lib/metrics-fixture.ts';

const names = (ifindex: number) => (ifindex === 2 ? 'ens1f0' : `if${ifindex}`);

test('one read per collection; values, units and attributes as declared', async () => {
  const { provider, reader } = testProvider(100);
  let reads = 0;
  const input = syntheticInput(3);
  registerDecapMetrics({ meterProvider: provider, read: () => (reads++, input), maxVniSeries: 100, interfaceName: names });
  const points = await collectPoints(reader);
  assert.equal(reads, 1);
  await collectPoints(reader);
  assert.equal(reads, 2);
  const find = (metric: string, vni?: number) => points.filter((p) => p.metric === metric && (vni === undefined || p.attributes['tunnel.vni'] === vni));
  assert.deepEqual(find('decap.tunnel.packets', 2).map((p) => [p.value, p.unit, p.attributes]), [[2, '{packet}', { 'tunnel.type': 'vxlan', 'tunnel.vni': 2, 'network.interface.name': 'ens1f0' }]]);
  assert.equal(find('decap.tunnel.bytes', 3)[0]?.value, 30);
  assert.equal(find('decap.tunnel.bytes', 3)[0]?.unit, 'By');
  assert.equal(find('decap.tunnel.overhead', 3)[0]?.value, 150);
  assert.equal(find('decap.tunnel.flows', 1)[0]?.value, 1);
  assert.equal(find('decap.tunnel.flows.active', 1)[0]?.value, 1);
  assert.deepEqual(find('decap.skipped.packets').map((p) => [p.attributes['decap.reason'], p.value]), [['not_tunnel', 7]], 'decapsulated is not a skip reason');
  assert.deepEqual(find('decap.map.updates.lost').map((p) => [p.attributes['decap.map'], p.value]).sort(), [['flows', 3], ['outcome_stats', 0], ['vni_stats', 0]]);
  assert.equal(typeof find('decap.tunnel.packets', 1)[0]?.attributes['tunnel.vni'], 'number', 'tunnel.vni is an integer attribute');
});

test('50,000 VNIs with maxVniSeries 2000: 2000 series + overflow, nothing lost, overflow stays monotonic', async () => {
  const max = 2000;
  const { provider, reader } = testProvider(max);
  let input: MetricsInput = syntheticInput(50000);
  const metrics = registerDecapMetrics({ meterProvider: provider, read: () => input, maxVniSeries: max, interfaceName: names });
  const started = performance.now();
  const points = await collectPoints(reader);
  const elapsed = performance.now() - started;
  const bytes = points.filter((p) => p.metric === 'decap.tunnel.bytes');
  const individual = bytes.filter((p) => p.attributes['otel.metric.overflow'] === undefined);
  const overflow = bytes.filter((p) => p.attributes['otel.metric.overflow'] === true);
  assert.equal(individual.length, max);
  assert.equal(overflow.length, 1);
  assert.equal(overflow[0]!.attributes['tunnel.vni'], undefined);
  assert.equal(metrics.overflowVnis(), 48000);
  const totalIn = input.counters.vnis.reduce((s, v) => s + v.bytes, 0);
  assert.equal(bytes.reduce((s, p) => s + p.value, 0), totalIn, 'every byte is in some series');
  // The largest VNIs by bytes were admitted first.
  assert.equal(Math.min(...individual.map((p) => Number(p.attributes['tunnel.vni']))), 48001);
  const packets = points.filter((p) => p.metric === 'decap.tunnel.packets');
  assert.equal(packets.length, max + 1, 'the same membership for every instrument');
  const active = points.filter((p) => p.metric === 'decap.tunnel.flows.active');
  assert.equal(active.reduce((s, p) => s + p.value, 0), 50000);

  // Bytes change order: the small VNIs now carry the most. Membership is sticky, so overflow only grows.
  const before = overflow[0]!.value;
  input = syntheticInput(50001, (v) => v * 10 + (v <= 100 ? 10_000_000 : 0));
  const again = (await collectPoints(reader)).filter((p) => p.metric === 'decap.tunnel.bytes');
  const overflow2 = again.find((p) => p.attributes['otel.metric.overflow'] === true)!;
  assert.ok(overflow2.value >= before, 'overflow series never decreases');
  assert.equal(again.filter((p) => p.attributes['otel.metric.overflow'] === undefined).length, max);
  assert.equal(again.reduce((s, p) => s + p.value, 0), input.counters.vnis.reduce((s, v) => s + v.bytes, 0));
  console.log(`# one collection of 50,000 VNIs: ${elapsed.toFixed(1)} ms`);
});

test('selector: admits the largest first until full, then never changes', () => {
  const s = new VniSeriesSelector(2);
  s.update([{ ifindex: 1, tunnelType: 'vxlan', vni: 1, bytes: 5 }, { ifindex: 1, tunnelType: 'vxlan', vni: 2, bytes: 50 }, { ifindex: 1, tunnelType: 'vxlan', vni: 3, bytes: 20 }]);
  assert.ok(s.has({ ifindex: 1, tunnelType: 'vxlan', vni: 2 }) && s.has({ ifindex: 1, tunnelType: 'vxlan', vni: 3 }));
  assert.ok(!s.has({ ifindex: 1, tunnelType: 'vxlan', vni: 1 }));
  s.update([{ ifindex: 1, tunnelType: 'vxlan', vni: 1, bytes: 1e9 }]);
  assert.ok(!s.has({ ifindex: 1, tunnelType: 'vxlan', vni: 1 }), 'sticky');
  assert.ok(!s.has({ ifindex: 2, tunnelType: 'vxlan', vni: 2 }), 'keyed by interface too');
});

// Series identity by interface name: rows re-keyed from ifindex to one series per name, summed over every ifindex it had.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CounterSnapshot } from '../../src/decode/counter-snapshot.ts';
import type { OutcomeCounters, VniCounters } from '../../src/decode/records.ts';
import type { MetricsInput } from '../../src/metrics/decap-metrics.ts';
import { InterfaceSeriesLedger } from '../../src/metrics/interface-series.ts';

const vni = (ifindex: number, v: number, packets: number): VniCounters => ({
  ifindex,
  tunnelType: 'vxlan',
  vni: v,
  packets,
  bytes: packets * 100,
  overheadBytes: packets * 50,
  flows: 1,
});
const skip = (ifindex: number, packets: number): OutcomeCounters => ({ ifindex, outcome: 'not_tunnel', packets, bytes: packets * 60 });
const snapshot = (vnis: VniCounters[], outcomes: OutcomeCounters[] = []): CounterSnapshot => ({
  vnis,
  outcomes,
  lost: { vni_stats: 0, outcome_stats: 0, flows: 0 },
});
const input = (vnis: VniCounters[], outcomes: OutcomeCounters[] = []): MetricsInput => ({ counters: snapshot(vnis, outcomes), activeFlows: [] });
/** name/vni -> packets of one applied collection. */
function packetsByName(ledger: InterfaceSeriesLedger, applied: MetricsInput): Record<string, number> {
  return Object.fromEntries(applied.counters.vnis.map((r) => [`${ledger.nameOf(r.ifindex)}/${r.vni}`, r.packets]));
}

test('a re-created interface (new ifindex, same name) continues one series: the sum of both lives', () => {
  const ledger = new InterfaceSeriesLedger();
  const noRead = () => assert.fail('no snapshot needed for a fresh ifindex');
  ledger.claim(2, 'cap0', noRead);
  assert.deepEqual(packetsByName(ledger, ledger.apply(input([vni(2, 100, 10)]))), { 'cap0/100': 10 });
  // cap0 deleted (ifindex 2's rows stay frozen in the map) and re-created as ifindex 7.
  ledger.claim(7, 'cap0', noRead);
  const applied = ledger.apply(input([vni(2, 100, 10), vni(7, 100, 5), vni(7, 200, 1)], [skip(2, 3), skip(7, 4)]));
  assert.deepEqual(packetsByName(ledger, applied), { 'cap0/100': 15, 'cap0/200': 1 });
  assert.equal(applied.counters.vnis.find((r) => r.vni === 100)?.bytes, 1500);
  assert.deepEqual(
    applied.counters.outcomes.map((o) => [ledger.nameOf(o.ifindex), o.outcome, o.packets, o.bytes]),
    [['cap0', 'not_tunnel', 7, 420]],
    'one skip series per name',
  );
});

test('names outlive the attachment: nothing is ever named ifindex-N for an interface that was claimed', () => {
  const ledger = new InterfaceSeriesLedger();
  ledger.claim(2, 'cap0', () => snapshot([]));
  const first = ledger.apply(input([vni(2, 100, 1)]));
  // After a detach the ledger still knows ifindex 2 (series identity does not depend on attach state).
  const last = ledger.apply(input([vni(2, 100, 3)]));
  assert.equal(first.counters.vnis[0]!.ifindex, last.counters.vnis[0]!.ifindex);
  assert.equal(ledger.nameOf(last.counters.vnis[0]!.ifindex), 'cap0');
  // A row of an ifindex never claimed is named by number, once.
  const stray = ledger.apply(input([vni(9, 1, 1)]));
  assert.equal(ledger.nameOf(stray.counters.vnis[0]!.ifindex), 'ifindex-9');
});

test('an ifindex reused by another name: its old counts stay with the old name, the new name starts at 0', () => {
  const ledger = new InterfaceSeriesLedger();
  ledger.claim(5, 'cap0', () => snapshot([]));
  ledger.apply(input([vni(5, 100, 10)], [skip(5, 2)]));
  let reads = 0;
  ledger.claim(5, 'cap1', () => {
    reads++;
    return snapshot([vni(5, 100, 12)], [skip(5, 3)]);
  });
  assert.equal(reads, 1, 'one snapshot when an ifindex changes hands');
  const applied = ledger.apply(input([vni(5, 100, 20), vni(5, 300, 4)], [skip(5, 9)]));
  assert.deepEqual(packetsByName(ledger, applied), { 'cap0/100': 12, 'cap1/100': 8, 'cap1/300': 4 });
  assert.deepEqual(applied.counters.outcomes.map((o) => [ledger.nameOf(o.ifindex), o.packets]).sort(), [
    ['cap0', 3],
    ['cap1', 6],
  ]);
  ledger.claim(5, 'cap1', () => assert.fail('same owner: no snapshot'));
});

test('active flows of every ifindex of a name are summed into one gauge row', () => {
  const ledger = new InterfaceSeriesLedger();
  ledger.claim(2, 'cap0', () => snapshot([]));
  ledger.claim(7, 'cap0', () => snapshot([]));
  const applied = ledger.apply({
    counters: snapshot([]),
    activeFlows: [
      { ifindex: 2, tunnelType: 'geneve', vni: 9, flows: 2 },
      { ifindex: 7, tunnelType: 'geneve', vni: 9, flows: 3 },
    ],
  });
  assert.deepEqual(
    applied.activeFlows.map((r) => [ledger.nameOf(r.ifindex), r.tunnelType, r.vni, r.flows]),
    [['cap0', 'geneve', 9, 5]],
  );
});

test('packVniKey: (interface, tunnel type) as one number exact for any u32 ifindex, unpackVniKey inverts it; VniMap keys exactly with 32-bit segment ids', async () => {
  const { packVniKey, unpackVniKey, TUNNEL_TYPE_IDS } = await import('../../src/decode/layout.ts');
  const { VniMap } = await import('../../src/decode/vni-map.ts');
  for (const [ifindex, type] of [
    [1, TUNNEL_TYPE_IDS.vxlan],
    [2 ** 17, TUNNEL_TYPE_IDS.geneve],
    [0xffffffff, TUNNEL_TYPE_IDS.erspan],
    [0xfffffffe, 15],
    [513, 1],
  ] as const) {
    assert.deepEqual(unpackVniKey(packVniKey(ifindex, type)), { ifindex, tunnelTypeId: type });
  }
  assert.ok(Math.max(...Object.values(TUNNEL_TYPE_IDS)) < 16, 'tunnel type codes fit the 4 bits the key gives them');
  const map = new VniMap<number>();
  const keys = [
    [0xffffffff, 15, 0xffffffff],
    [0xfffffffe, 15, 0xffffffff],
    [0xffffffff, 14, 0xffffffff],
    [0xffffffff, 15, 0xfffffffe],
    [2 ** 17, 1, 0],
    [0, 1, 2 ** 17 * 2 ** 4],
  ] as const;
  for (const [i, [ifindex, type, vni]] of keys.entries()) map.set(ifindex, type, vni, i);
  assert.equal(map.size, keys.length, 'no two keys collide');
  for (const [i, [ifindex, type, vni]] of keys.entries()) assert.equal(map.get(ifindex, type, vni), i);
  assert.deepEqual(
    map
      .entries()
      .map(([i, t, v]) => [i, t, v])
      .sort(),
    keys.map((k) => [...k]).sort(),
  );
});

test('as the plugin reads: columns from the maps, re-keyed by the ledger, observed and released, a fresh read each collection', async () => {
  const { VniTable } = await import('../../src/decode/vni-table.ts');
  const { snapshotOfTable } = await import('../../src/decode/counter-snapshot.ts');
  const { registerDecapMetrics } = await import('../../src/metrics/decap-metrics.ts');
  const { testProvider, collectPoints } = await import('../lib/metrics-fixture.ts');
  const ledger = new InterfaceSeriesLedger();
  ledger.claim(0xfffffff0, 'cap0', () => snapshot([]));
  let packets = 10;
  const tables: InstanceType<typeof VniTable>[] = [];
  const read = (): MetricsInput => {
    const table = VniTable.fromRows([vni(0xfffffff0, 0xffffffff, packets), vni(0xfffffff0, 0xfffffffe, 1), vni(0xfffffff0, 5, 2)]);
    tables.push(table);
    return {
      counters: snapshotOfTable(table, [skip(0xfffffff0, 3)], { vni_stats: 0, outcome_stats: 0, flows: 0 }),
      activeFlows: [{ ifindex: 0xfffffff0, tunnelType: 'vxlan', vni: 0xffffffff, flows: 4 }],
    };
  };
  const { provider, reader } = testProvider(2);
  registerDecapMetrics({ meterProvider: provider, read: () => ledger.apply(read()), maxVniSeries: 2, interfaceName: (id) => ledger.nameOf(id) });
  for (const expected of [10, 25]) {
    packets = expected;
    const points = await collectPoints(reader);
    const tunnelPackets = points
      .filter((p) => p.metric === 'decap.tunnel.packet.count')
      .map((p) => [p.attributes['network.interface.name'], p.attributes['decap.tunnel.id'] ?? 'overflow', p.value]);
    // Admitted by bytes: the largest two; 0xfffffffe (one bit from 0xffffffff) goes to overflow, not into its neighbour.
    assert.deepEqual(
      tunnelPackets.sort(),
      [
        ['cap0', 0xffffffff, expected],
        ['cap0', 5, 2],
        ['cap0', 'overflow', 1],
      ].sort(),
    );
    assert.deepEqual(
      points.filter((p) => p.metric === 'decap.tunnel.flow.active').map((p) => [p.attributes['decap.tunnel.id'], p.value]),
      [[0xffffffff, 4]],
    );
    assert.throws(() => tables.at(-1)!.rows(), /after release/, 'the collection released the columns it read');
  }
});

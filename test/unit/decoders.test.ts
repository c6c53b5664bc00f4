// Pure decoders: raw map bytes (as libbpf returns them, per-CPU slots included) to typed records.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activeFlowCounts, countActiveFlows, flowsAtPass, flowsSincePass } from '../../src/decode/active-flows.ts';
import { addDecapsulatedFromVnis, decodeLostUpdates, decodeOutcomeArray, decodeOutcomeStats, decodeVniStats } from '../../src/decode/counter-decoders.ts';
import { encodeDecapConfig, encodePortValue } from '../../src/decode/encoders.ts';
import { decodeFlows, flowCacheIndex, formatAddress } from '../../src/decode/flow-decoders.ts';
import { FLOW_CACHE_SLOTS, LAYOUT, OUTCOMES } from '../../src/decode/layout.ts';
import { VniMap } from '../../src/decode/vni-map.ts';
import { outermostFlow, summarizeTap } from '../../src/demo/tap-flows.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';

const CPUS = 3;

test('vni_stats: per-CPU values summed, key fields decoded', () => {
  const keys = Buffer.alloc(LAYOUT.vni_key.size * 2);
  keys.writeUInt32LE(7, 0);
  keys.writeUInt32LE(100, 4);
  keys.writeUInt32LE(1, 8);
  keys.writeUInt32LE(7, 12);
  keys.writeUInt32LE(0xffffff, 16);
  keys.writeUInt32LE(2, 20);
  const stride = LAYOUT.vni_value.size;
  const values = Buffer.alloc(stride * CPUS * 2);
  for (let e = 0; e < 2; e++)
    for (let cpu = 0; cpu < CPUS; cpu++) {
      const base = e * stride * CPUS + cpu * stride;
      values.writeBigUInt64LE(BigInt(cpu + 1), base); // packets 1+2+3
      values.writeBigUInt64LE(BigInt(100 * (cpu + 1)), base + 8); // bytes
      values.writeBigUInt64LE(50n, base + 16);
      values.writeBigUInt64LE(cpu === 0 ? 1n : 0n, base + 24);
    }
  assert.deepEqual(decodeVniStats({ count: 2, keys, values }, { stride, cpus: CPUS }), [
    { ifindex: 7, tunnelType: 'vxlan', vni: 100, packets: 6, bytes: 600, overheadBytes: 150, flows: 1 },
    { ifindex: 7, tunnelType: 'geneve', vni: 0xffffff, packets: 6, bytes: 600, overheadBytes: 150, flows: 1 },
  ]);
  keys.writeUInt32LE(9, 8);
  assert.throws(() => decodeVniStats({ count: 1, keys, values }, { stride, cpus: CPUS }), /unknown tunnel type 9/);
});

test('outcome_stats and lost_updates', () => {
  const keys = Buffer.alloc(8);
  keys.writeUInt32LE(3, 0);
  keys.writeUInt32LE(6, 4);
  const values = Buffer.alloc(16 * 2);
  values.writeBigUInt64LE(4n, 0);
  values.writeBigUInt64LE(400n, 8);
  values.writeBigUInt64LE(1n, 16);
  values.writeBigUInt64LE(60n, 24);
  assert.deepEqual(decodeOutcomeStats({ count: 1, keys, values }, { stride: 16, cpus: 2 }), [{ ifindex: 3, outcome: 'excluded', packets: 5, bytes: 460 }]);
  keys.writeUInt32LE(99, 4);
  assert.throws(() => decodeOutcomeStats({ count: 1, keys, values }, { stride: 16, cpus: 2 }), /unknown outcome 99/);
  // The array form: index = ifindex * OUTCOME_MAX + outcome; untouched entries are left out.
  const ak = Buffer.alloc(8);
  ak.writeUInt32LE(2 * OUTCOMES.length + 1, 0);
  ak.writeUInt32LE(3 * OUTCOMES.length + 0, 4);
  const av = Buffer.alloc(16 * 2 * 2);
  av.writeBigUInt64LE(2n, 0);
  av.writeBigUInt64LE(120n, 8);
  av.writeBigUInt64LE(1n, 16);
  av.writeBigUInt64LE(60n, 24);
  assert.deepEqual(decodeOutcomeArray({ count: 2, keys: ak, values: av }, { stride: 16, cpus: 2 }), [
    { ifindex: 2, outcome: 'not_tunnel', packets: 3, bytes: 180 },
  ]);
  const lk = Buffer.alloc(12);
  lk.writeUInt32LE(0, 0);
  lk.writeUInt32LE(1, 4);
  lk.writeUInt32LE(2, 8);
  const lv = Buffer.alloc(8 * 2 * 3);
  lv.writeBigUInt64LE(2n, 0);
  lv.writeBigUInt64LE(3n, 8);
  lv.writeBigUInt64LE(7n, 40);
  assert.deepEqual(decodeLostUpdates({ count: 3, keys: lk, values: lv }, { stride: 8, cpus: 2 }), { vni_stats: 5, outcome_stats: 0, flows: 7 });
});

test('flows: IPv4 and IPv6 keys, shared values; activity splits at the idle cutoff', () => {
  const K = LAYOUT.flow_key;
  const keys = Buffer.alloc(K.size * 2);
  const v = Buffer.alloc(LAYOUT.flow_value.size * 2);
  keys.writeUInt32LE(2, 0);
  keys.writeUInt32LE(100, 4);
  keys[8] = 1;
  keys[9] = 4;
  keys[10] = 6;
  keys.writeUInt16LE(40000, 12);
  keys.writeUInt16LE(443, 14);
  Buffer.from([10, 0, 0, 1]).copy(keys, K.saddr);
  Buffer.from([10, 0, 0, 2]).copy(keys, K.daddr);
  const o = K.size;
  keys.writeUInt32LE(2, o);
  keys.writeUInt32LE(7, o + 4);
  keys[o + 8] = 2;
  keys[o + 9] = 6;
  keys[o + 10] = 17;
  Buffer.from('20010db8000000000000000000000001', 'hex').copy(keys, o + K.saddr);
  Buffer.from('fe800000000000000000000000000abc', 'hex').copy(keys, o + K.daddr);
  v.writeBigUInt64LE(3n, 0);
  v.writeBigUInt64LE(300n, 8);
  v.writeBigUInt64LE(10n, 16);
  v.writeBigUInt64LE(1_000n, 24);
  v.writeBigUInt64LE(1n, 32);
  v.writeBigUInt64LE(90n, 40);
  v.writeBigUInt64LE(20n, 48);
  v.writeBigUInt64LE(9_000n, 56);
  const flows = decodeFlows({ count: 2, keys, values: v });
  assert.deepEqual(flows[0], {
    ifindex: 2,
    tunnelType: 'vxlan',
    vni: 100,
    family: 4,
    protocol: 6,
    srcAddr: '10.0.0.1',
    dstAddr: '10.0.0.2',
    srcPort: 40000,
    dstPort: 443,
    packets: 3,
    bytes: 300,
    firstSeenNs: 10n,
    lastSeenNs: 1000n,
  });
  assert.equal(flows[1]!.srcAddr, '2001:db8::1');
  assert.equal(flows[1]!.dstAddr, 'fe80::abc');
  assert.equal(flows[1]!.tunnelType, 'geneve');
  const counts = new VniMap<number>();
  assert.deepEqual(countActiveFlows({ count: 2, keys, values: v }, 5_000n, counts), [0], 'the flow last seen at 1000 ns is idle');
  assert.deepEqual(activeFlowCounts(counts), [{ ifindex: 2, tunnelType: 'geneve', vni: 7, flows: 1 }]);
  // Past 2^53 ns (104 days of uptime) the comparison must stay exact.
  const late = Buffer.from(v);
  late.writeBigUInt64LE(2n ** 60n + 1n, 24);
  late.writeBigUInt64LE(2n ** 60n + 5n, 56);
  assert.deepEqual(countActiveFlows({ count: 2, keys, values: late }, 2n ** 60n + 3n, new VniMap()), [0]);
});

test('the active-flows gauge is what the last expiry pass kept plus the new flows counted since', () => {
  const row = (vni: number, flows: number) => ({ ifindex: 2, tunnelType: 'vxlan' as const, vni, packets: 1, bytes: 1, overheadBytes: 1, flows });
  const kept = (vni: number, flows: number) => new VniMap<number>().set(2, 1, vni, flows);
  // At the pass: VNI 10 had 7 new flows so far and 4 stayed in the table; VNI 20 had 3, all expired.
  const pass = flowsAtPass(kept(10, 4), [row(10, 7), row(20, 3), row(30, 0)]);
  assert.deepEqual(
    pass.entries().filter(([, , , kept, base]) => kept !== 0 || base !== 0),
    [
      [2, 1, 10, 4, -3],
      [2, 1, 20, 0, -3],
    ],
  );
  assert.deepEqual(
    flowsSincePass(pass, [row(20, 3), row(10, 7)]),
    [{ ifindex: 2, tunnelType: 'vxlan', vni: 10, flows: 4 }],
    'rows in another order: matched by key',
  );
  assert.deepEqual(flowsSincePass(pass, [row(10, 7), row(20, 3)]), [{ ifindex: 2, tunnelType: 'vxlan', vni: 10, flows: 4 }], 'nothing new: what the pass kept');
  assert.deepEqual(
    flowsSincePass(pass, [row(10, 9), row(20, 4), row(30, 2)]).map((r) => [r.vni, r.flows]),
    [
      [10, 6],
      [20, 1],
      [30, 2],
    ],
    'plus the new flows since',
  );
  assert.deepEqual(
    flowsSincePass(flowsAtPass(kept(40, 5), []), []).map((r) => [r.vni, r.flows]),
    [[40, 5]],
    'a VNI missing from the counters keeps what the pass kept',
  );
  assert.deepEqual(
    flowsSincePass(flowsAtPass(new VniMap(), []), [row(10, 3)]).map((r) => r.flows),
    [3],
    'before the first pass: every flow counted so far',
  );
  // Exact for any u32 ifindex and 32-bit segment ids: neighbours differing in one bit of either stay apart.
  const big = (ifindex: number, vni: number, flows: number) => ({ ifindex, tunnelType: 'gre' as const, vni, packets: 1, bytes: 1, overheadBytes: 1, flows });
  const bigPass = flowsAtPass(new VniMap<number>().set(0xffffffff, 4, 0xffffffff, 2).set(0xfffffffe, 4, 0xffffffff, 5).set(0xffffffff, 4, 0xfffffffe, 7), []);
  assert.deepEqual(
    flowsSincePass(bigPass, [big(0xffffffff, 0xffffffff, 1), big(0xfffffffe, 0xffffffff, 0), big(0xffffffff, 0xfffffffe, 0)]).map((r) => [
      r.ifindex,
      r.vni,
      r.flows,
    ]),
    [
      [0xffffffff, 0xffffffff, 3],
      [0xfffffffe, 0xffffffff, 5],
      [0xffffffff, 0xfffffffe, 7],
    ],
  );
});

test('address formatting follows RFC 5952', () => {
  const f = (hex: string) => formatAddress(Buffer.from(hex, 'hex'), 6);
  assert.equal(f('00000000000000000000000000000000'), '::');
  assert.equal(f('00000000000000000000000000000001'), '::1');
  assert.equal(f('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  assert.equal(f('20010db8000100000000000100000001'), '2001:db8:1::1:0:1');
  assert.equal(f('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
  assert.equal(formatAddress(Buffer.from([192, 0, 2, 255]), 4), '192.0.2.255');
});

test('settings encoders lay out decap_config and the port set as the C structs', () => {
  assert.deepEqual(
    [...encodeDecapConfig({ dstFilterV4: true, dstFilterV6: false, trackFlows: true, excludeV4: false, excludeV6: true, flowSyncMillis: 1000, gre: true })],
    [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xe8, 0x03, 0, 0, 1, 0, 0, 0],
  );
  assert.deepEqual([...encodePortValue('geneve')], [2, 0, 0, 0]);
  assert.deepEqual([...encodePortValue(undefined)], [0, 0, 0, 0]);
});

test('the demo tap summary groups frames by their outermost 5-tuple', () => {
  const inner = innerFrame({ src: '192.168.1.1', dst: '192.168.1.2', protocol: 'udp', sport: 1000, dport: 53 });
  const t = vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 1, inner, sport: 4242 });
  assert.deepEqual(outermostFlow(t.frame), { protocol: 'UDP', src: '10.0.0.1:4242', dst: '10.0.0.2:4789' });
  assert.deepEqual(
    summarizeTap([t.frame, t.frame, inner]).map((f) => [f.src, f.packets]),
    [
      ['10.0.0.1:4242', 2],
      ['192.168.1.1:1000', 1],
    ],
  );
});

test('counter rows in columns: vni_cache counts added to the matching vni_stats row, rows only the cache has appended, exact 32-bit keys', async () => {
  const { VniTable } = await import('../../src/decode/vni-table.ts');
  const { snapshotOfTable, vniTableOf } = await import('../../src/decode/counter-snapshot.ts');
  const { addVniCountersToTable } = await import('../../src/decode/counter-decoders.ts');
  const table = new VniTable(1);
  table.push(2, 4, 0xffffffff, 1, 100, 10, 1);
  table.push(2, 4, 0xfffffffe, 2, 200, 20, 0);
  const cached = [
    { ifindex: 2, tunnelType: 'gre' as const, vni: 0xffffffff, packets: 5, bytes: 500, overheadBytes: 50, flows: 2 },
    { ifindex: 3, tunnelType: 'gre' as const, vni: 0xffffffff, packets: 7, bytes: 700, overheadBytes: 70, flows: 1 },
  ];
  addVniCountersToTable(table, cached);
  const snapshot = snapshotOfTable(table, [], { vni_stats: 0, outcome_stats: 0, flows: 0 });
  assert.equal(vniTableOf(snapshot), table);
  assert.deepEqual(
    snapshot.vnis.map((r) => [r.ifindex, r.tunnelType, r.vni, r.packets, r.bytes, r.overheadBytes, r.flows]),
    [
      [2, 'gre', 0xffffffff, 6, 600, 60, 3],
      [2, 'gre', 0xfffffffe, 2, 200, 20, 0],
      [3, 'gre', 0xffffffff, 7, 700, 70, 1],
    ],
  );
  const unread = snapshotOfTable(VniTable.fromRows(cached), [], { vni_stats: 0, outcome_stats: 0, flows: 0 });
  unread.vniTable!.release();
  assert.throws(() => unread.vnis, /after release/, 'a released table fails loudly, never reads as empty');
});

test("the decapsulated outcome: VNI counters (bytes + overhead = frames as received) per interface, plus the kernel's own count", async () => {
  const { VniTable } = await import('../../src/decode/vni-table.ts');
  const table = new VniTable(2);
  table.push(3, 1, 100, 10, 1000, 500, 1);
  table.push(3, 4, 7, 2, 200, 84, 0);
  table.push(5, 2, 9, 1, 60, 50, 1);
  table.push(6, 1, 1, 0, 0, 0, 0);
  const kernel = [
    { ifindex: 3, outcome: 'decapsulated' as const, packets: 1, bytes: 150 },
    { ifindex: 3, outcome: 'not_tunnel' as const, packets: 4, bytes: 240 },
  ];
  assert.deepEqual(addDecapsulatedFromVnis(kernel, table), [
    { ifindex: 3, outcome: 'decapsulated', packets: 13, bytes: 150 + 1500 + 284 },
    { ifindex: 3, outcome: 'not_tunnel', packets: 4, bytes: 240 },
    { ifindex: 5, outcome: 'decapsulated', packets: 1, bytes: 110 },
  ]);
  assert.equal(kernel[0]!.packets, 1, 'the input rows are not modified');
});

test('flowCacheIndex is flow_cache_index(): six 64-bit products summed mod 2^64, bits 32 and up (BigInt reference)', () => {
  const multipliers = [0x9e3779b97f4a7c15n, 0xc2b2ae3d27d4eb4fn, 0x165667b19e3779f9n, 0xd6e8feb86659fd93n, 0xff51afd7ed558ccdn, 0xc4ceb9fe1a85ec53n];
  const reference = (key: Buffer) => {
    let h = 0n;
    for (let i = 0; i < 6; i++) h += key.readBigUInt64LE(i * 8) * multipliers[i]!;
    return Number((BigInt.asUintN(64, h) >> 32n) & BigInt(FLOW_CACHE_SLOTS - 1));
  };
  let seed = 12345;
  const byte = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 24) & 0xff;
  };
  const keys = Buffer.alloc(48 * 2000);
  for (let i = 0; i < keys.length; i++) keys[i] = i % 48 < 24 && byte() < 128 ? 0xff : byte();
  for (let k = 0; k < 2000; k++) assert.equal(flowCacheIndex(keys, k * 48), reference(keys.subarray(k * 48, k * 48 + 48)), `key ${k}`);
});

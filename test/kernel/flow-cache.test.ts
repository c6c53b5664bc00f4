// The per-CPU caches in front of the flows and vni_stats tables: userspace finds each slot where the kernel put it, and reads stay exact.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeVniStats } from '../../src/decode/counter-decoders.ts';
import { flowCacheIndex, flowCacheSnapshot } from '../../src/decode/flow-decoders.ts';
import { LAYOUT, MAP_NAMES } from '../../src/decode/layout.ts';
import { programIdOfFd } from '../../src/ffi/xdp.ts';
import { readProgramCounters } from '../../src/status/read-status.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { IS_ROOT, requireRoot } from '../lib/env.ts';
import { ProgramUnderTest } from '../lib/program.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF); runs in CI' : false;
const K = LAYOUT.flow_key.size;

function flowFrame(n: number, payloadSize = 20): Buffer {
  const inner = innerFrame({ src: `10.77.${(n >> 8) & 0xff}.${n & 0xff}`, dst: '10.78.0.1', protocol: 'tcp', sport: 2000 + n, dport: 443, payloadSize });
  return vxlanFrame({ outerSrc: '10.1.0.1', outerDst: '10.1.0.2', vni: 555, inner }).frame;
}

describe('per-CPU flow cache', { skip: SKIP }, () => {
  let put: ProgramUnderTest;
  before(() => {
    if (IS_ROOT) put = new ProgramUnderTest({}, { vniCapacity: 1024, flowCapacity: 16384 });
  });
  after(() => put?.program.close());
  const flows = () => put.program.object.map(MAP_NAMES.flows);
  const cache = () => put.program.object.map(MAP_NAMES.flowCache);
  const vniFlows = () => put.program.readCounters().vnis.find((v) => v.vni === 555)?.flows ?? 0;
  const reset = () => {
    flows().clear();
    const zero = Buffer.alloc(cache().userValueSize);
    for (let i = 0; i < 4096; i++) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(i);
      cache().update(key, zero);
    }
  };

  test('the slot userspace computes (flowCacheIndex) is the one the kernel filled', (t) => {
    if (!requireRoot(t, 'the flow cache')) return;
    reset();
    for (let n = 0; n < 50; n++) put.program.program.testRun(flowFrame(n));
    const raw = flows().readAll();
    const snap = flowCacheSnapshot(cache().readAll(), cache().perCpuLayout);
    assert.equal(raw.count, 50);
    for (let i = 0; i < raw.count; i++) {
      const index = flowCacheIndex(raw.keys, i * K);
      const found = Array.from({ length: snap.cpus }, (_, cpu) => (index * snap.cpus + cpu) * snap.stride).some(
        (at) => snap.slots.compare(raw.keys, i * K, (i + 1) * K, at, at + K) === 0,
      );
      assert.ok(found, `flow ${i} is in slot ${index}`);
    }
  });

  test('counts held in the cache are merged into every read: packets, bytes, last seen', (t) => {
    if (!requireRoot(t, 'the flow cache')) return;
    reset();
    const newBefore = vniFlows();
    const frame = flowFrame(1, 100);
    for (let i = 0; i < 1000; i++) put.program.program.testRun(frame);
    const inLru = flows().readAll();
    assert.equal(inLru.count, 1);
    assert.ok(Number(inLru.values.readBigUInt64LE(LAYOUT.flow_value.packets)) < 1000, 'hits stayed in the per-CPU slot');
    const [flow] = put.program.readFlows();
    assert.equal(flow?.packets, 1000);
    assert.equal(flow?.bytes, 1000 * (frame.length - 50));
    assert.equal(vniFlows() - newBefore, 1);
    assert.deepEqual(
      put.program.countActiveFlows(5_000_000_000n).map((a) => a.flows),
      [1],
    );
  });

  test('VNI counts held in the per-CPU VNI cache are added to vni_stats on every read, status included', (t) => {
    if (!requireRoot(t, 'the VNI cache')) return;
    const frame = vxlanFrame({
      outerSrc: '10.1.0.1',
      outerDst: '10.1.0.2',
      vni: 9090,
      inner: innerFrame({ src: '10.9.0.1', dst: '10.9.0.2', protocol: 'udp', payloadSize: 64 }),
    }).frame;
    for (let i = 0; i < 500; i++) put.program.program.testRun(frame);
    const row = put.program.readCounters().vnis.find((v) => v.vni === 9090);
    assert.deepEqual(row && [row.packets, row.bytes, row.overheadBytes, row.flows], [500, 500 * (frame.length - 50), 500 * 50, 1]);
    const stats = put.program.object.map(MAP_NAMES.vniStats);
    const inHash = decodeVniStats(stats.readAll(), stats.perCpuLayout).find((v) => v.vni === 9090)?.packets ?? 0;
    assert.ok(inHash < 500, `most packets counted in the cache (${inHash} in vni_stats)`);
    const viaStatus = readProgramCounters(programIdOfFd(put.program.program.fd)).vnis.find((v) => v.vni === 9090);
    assert.equal(viaStatus?.packets, 500, 'status reads through the same merge');
  });

  test('two flows sharing a slot take it in turn; counts and new-flow counts stay exact', (t) => {
    if (!requireRoot(t, 'the flow cache')) return;
    reset();
    for (let n = 0; n < 3000; n++) put.program.program.testRun(flowFrame(n));
    const raw = flows().readAll();
    const bySlot = new Map<number, number[]>();
    for (let i = 0; i < raw.count; i++) {
      const port = raw.keys.readUInt16LE(i * K + LAYOUT.flow_key.sport) - 2000;
      const index = flowCacheIndex(raw.keys, i * K);
      bySlot.set(index, [...(bySlot.get(index) ?? []), port]);
    }
    const pair = [...bySlot.values()].find((ports) => ports.length >= 2)!;
    assert.ok(pair, 'two of 3000 flows share one of 4096 slots');
    reset();
    const before = vniFlows();
    for (let i = 0; i < 100; i++) for (const n of pair.slice(0, 2)) put.program.program.testRun(flowFrame(n));
    const got = put.program.readFlows().map((f) => f.packets);
    assert.deepEqual(got, [100, 100]);
    assert.equal(vniFlows() - before, 2, 'each flow new once, however often it lost its slot');
    assert.equal(put.program.readCounters().lost.flows, 0);
  });
});

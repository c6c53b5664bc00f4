// Idle-flow expiry against the real flow table: batch deletes that meet evicted keys, a read-only count, the timer.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAP_NAMES } from '../../src/decode/layout.ts';
import { FlowExpiry } from '../../src/program/flow-expiry.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { IS_ROOT, requireRoot } from '../lib/env.ts';
import { ProgramUnderTest } from '../lib/program.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF); runs in CI' : false;

/** One VXLAN frame of inner flow number `n` (distinct UDP source port and address). */
function flowFrame(n: number, vni = 100): Buffer {
  const inner = innerFrame({
    src: `192.168.${(n >> 8) & 0xff}.${n & 0xff}`,
    dst: '192.168.200.1',
    protocol: 'udp',
    sport: 1024 + (n % 60000),
    dport: 53,
    payloadSize: 20,
  });
  return vxlanFrame({ outerSrc: '10.1.0.1', outerDst: '10.1.0.2', vni, inner }).frame;
}

describe('idle-flow expiry on the real flow table', { skip: SKIP }, () => {
  let put: ProgramUnderTest;
  before(() => {
    if (IS_ROOT) put = new ProgramUnderTest({ flowIdleSeconds: 0.2 }, { vniCapacity: 1024, flowCapacity: 4096 });
  });
  after(() => put?.program.close());

  const flows = () => put.program.object.map(MAP_NAMES.flows);
  const tableSize = () => {
    let n = 0;
    flows().forEachChunk((c) => {
      n += c.count;
    });
    return n;
  };
  const vniFlows = (vni: number) => put.program.readCounters().vnis.find((v) => v.vni === vni)?.flows ?? 0;

  test('deleteMany deletes every present key even when keys in the batch are already gone (ENOENT)', (t) => {
    if (!requireRoot(t, 'the flow table')) return;
    flows().clear();
    for (let i = 0; i < 300; i++) put.program.program.testRun(flowFrame(i));
    assert.equal(tableSize(), 300);
    const all = flows().readAll();
    // Every third key disappears before the batch (as the LRU evicting it, or another pass, would do).
    for (let i = 0; i < all.count; i += 3) flows().delete(all.keys.subarray(i * flows().keySize, (i + 1) * flows().keySize));
    const deleted = flows().deleteMany(all.keys, all.count);
    assert.equal(deleted, all.count - Math.ceil(all.count / 3), 'each present key deleted, each missing key skipped');
    assert.equal(tableSize(), 0, 'nothing left behind after the first missing key');
  });

  test('counting active flows only reads; expiry deletes the idle ones and a returning flow counts as new', async (t) => {
    if (!requireRoot(t, 'the flow table')) return;
    flows().clear();
    for (let i = 0; i < 200; i++) put.program.program.testRun(flowFrame(i, 200));
    assert.equal(vniFlows(200), 200);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 50; i++) put.program.program.testRun(flowFrame(i, 200)); // 50 flows stay active
    const idleNs = 200_000_000n;
    const active = put.program.countActiveFlows(idleNs);
    assert.deepEqual(
      active.map((a) => [a.vni, a.flows]),
      [[200, 50]],
    );
    assert.equal(tableSize(), 200, 'a count (what a metrics collection does) deletes nothing');
    const pass = new FlowExpiry(put.program, () => ({ enabled: true, idleNs })).runOnce();
    assert.deepEqual(pass, { expired: 150, kept: 50 });
    assert.equal(tableSize(), 50);
    const gauge = () => put.program.flowsInTable(put.program.readCounters()).map((a) => [a.vni, a.flows]);
    assert.deepEqual(gauge(), [[200, 50]], 'the gauge: what the pass kept');
    for (let i = 0; i < 200; i++) put.program.program.testRun(flowFrame(i, 200));
    assert.equal(vniFlows(200), 350, 'the 150 expired flows counted as new on return, the 50 kept ones not');
    assert.deepEqual(gauge(), [[200, tableSize()]], 'the gauge: the kept flows plus the new ones, as the table holds');
    assert.equal(put.program.readCounters().lost.flows, 0);
  });

  test('FlowExpiry runs on its own timer and stops', async (t) => {
    if (!requireRoot(t, 'the flow table')) return;
    flows().clear();
    for (let i = 0; i < 20; i++) put.program.program.testRun(flowFrame(i, 300));
    const passes: number[] = [];
    const expiry = new FlowExpiry(
      put.program,
      () => ({ enabled: true, idleNs: 200_000_000n }),
      (p) => passes.push(p.expired),
    );
    expiry.start();
    try {
      const until = Date.now() + 3000;
      while (tableSize() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(tableSize(), 0, 'idle flows expired by the timer alone');
      assert.equal(
        passes.reduce((a, b) => a + b, 0),
        20,
      );
    } finally {
      expiry.stop();
    }
    const count = passes.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(passes.length, count, 'no pass after stop()');
  });
});

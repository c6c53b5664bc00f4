// Flow table under churn, live: far more new flows than flowCapacity through `xdp-decap run`; idle ones expire on their timer.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAP_NAMES } from '../../src/decode/layout.ts';
import { latestValue, type OtlpExport } from '../../src/demo/otlp-json.ts';
import type { BpfMap } from '../../src/ffi/bpf-object.ts';
import { libbpf } from '../../src/ffi/libbpf.ts';
import { openMapById, programInfo } from '../../src/ffi/xdp.ts';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { inNs } from '../../src/testbed/testbed.ts';
import { type CliProcess, startCli } from '../lib/cli.ts';
import { IS_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { LiveBed } from '../lib/live-bed.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF, XDP, namespaces); runs in CI' : false;
const CAPACITY = 65536;
const IDLE_S = 2;
const FLOWS = 100_000; // about 1.5x the capacity, each flow one packet
const PPS = 8000;
const RETURNING = 1000;
const VNI = 4242;
const EXPORT_S = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes one VXLAN frame per inner flow `from`..`to`-1 (distinct source address and port) to `file`. */
function writeFlows(file: string, from: number, to: number, outer: { src: string; dst: string; dstMac: string }): void {
  const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
  for (let n = from; n < to; n++) {
    const inner = innerFrame({
      src: `172.20.${(n >> 8) & 0xff}.${n & 0xff}`,
      dst: '172.21.0.1',
      protocol: 'udp',
      sport: 1024 + (n >> 16),
      dport: 53,
      payloadSize: 18,
    });
    const f = vxlanFrame({ outerSrc: outer.src, outerDst: outer.dst, dstMac: outer.dstMac, vni: VNI, inner, sport: 40000 + (n % 20000) }).frame;
    w.write({ tsSec: 0, tsFrac: n, caplen: f.length, origLen: f.length, data: f });
  }
  w.close();
}

describe('flow table under sustained churn (live)', { skip: SKIP }, () => {
  let live: LiveBed;
  let plugin: CliProcess | undefined;
  let flowMap: BpfMap | undefined;

  before(async () => {
    if (IS_ROOT) live = await LiveBed.create('churn');
  });
  after(async () => {
    if (flowMap) libbpf().close(flowMap.fd);
    if (plugin && plugin.child.exitCode === null) {
      plugin.child.kill('SIGTERM');
      await plugin.exited;
    }
    live?.destroy();
  });

  test(`${FLOWS} new flows at ${PPS}/s into a table of ${CAPACITY}, idle ${IDLE_S} s: the table holds the active flows, returning flows are new`, async (t) => {
    if (!requireRoot(t, 'the live plugin') || !requireTool(t, 'tcpreplay')) return;
    const { bed } = live;
    const outer = { src: bed.srcIp, dst: bed.capIp, dstMac: bed.macOf(bed.cap, bed.capIf) };
    const churnFile = join(live.dir, 'churn.pcap');
    const returnFile = join(live.dir, 'return.pcap');
    writeFlows(churnFile, 0, FLOWS, outer);
    writeFlows(returnFile, 0, RETURNING, outer);
    const config = live.writeConfig('churn.json', {
      maps: { vniCapacity: 1024, flowCapacity: CAPACITY },
      flowIdleTimeoutSeconds: IDLE_S,
      // Exports far apart: expiry must not depend on them (it runs on its own timer).
      metrics: { exportIntervalSeconds: EXPORT_S },
    });
    plugin = startCli(['run', '--config', config], { ns: bed.cap });
    await plugin.waitFor(/interface cap0: attached in generic mode/);

    // The flow table of the attached program, read from here through its map id.
    const link = JSON.parse(inNs(bed.cap, 'ip', ['-j', '-d', 'link', 'show', bed.capIf])) as Array<{ xdp?: { prog?: { id: number } } }>;
    const progId = link[0]?.xdp?.prog?.id;
    assert.ok(progId, 'xdp program id on cap0');
    for (const id of programInfo(progId).mapIds) {
      const m = openMapById(id);
      if (m.name === MAP_NAMES.flows) flowMap = m;
      else libbpf().close(m.fd);
    }
    assert.ok(flowMap, 'flows map of the attached program');
    const tableSize = () => {
      let n = 0;
      flowMap!.forEachChunk((c) => {
        n += c.count;
      });
      return n;
    };

    const replay = (file: string, pps: number, loops = 1) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const p = spawn('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', `--pps=${pps}`, `--loop=${loops}`, '-i', bed.srcIf, file], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.once('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`tcpreplay exited ${code}: ${err}`))));
      });

    // Churn: sample the table size once the first idle timeout (plus one expiry interval) has passed.
    const sending = replay(churnFile, PPS);
    let done = false;
    void sending.finally(() => (done = true));
    const samples: number[] = [];
    const t0 = Date.now();
    while (!done) {
      await sleep(500);
      if (!done && Date.now() - t0 > (IDLE_S + 2) * 1000) samples.push(tableSize());
    }
    const seconds = await sending;
    const rate = FLOWS / seconds;
    assert.ok(samples.length >= 5, `enough samples during churn (${samples.length})`);
    // A flow stays until it has been idle IDLE_S and the next pass (every IDLE_S / 2) runs.
    const most = rate * IDLE_S * 1.5;
    assert.ok(
      Math.max(...samples) <= most * 1.2 + 500,
      `table holds about the active flows: samples ${samples.join(',')} at ${rate.toFixed(0)} flows/s, expected <= ${most.toFixed(0)}`,
    );
    assert.ok(Math.min(...samples) >= rate * IDLE_S * 0.6, `flows within the idle timeout are kept: samples ${samples.join(',')}`);
    assert.ok(Math.max(...samples) < CAPACITY / 2, 'never near the capacity, so the LRU never had to evict');

    // Every flow counted as new exactly once; nothing lost.
    const where = { 'decap.tunnel.id': VNI, 'decap.tunnel.type': 'vxlan' };
    await live.waitForExports((e) => latestValue(e, 'decap.tunnel.packet.count', where) === FLOWS, EXPORT_S * 3000);
    let e: OtlpExport[] = live.exports();
    assert.equal(latestValue(e, 'decap.tunnel.flow.count', where), FLOWS, 'each flow new once');

    // After the idle timeout the table empties and the active gauge says 0.
    const until = Date.now() + IDLE_S * 3000 + 3000;
    while (tableSize() > 0 && Date.now() < until) await sleep(200);
    assert.equal(tableSize(), 0, 'idle flows all expired');
    await live.waitForExports((x) => latestValue(x, 'decap.tunnel.flow.active', where) === 0, EXPORT_S * 3000);

    // Returning flows are new again; while they keep coming (every 0.5 s, well within the idle timeout) they
    // are not new a second time, and the active gauge counts exactly them.
    const loops = Math.ceil((EXPORT_S * 1.5) / 0.5);
    const returning = replay(returnFile, RETURNING * 2, loops);
    e = await live.waitForExports(
      (x) => latestValue(x, 'decap.tunnel.flow.count', where) === FLOWS + RETURNING && latestValue(x, 'decap.tunnel.flow.active', where) === RETURNING,
      EXPORT_S * 3000,
    );
    assert.ok(tableSize() <= RETURNING);
    await returning;
    e = await live.waitForExports((x) => latestValue(x, 'decap.tunnel.packet.count', where) === FLOWS + RETURNING * loops, EXPORT_S * 3000);
    assert.equal(latestValue(e, 'decap.tunnel.flow.count', where), FLOWS + RETURNING, 'flows that kept coming were not new again');
    assert.equal(latestValue(e, 'decap.map.update.lost', { 'decap.map.name': 'flows' }), 0, 'no flow insert lost');
  });
});

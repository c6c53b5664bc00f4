// Exact counts from several CPUs at once: two pinned senders plus RPS on the capture veth, then status and OTLP vs what was sent.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LAYOUT, MAP_NAMES } from '../../src/decode/layout.ts';
import { latestValue } from '../../src/demo/otlp-json.ts';
import { libbpf } from '../../src/ffi/libbpf.ts';
import { openMapById, programInfo } from '../../src/ffi/xdp.ts';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { inNs } from '../../src/testbed/testbed.ts';
import { type CliProcess, runCli, startCli } from '../lib/cli.ts';
import { IS_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { LiveBed } from '../lib/live-bed.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF, XDP, namespaces); runs in CI' : false;
const VNIS = [310, 320, 330, 340];
const FLOWS_PER_VNI = 40;
const LOOPS = 25;

type Sent = { packets: number; bytes: number; overhead: number; flows: Set<string> };

describe('counts stay exact when several CPUs decapsulate at once (live)', { skip: SKIP }, () => {
  let live: LiveBed;
  let plugin: CliProcess | undefined;
  before(async () => {
    if (IS_ROOT) live = await LiveBed.create('mcpu');
  });
  after(async () => {
    if (plugin && plugin.child.exitCode === null) {
      plugin.child.kill('SIGTERM');
      await plugin.exited;
    }
    live?.destroy();
  });

  test('status and the OTLP export equal what two senders on two CPUs sent, RPS spreading the receive side', async (t) => {
    if (!requireRoot(t, 'the live plugin') || !requireTool(t, 'tcpreplay')) return;
    assert.ok(availableParallelism() >= 2, 'this test needs two CPUs');
    const { bed } = live;
    const dstMac = bed.macOf(bed.cap, bed.capIf);
    // Two captures: both carry every flow (so one flow and one VNI are counted on both CPUs), sizes differ.
    const sent = new Map<number, Sent>(VNIS.map((v) => [v, { packets: 0, bytes: 0, overhead: 0, flows: new Set() }]));
    const files = [0, 1].map((sender) => {
      const file = join(live.dir, `sender${sender}.pcap`);
      const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
      let n = 0;
      for (const vni of VNIS) {
        for (let f = 0; f < FLOWS_PER_VNI; f++) {
          const inner = innerFrame({
            src: '172.30.0.1',
            dst: `172.31.${vni % 256}.${f}`,
            protocol: 'udp',
            sport: 5000 + f,
            dport: 53,
            payloadSize: 20 + sender * 100 + f,
          });
          const tf = vxlanFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, dstMac, vni, inner, sport: 30000 + f * 7 + vni });
          w.write({ tsSec: 0, tsFrac: n++, caplen: tf.frame.length, origLen: tf.frame.length, data: tf.frame });
          const s = sent.get(vni)!;
          s.packets += LOOPS;
          s.bytes += LOOPS * tf.inner.length;
          s.overhead += LOOPS * tf.overhead;
          s.flows.add(`${f}`);
        }
      }
      w.close();
      return file;
    });

    // RPS: the receive side of cap0 runs on either CPU, by flow hash (generic XDP runs after RPS steering).
    inNs(bed.cap, 'sh', ['-c', `echo 3 > /sys/class/net/${bed.capIf}/queues/rx-0/rps_cpus`]);
    const config = live.writeConfig('mcpu.json', { flowIdleTimeoutSeconds: 300 });
    plugin = startCli(['run', '--config', config], { ns: bed.cap });
    await plugin.waitFor(/interface cap0: attached in generic mode/);

    await Promise.all(
      files.map(
        (file, cpu) =>
          new Promise<void>((resolve, reject) => {
            const p = spawn(
              'taskset',
              ['-c', String(cpu), 'ip', 'netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', `--loop=${LOOPS}`, '-i', bed.srcIf, file],
              { stdio: ['ignore', 'ignore', 'pipe'] },
            );
            let err = '';
            p.stderr.on('data', (d: Buffer) => (err += d.toString()));
            p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tcpreplay on CPU ${cpu}: ${err}`))));
          }),
      ),
    );

    // Both CPUs really counted: the per-CPU VNI cache or vni_stats has packets in more than one CPU slot.
    const link = JSON.parse(inNs(bed.cap, 'ip', ['-j', '-d', 'link', 'show', bed.capIf])) as Array<{ xdp?: { prog?: { id: number } } }>;
    const progId = link[0]!.xdp!.prog!.id;
    const cpusUsed = new Set<number>();
    for (const id of programInfo(progId).mapIds) {
      const map = openMapById(id);
      try {
        if (map.name !== MAP_NAMES.vniCache && map.name !== MAP_NAMES.vniStats) continue;
        const { stride, cpus } = map.perCpuLayout;
        const raw = map.readAll();
        const packetsAt = map.name === MAP_NAMES.vniCache ? LAYOUT.vni_cache_slot.counts + LAYOUT.vni_value.packets : LAYOUT.vni_value.packets;
        for (let i = 0; i < raw.count; i++)
          for (let cpu = 0; cpu < cpus; cpu++) if (raw.values.readBigUInt64LE(i * stride * cpus + cpu * stride + packetsAt) > 0n) cpusUsed.add(cpu);
      } finally {
        libbpf().close(map.fd);
      }
    }
    assert.ok(cpusUsed.size >= 2, `packets counted on ${cpusUsed.size} CPU(s); the test needs at least two`);

    const status = runCli(['status', '--interface', bed.capIf, '--json'], { ns: bed.cap });
    assert.equal(status.status, 0, status.stderr);
    const rows = (JSON.parse(status.stdout) as { vnis: Array<{ vni: number; packets: number; bytes: number; overheadBytes: number; flows: number }> }).vnis;
    for (const [vni, s] of sent) {
      const row = rows.find((r) => r.vni === vni);
      assert.deepEqual(row && [row.packets, row.bytes, row.overheadBytes, row.flows], [s.packets, s.bytes, s.overhead, s.flows.size], `status, VNI ${vni}`);
    }
    const where = (vni: number) => ({ 'decap.tunnel.id': vni, 'decap.tunnel.type': 'vxlan', 'network.interface.name': bed.capIf });
    const e = await live.waitForExports((x) => VNIS.every((v) => latestValue(x, 'decap.tunnel.packet.count', where(v)) === sent.get(v)!.packets), 15000);
    for (const [vni, s] of sent) {
      assert.equal(latestValue(e, 'decap.tunnel.io', where(vni)), s.bytes, `OTLP bytes, VNI ${vni}`);
      assert.equal(latestValue(e, 'decap.tunnel.overhead', where(vni)), s.overhead, `OTLP overhead, VNI ${vni}`);
      assert.equal(latestValue(e, 'decap.tunnel.flow.count', where(vni)), s.flows.size, `OTLP new flows, VNI ${vni}`);
      assert.equal(latestValue(e, 'decap.tunnel.flow.active', where(vni)), s.flows.size, `OTLP active flows, VNI ${vni}`);
    }
  });
});

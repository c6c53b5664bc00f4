// A live attach on this kernel: `xdp-decap run` in generic mode on a testbed veth; VXLAN, GRE and ERSPAN frames sent; the tap and status see them decapsulated.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { outermostFlow } from '../../src/demo/tap-flows.ts';
import { PcapReader, PcapWriter } from '../../src/replay/pcap.ts';
import { startCapture } from '../../src/testbed/capture.ts';
import { erspanFrame, greFrame, innerFrame, type OuterOptions, vxlanFrame } from '../../src/testbed/packets.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { type CliProcess, runCli, startCli } from '../lib/cli.ts';
import { IN_CI, IS_ROOT, requireRoot, requireTool } from '../lib/env.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (XDP, namespaces); runs in CI' : false;
/** Frames of each tunnel type; each carries its own inner conversation (192.168.T.1 -> 192.168.T.2, UDP). */
const EACH = 5;
const TUNNELS = [
  { key: 'vxlan/100', net: 1, frame: (o: OuterOptions, inner: Buffer) => vxlanFrame({ ...o, vni: 100, inner }) },
  { key: 'gre/77', net: 2, frame: (o: OuterOptions, inner: Buffer) => greFrame({ ...o, key: 77, inner }) },
  { key: 'erspan/300', net: 3, frame: (o: OuterOptions, inner: Buffer) => erspanFrame({ ...o, erspanType: 2, sessionId: 300, inner }) },
] as const;

describe('live attach on this kernel: generic XDP on a veth, real frames, a real tap', { skip: SKIP }, () => {
  let bed: Testbed | undefined;
  let dir: string;
  let run: CliProcess | undefined;

  before(() => {
    if (!IS_ROOT) return;
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-attach-'));
    bed = Testbed.create('attach');
  });

  after(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the tap sees only inner frames, status counts each tunnel, the log says which build and why, SIGTERM detaches', async (t) => {
    if (!requireRoot(t, 'the live attach') || !requireTool(t, 'tcpreplay') || !requireTool(t, 'tcpdump')) return;
    const outer: OuterOptions = {
      outerSrc: bed!.srcIp,
      outerDst: bed!.capIp,
      srcMac: bed!.macOf(bed!.src, bed!.srcIf),
      dstMac: bed!.macOf(bed!.cap, bed!.capIf),
    };
    const sent = join(dir, 'sent.pcap');
    const writer = PcapWriter.open(sent, { linkType: 1, precision: 'micro' });
    const innerLengths = new Map<string, number>();
    for (let i = 0; i < EACH; i++) {
      for (const tunnel of TUNNELS) {
        const inner = innerFrame({ src: `192.168.${tunnel.net}.1`, dst: `192.168.${tunnel.net}.2`, protocol: 'udp', sport: 40000 + i, dport: 53 });
        innerLengths.set(tunnel.key, inner.length);
        writer.write({ tsSec: 1_700_000_000, tsFrac: i, data: tunnel.frame(outer, inner).frame });
      }
    }
    writer.close();

    run = startCli(['run', '--interface', bed!.capIf, '--log-level', 'info'], { ns: bed!.cap, env: { OTEL_METRIC_EXPORT_INTERVAL: '600000' } });
    await run.waitFor(/attached in generic mode/, 120_000);
    assert.match(run.output(), /loaded \S+decap(-compat)?\.bpf\.o: this kernel (has|lacks) bpf_cast_to_kern_ctx/, 'the log says which build and why');

    const tapFile = join(dir, 'tap.pcap');
    const tap = await startCapture(bed!.cap, bed!.capIf, tapFile, ['-Q', 'in']);
    const replay = spawnSync('ip', ['netns', 'exec', bed!.src, 'tcpreplay', '-q', '-i', bed!.srcIf, sent], { encoding: 'utf8' });
    assert.equal(replay.status, 0, replay.stderr);
    await tap.stop();

    const seen = new Map<string, number>();
    const reader = PcapReader.open(tapFile);
    try {
      for (let rec = reader.next(); rec; rec = reader.next()) {
        const flow = outermostFlow(rec.data);
        const key = flow ? `${flow.protocol} ${flow.src.replace(/:\d+$/, '')} ${flow.dst.replace(/:\d+$/, '')}` : `other ${rec.data.length}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    } finally {
      reader.close();
    }
    const expected = new Map(TUNNELS.map((tn) => [`UDP 192.168.${tn.net}.1 192.168.${tn.net}.2`, EACH]));
    assert.deepEqual(seen, expected, 'the tap saw each inner conversation, and no tunnel frame');

    const status = runCli(['status', '--interface', bed!.capIf, '--json'], { ns: bed!.cap });
    assert.equal(status.status, 0, status.stderr);
    const sj = JSON.parse(status.stdout) as {
      interfaces: Array<{ mode: string; programName: string }>;
      vnis: Array<{ type: string; vni: number; packets: number; bytes: number }>;
    };
    assert.equal(sj.interfaces[0]!.mode, 'generic');
    assert.equal(sj.interfaces[0]!.programName, 'xdp_decap');
    const counted = Object.fromEntries(sj.vnis.map((v) => [`${v.type}/${v.vni}`, [v.packets, v.bytes]]));
    assert.deepEqual(
      counted,
      Object.fromEntries(TUNNELS.map((tn) => [tn.key, [EACH, EACH * innerLengths.get(tn.key)!]])),
      'status counts every frame under its tunnel',
    );

    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
    const link = spawnSync('ip', ['netns', 'exec', bed!.cap, 'ip', '-d', 'link', 'show', bed!.capIf], { encoding: 'utf8' });
    assert.doesNotMatch(link.stdout, /xdp/, 'detached');
  });
});

// `xdp-decap reconcile` live: softflowd taps after XDP into a real nfcapd, known traffic, a tap that misses one VNI, plain traffic that was never tunnelled.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ReconcileReport } from '../../src/reconcile/reconcile.ts';
import type { VxlanTunnel } from '../../src/testbed/testbed.ts';
import { type CliProcess, runCli, startCli } from '../lib/cli.ts';
import { IN_CI, IS_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { LiveBed } from '../lib/live-bed.ts';
import { fillerSender, Softflowd } from '../lib/softflowd.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (XDP, namespaces); runs in CI' : false;
const PINGS = 25;
const PLAIN_UDP = 3;

describe('xdp-decap reconcile against softflowd + nfcapd on a veth testbed', { skip: SKIP }, () => {
  let live: LiveBed;
  let tunnels: VxlanTunnel[];
  let run: CliProcess | undefined;
  let softflowd: Softflowd | undefined;
  let nfcapd: ChildProcess | undefined;
  let store: string;

  before(async () => {
    if (!IS_ROOT) return;
    live = await LiveBed.create('recon');
    tunnels = [live.bed.addVxlan(100), live.bed.addVxlan(200)];
    store = join(live.dir, 'nfcapd');
    mkdirSync(store);
  });

  after(async () => {
    softflowd?.stop();
    nfcapd?.kill('SIGKILL');
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    live?.destroy();
  });

  test('per-VNI totals agree where the tap saw everything; a VNI the tap missed and never-tunnelled flows are reported; exit 1', async (t) => {
    if (
      !requireRoot(t, 'reconcile live') ||
      !requireTool(t, 'softflowd') ||
      !requireTool(t, 'nfcapd') ||
      !requireTool(t, 'nfdump') ||
      !requireTool(t, 'tcpreplay')
    )
      return;
    const bed = live.bed;
    const [vni100, vni200] = tunnels as [VxlanTunnel, VxlanTunnel];
    run = startCli(['run', '--config', live.writeConfig('run.json', {})], { ns: bed.cap });
    await run.waitFor(/attached in generic mode/);

    nfcapd = spawn('ip', ['netns', 'exec', bed.cap, 'nfcapd', '-w', store, '-p', '9995', '-b', '127.0.0.1'], { stdio: 'ignore' });
    // The tap cannot see VNI 200's client: its pcap filter leaves that host out, as a lossy tap would.
    softflowd = await Softflowd.start({ ns: bed.cap, ifname: bed.capIf, collector: '127.0.0.1:9995', dir: live.dir, filter: `not host ${vni200.innerSrc}` });

    bed.ping(vni100, PINGS);
    bed.ping(vni200, PINGS);
    // Plain UDP to the capture host, never tunnelled: NetFlow sees it, xdp-decap passes it untouched.
    for (let i = 0; i < PLAIN_UDP; i++) spawnSync('ip', ['netns', 'exec', bed.src, 'bash', '-c', `echo probe > /dev/udp/${bed.capIp}/9999`]);
    await softflowd.exportAll(PINGS + PLAIN_UDP, fillerSender(bed, live.dir));
    // nfcapd writes its file out when it stops; reconcile reads the finished store.
    await new Promise((r) => setTimeout(r, 500)); // let the export datagrams land (loopback, same host)
    nfcapd.kill('SIGTERM');
    await new Promise<void>((resolve) => (nfcapd!.exitCode !== null ? resolve() : nfcapd!.once('exit', () => resolve())));

    const r = runCli(['reconcile', '--nfdump', store, '--json'], { ns: bed.cap });
    assert.equal(r.status, 1, `differences found -> exit 1: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as ReconcileReport;
    const row = (vni: number) => report.vnis.find((v) => v.vni === vni);
    assert.deepEqual(
      [row(100)?.decapPackets, row(100)?.netflowPackets, row(100)?.packetDiff, row(100)?.byteDiff, row(100)?.outsideTolerance],
      [PINGS, PINGS, 0, 0, false],
      `VNI 100 agrees: ${JSON.stringify(row(100))}`,
    );
    assert.deepEqual(
      [row(200)?.decapPackets, row(200)?.netflowPackets, row(200)?.outsideTolerance],
      [PINGS, 0, true],
      `VNI 200 was missed: ${JSON.stringify(row(200))}`,
    );
    assert.ok(
      report.decapOnly.some((f) => f.vni === 200 && f.srcAddr === vni200.innerSrc && f.packets === PINGS),
      'the missed flow is listed',
    );
    // One flow per probe (each from a new source port).
    const plain = report.netflowOnly.filter((f) => f.protocol === 17 && f.srcAddr === bed.srcIp && f.dstAddr === bed.capIp && f.dstPort === 9999);
    assert.equal(
      plain.reduce((a, f) => a + f.packets, 0),
      PLAIN_UDP,
      `the never-tunnelled flows are listed: ${JSON.stringify(report.netflowOnly)}`,
    );

    const table = runCli(['reconcile', '--nfdump', store], { ns: bed.cap });
    assert.equal(table.status, 1);
    assert.match(table.stdout, /decap L3 bytes/);
    assert.match(table.stdout, /decapsulated flows NetFlow never reported/);
    console.log(
      table.stdout
        .split('\n')
        .map((l) => `# ${l}`)
        .join('\n'),
    );

    const none = runCli(['reconcile', '--nfdump', store, '--interface', 'lo'], { ns: bed.cap });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no xdp-decap program is attached on lo; start it with xdp-decap run/);
  });
});

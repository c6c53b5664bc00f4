// The live plugin end to end: `xdp-decap run` in a capture namespace, real VXLAN tunnels, a real tap, a real OTLP receiver.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { latestValue, type OtlpExport } from '../../src/demo/otlp-json.ts';
import { outermostFlow } from '../../src/demo/tap-flows.ts';
import { PcapReader, PcapWriter } from '../../src/replay/pcap.ts';
import { startCapture } from '../../src/testbed/capture.ts';
import { geneveFrame, innerFrame } from '../../src/testbed/packets.ts';
import { inNs, type VxlanTunnel } from '../../src/testbed/testbed.ts';
import { type CliProcess, runCli, startCli } from '../lib/cli.ts';
import { IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { LiveBed } from '../lib/live-bed.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF, XDP, namespaces); runs in CI' : false;
const EXCLUDED_SRC = '10.200.0.3';

/** Outermost flows of every frame the tap wrote. */
function tapFrames(file: string): Array<{ protocol: string; src: string; dst: string }> {
  const r = PcapReader.open(file);
  const out = [];
  try {
    for (let rec = r.next(); rec; rec = r.next()) {
      const f = outermostFlow(rec.data);
      if (f) out.push(f);
    }
  } finally {
    r.close();
  }
  return out;
}

const isTunnel = (f: { protocol: string; dst: string }) => f.protocol === 'UDP' && /:(4789|6081)$/.test(f.dst);

function xdpOn(ns: string, ifname: string): string {
  return inNs(ns, 'ip', ['-d', 'link', 'show', ifname]);
}

async function stop(p: CliProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!p || p.child.exitCode !== null) return p?.child.exitCode ?? null;
  p.child.kill(signal);
  return p.exited;
}

describe('xdp-decap run, live on a veth testbed', { skip: SKIP }, () => {
  let live: LiveBed;
  let tunnels: VxlanTunnel[];
  let excludedTunnel: VxlanTunnel;

  before(async () => {
    if (!IS_ROOT) return;
    live = await LiveBed.create('live');
    tunnels = [live.bed.addVxlan(100), live.bed.addVxlan(200), live.bed.addVxlan(300)];
    excludedTunnel = live.bed.addVxlan(900, 4789, EXCLUDED_SRC);
  });
  after(() => live?.destroy());

  test('taps see inner headers; OTLP per-VNI counts equal what was sent; skips counted (excluded, non-tunnel, Geneve too)', async (t) => {
    if (!requireRoot(t, 'the live plugin') || !requireTool(t, 'tcpreplay')) return;
    const { bed } = live;
    const config = live.writeConfig('live.json', { excludePrefixes: [`${EXCLUDED_SRC}/32`], flowIdleTimeoutSeconds: 120 });
    const plugin = startCli(['run', '--config', config], { ns: bed.cap });
    try {
      await plugin.waitFor(/interface cap0: attached in generic mode/);
      assert.match(xdpOn(bed.cap, bed.capIf), /xdpgeneric/);
      const before = tunnels.map((tn) => bed.txCounters(tn.device));
      const tapFile = join(live.dir, 'tap.pcap');
      const tap = await startCapture(bed.cap, bed.capIf, tapFile, ['-Q', 'in']);
      bed.ping(tunnels[0]!, 30, 56);
      bed.ping(tunnels[1]!, 20, 500);
      bed.ping(tunnels[2]!, 10, 1000);
      bed.ping(excludedTunnel, 6);
      spawnSync('ip', ['netns', 'exec', bed.src, 'ping', '-q', '-c', '8', '-i', '0.01', '-W', '0.1', bed.capIp]);
      // Geneve: crafted frames replayed into the source side of the veth (this kernel has no Geneve device).
      const geneveFile = join(live.dir, 'geneve.pcap');
      const w = PcapWriter.open(geneveFile, { linkType: 1, precision: 'micro' });
      const inner = innerFrame({ src: '172.16.9.1', dst: '172.16.9.2', protocol: 'udp', payloadSize: 100 });
      const gf = geneveFrame({
        outerSrc: bed.srcIp,
        outerDst: bed.capIp,
        dstMac: bed.macOf(bed.cap, bed.capIf),
        vni: 7000,
        inner,
        options: Buffer.alloc(8, 1),
      });
      for (let i = 0; i < 9; i++) w.write({ tsSec: i, tsFrac: 0, caplen: gf.frame.length, origLen: gf.frame.length, data: gf.frame });
      w.close();
      const replay = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', '-i', bed.srcIf, geneveFile], { encoding: 'utf8' });
      assert.equal(replay.status, 0, replay.stderr);
      await tap.stop();
      const sent = tunnels.map((tn, i) => {
        const a = bed.txCounters(tn.device);
        const packets = a.packets - before[i]!.packets;
        // A VXLAN device counts IP bytes; the inner frame the taps see adds its 14-byte Ethernet header.
        return { vni: tn.vni, packets, bytes: a.bytes - before[i]!.bytes + 14 * packets };
      });
      assert.deepEqual(
        sent.map((s) => s.packets),
        [30, 20, 10],
      );

      // The tap after XDP: inner conversations, and tunnel frames only from the excluded VTEP.
      const frames = tapFrames(tapFile);
      const tunnelFrames = frames.filter(isTunnel);
      assert.ok(
        tunnelFrames.length === 6 && tunnelFrames.every((f) => f.src.startsWith(`${EXCLUDED_SRC}:`)),
        `only the excluded tunnel stays encapsulated: ${JSON.stringify(tunnelFrames.slice(0, 3))}`,
      );
      for (const tn of tunnels) {
        assert.ok(
          frames.some((f) => f.protocol === 'ICMP' && f.src === tn.innerSrc && f.dst === tn.innerDst),
          `tap sees inner ICMP of VNI ${tn.vni}`,
        );
      }
      assert.equal(frames.filter((f) => f.src.startsWith('172.16.9.1')).length, 9, 'tap sees the Geneve inner frames');

      const expectDone = (e: OtlpExport[]) =>
        sent.every((s) => latestValue(e, 'decap.tunnel.packet.count', { 'decap.tunnel.id': s.vni, 'decap.tunnel.type': 'vxlan' }) === s.packets) &&
        latestValue(e, 'decap.tunnel.packet.count', { 'decap.tunnel.id': 7000, 'decap.tunnel.type': 'geneve' }) === 9;
      const exports = await live.waitForExports(expectDone);
      for (const s of sent) {
        const where = { 'decap.tunnel.id': s.vni, 'decap.tunnel.type': 'vxlan', 'network.interface.name': 'cap0' };
        assert.equal(latestValue(exports, 'decap.tunnel.io', where), s.bytes, `inner bytes of VNI ${s.vni}`);
        assert.equal(latestValue(exports, 'decap.tunnel.overhead', where), 50 * s.packets);
        assert.equal(latestValue(exports, 'decap.tunnel.flow.count', where), 1);
        assert.equal(latestValue(exports, 'decap.tunnel.flow.active', where), 1);
      }
      assert.equal(latestValue(exports, 'decap.tunnel.io', { 'decap.tunnel.id': 7000 }), 9 * inner.length);
      assert.equal(latestValue(exports, 'decap.tunnel.overhead', { 'decap.tunnel.id': 7000 }), 9 * (50 + 8));
      assert.equal(latestValue(exports, 'decap.skipped.packet.count', { 'decap.skip.reason': 'excluded', 'network.interface.name': 'cap0' }), 6);
      assert.equal(latestValue(exports, 'decap.skipped.packet.count', { 'decap.skip.reason': 'not_tunnel' }), 8);
      assert.equal(latestValue(exports, 'decap.tunnel.packet.count', { 'decap.tunnel.id': 900 }), undefined, 'the excluded tunnel has no VNI series');
      const last = exports.at(-1)!;
      assert.equal(last.resource['service.name'], 'xdp-decap');
      assert.ok(last.resource['host.name']);
      assert.ok(last.points.filter((p) => p.metric === 'decap.tunnel.packet.count').every((p) => p.kind === 'sum' && p.monotonic && p.unit === '{packet}'));
      assert.ok(last.points.some((p) => p.metric === 'decap.map.update.lost' && p.attributes['decap.map.name'] === 'vni_stats' && p.value === 0));

      // status reads the kernel: same counters, as a table and as JSON.
      const status = runCli(['status', '--interface', bed.capIf, '--json'], { ns: bed.cap });
      assert.equal(status.status, 0, status.stderr);
      const sj = JSON.parse(status.stdout);
      assert.equal(sj.interfaces[0].programName, 'xdp_decap');
      assert.equal(sj.interfaces[0].mode, 'generic');
      assert.equal(sj.vnis.find((v: { vni: number }) => v.vni === 100).packets, 30);
      assert.equal(sj.skipped.find((s: { reason: string }) => s.reason === 'excluded').packets, 6);
      const table = runCli(['status'], { ns: bed.cap });
      assert.match(table.stdout, /cap0 +\d+ +generic +\d+ +xdp_decap +yes/);
      assert.match(table.stdout, /cap0 +vxlan +200 +20 /);

      // SIGHUP: a changed config applies without detaching (same link), the excluded tunnel decapsulates now.
      const linkBefore = sj.interfaces[0].programId;
      writeFileSync(
        config,
        JSON.stringify({ interfaces: [{ name: 'cap0' }], metrics: { endpoint: live.endpoint, encoding: 'json', exportIntervalSeconds: 1 } }),
      );
      plugin.child.kill('SIGHUP');
      await plugin.waitFor(/config reloaded/);
      bed.ping(excludedTunnel, 4);
      await live.waitForExports((e) => latestValue(e, 'decap.tunnel.packet.count', { 'decap.tunnel.id': 900 }) === 4);
      const after = JSON.parse(runCli(['status', '--json'], { ns: bed.cap }).stdout);
      assert.equal(after.interfaces.find((i: { name: string }) => i.name === 'cap0').programId, linkBefore, 'still the same program: nothing was detached');

      // A change that cannot apply live is refused, and the running config stays.
      writeFileSync(
        config,
        JSON.stringify({
          interfaces: [{ name: 'cap0' }],
          maps: { vniCapacity: 10 },
          metrics: { endpoint: live.endpoint, encoding: 'json', exportIntervalSeconds: 1 },
        }),
      );
      plugin.child.kill('SIGHUP');
      await plugin.waitFor(/maps\.vniCapacity cannot change while running/);
      writeFileSync(config, '{ not json');
      plugin.child.kill('SIGHUP');
      await plugin.waitFor(/config not applied, keeping the running one: .*not valid JSON/);
      assert.match(xdpOn(bed.cap, bed.capIf), /xdpgeneric/);

      // SIGTERM: detach, last export, exit 0.
      const code = await stop(plugin);
      assert.equal(code, 0, plugin.output());
      assert.doesNotMatch(xdpOn(bed.cap, bed.capIf), /xdp/);
    } finally {
      await stop(plugin, 'SIGKILL');
    }
  });

  test('SIGTERM sends a last export with the final counts (export interval far away)', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    const startCount = live.exports().length;
    const config = live.writeConfig('slow.json', { metrics: { exportIntervalSeconds: 3600 } });
    const plugin = startCli(['run', '--config', config], { ns: bed.cap });
    try {
      await plugin.waitFor(/attached in generic mode/);
      bed.ping(tunnels[0]!, 5);
      assert.equal(await stop(plugin), 0, plugin.output());
      const fresh = live.exports().slice(startCount);
      assert.equal(fresh.length, 1, 'exactly the shutdown export');
      assert.equal(latestValue(fresh, 'decap.tunnel.packet.count', { 'decap.tunnel.id': 100 }), 5);
    } finally {
      await stop(plugin, 'SIGKILL');
    }
  });

  test('kill -9: the kernel detaches the program (bpf_link) and the tap sees encapsulated frames again', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    // A collector that is down, reached with credentials that must never reach the log.
    const env = {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://user:hunter2@127.0.0.1:9/v1/metrics?api_key=hunter2',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20hunter2',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    };
    const plugin = startCli(['run', '--interface', bed.capIf], { ns: bed.cap, env });
    try {
      await plugin.waitFor(/attached in generic mode/);
      await plugin.waitFor(/exporting OTLP metrics to http:\/\/\*\*\*@127\.0\.0\.1:9\/v1\/metrics\?api_key=\*\*\* every 1s/);
      await plugin.waitFor(/metrics export: .*ECONNREFUSED/);
      const tapFile = join(live.dir, 'kill9.pcap');
      let tap = await startCapture(bed.cap, bed.capIf, tapFile, ['-Q', 'in']);
      bed.ping(tunnels[1]!, 5);
      await tap.stop();
      assert.equal(
        tapFrames(tapFile).filter(isTunnel).length,
        0,
        `attached: no tunnel frames reach the tap; status: ${runCli(['status'], { ns: bed.cap }).stdout}\n${plugin.output()}`,
      );
      // Collector down all along: traffic was decapsulated regardless.
      assert.doesNotMatch(plugin.output(), /hunter2/, 'no secret in the log (endpoint credentials, query, headers)');
      plugin.child.kill('SIGKILL');
      await plugin.exited;
      assert.doesNotMatch(xdpOn(bed.cap, bed.capIf), /xdp/, 'nothing left attached');
      tap = await startCapture(bed.cap, bed.capIf, tapFile, ['-Q', 'in']);
      bed.ping(tunnels[1]!, 5);
      await tap.stop();
      assert.equal(tapFrames(tapFile).filter(isTunnel).length, 5, 'the tap sees the tunnel again');
    } finally {
      await stop(plugin, 'SIGKILL');
    }
  });

  test('refuses an interface that has another XDP program, names it; replace: true takes over', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'obj', join(REPO_ROOT, 'build', 'pass.bpf.o'), 'sec', 'xdp.frags']);
    try {
      const plugin = startCli(['run', '--config', live.writeConfig('refuse.json', {})], { ns: bed.cap });
      try {
        await plugin.waitFor(/interface cap0: another XDP program is attached: id \d+ "xdp_pass" \(generic mode\); not taking over/);
        assert.match(xdpOn(bed.cap, bed.capIf), /name xdp_pass/, 'the other program is untouched');
        const detach = runCli(['detach', '--interface', bed.capIf], { ns: bed.cap });
        assert.equal(detach.status, 2);
        assert.match(detach.stderr, /has XDP program id \d+ "xdp_pass", not xdp-decap's/);
        // The operator removes the other program and reloads: xdp-decap looks again and attaches.
        inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'off']);
        plugin.child.kill('SIGHUP');
        await plugin.waitFor(/config reloaded[\s\S]*interface cap0: attached in generic mode|interface cap0: attached in generic mode[\s\S]*config reloaded/);
        assert.match(xdpOn(bed.cap, bed.capIf), /name xdp_decap/);
      } finally {
        await stop(plugin);
      }
      inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'obj', join(REPO_ROOT, 'build', 'pass.bpf.o'), 'sec', 'xdp.frags']);
      const replacing = startCli(['run', '--config', live.writeConfig('replace.json', { interfaces: [{ name: bed.capIf, replace: true }] })], { ns: bed.cap });
      try {
        await replacing.waitFor(/replacing id \d+ "xdp_pass" \(generic mode\) as configured[\s\S]*attached in generic mode/);
        assert.match(xdpOn(bed.cap, bed.capIf), /name xdp_decap/);
      } finally {
        assert.equal(await stop(replacing), 0);
      }
      assert.doesNotMatch(xdpOn(bed.cap, bed.capIf), /xdp/);
    } finally {
      spawnSync('ip', ['netns', 'exec', bed.cap, 'ip', 'link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'off']);
    }
  });

  test('detach removes an xdp-decap program left attached by a pinned link', (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    const madeDir = !existsSync('/sys/fs/bpf/xdp-decap');
    mkdirSync('/sys/fs/bpf/xdp-decap', { recursive: true });
    const pin = `/sys/fs/bpf/xdp-decap/link-${bed.capIf}-${process.pid}`;
    try {
      // nsenter, not `ip netns exec`: the latter remounts /sys, hiding the bpffs where pins live.
      const nsenter = ['nsenter', `--net=/var/run/netns/${bed.cap}`];
      const r = spawnSync(nsenter[0]!, [...nsenter.slice(1), process.execPath, join(REPO_ROOT, 'test', 'lib', 'pin-decap-link.ts'), bed.capIf, pin], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(xdpOn(bed.cap, bed.capIf), /name xdp_decap/, 'left attached after its process exited');
      const detach = runCli(['detach', '--interface', bed.capIf], { nsenter: bed.cap });
      assert.equal(detach.status, 0, detach.stderr);
      assert.match(detach.stdout, /interface cap0: detached xdp-decap program \d+ \(link \d+\), removed pins/);
      assert.doesNotMatch(xdpOn(bed.cap, bed.capIf), /xdp/);
      assert.ok(!existsSync(pin));
      const again = runCli(['detach', '--interface', bed.capIf], { ns: bed.cap });
      assert.match(again.stdout, /no XDP program attached; nothing to do/);
    } finally {
      rmSync(pin, { force: true });
      if (madeDir) rmSync('/sys/fs/bpf/xdp-decap', { recursive: true, force: true });
    }
  });

  test('an interface that disappears and comes back is re-attached; a missing one is waited for; others keep working', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    const config = live.writeConfig('flap.json', { interfaces: [{ name: bed.capIf }, { name: 'later0' }] });
    const plugin = startCli(['run', '--config', config], { ns: bed.cap });
    try {
      await plugin.waitFor(/interface later0: does not exist; will attach when it appears/);
      await plugin.waitFor(/interface cap0: attached in generic mode/);
      inNs(bed.cap, 'ip', ['link', 'add', 'later0', 'type', 'veth', 'peer', 'name', 'later1']);
      await plugin.waitFor(/interface later0: attached in generic mode/);
      bed.deleteLink();
      await plugin.waitFor(/interface cap0: gone/);
      assert.equal(plugin.child.exitCode, null, 'still running');
      bed.recreateLink();
      const tn = bed.addVxlan(100);
      await plugin.waitFor(/interface cap0: attached in generic mode[\s\S]*interface cap0: attached in generic mode/);
      bed.ping(tn, 3);
      await live.waitForExports((e) => (latestValue(e, 'decap.tunnel.packet.count', { 'decap.tunnel.id': 100 }) ?? 0) >= 3);
      assert.equal(await stop(plugin), 0);
    } finally {
      await stop(plugin, 'SIGKILL');
      spawnSync('ip', ['netns', 'exec', bed.cap, 'ip', 'link', 'del', 'later0']);
    }
  });
});

/** The series of `metric` in one export, keyed by (interface name, tunnel type, VNI): more than one point per key is a duplicate. */
function seriesOf(e: OtlpExport, metric: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of e.points.filter((pt) => pt.metric === metric)) {
    const key = `${p.attributes['network.interface.name']}/${p.attributes['decap.tunnel.type']}/${p.attributes['decap.tunnel.id'] ?? 'overflow'}`;
    out.set(key, [...(out.get(key) ?? []), p.value]);
  }
  return out;
}

/** startTimeUnixNano of every decap.tunnel.packet.count point in the sink's file, one list per export. */
function packetStartTimes(sinkFile: string): bigint[][] {
  type Body = {
    resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<{ name: string; sum?: { dataPoints?: Array<{ startTimeUnixNano: string }> } }> }> }>;
  };
  return readFileSync(sinkFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const body = (JSON.parse(line) as { body: Body }).body;
      return (body.resourceMetrics ?? []).flatMap((r) =>
        (r.scopeMetrics ?? []).flatMap((sm) =>
          (sm.metrics ?? [])
            .filter((m) => m.name === 'decap.tunnel.packet.count')
            .flatMap((m) => (m.sum?.dataPoints ?? []).map((p) => BigInt(p.startTimeUnixNano))),
        ),
      );
    });
}

/** Attribute values naming an interface by number: series whose identity depended on attach state. */
function ifindexNames(e: OtlpExport): string[] {
  return e.points.map((p) => String(p.attributes['network.interface.name'] ?? '')).filter((n) => /^ifindex-/.test(n));
}

describe('series identity: one series per (interface name, type, VNI), whatever happens to the attachment', { skip: SKIP }, () => {
  let live: LiveBed;
  let vx100: VxlanTunnel;
  let vx200: VxlanTunnel;
  before(async () => {
    if (!IS_ROOT) return;
    live = await LiveBed.create('series');
    vx100 = live.bed.addVxlan(100);
    vx200 = live.bed.addVxlan(200);
  });
  after(() => live?.destroy());

  test('after SIGTERM the last export has exactly one series per VNI, equal to what was sent', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    const startCount = live.exports().length;
    const plugin = startCli(['run', '--config', live.writeConfig('sigterm.json', {})], { ns: bed.cap });
    try {
      await plugin.waitFor(/interface cap0: attached in generic mode/);
      bed.ping(vx100, 10);
      bed.ping(vx200, 4);
      await live.waitForExports((e) => latestValue(e.slice(startCount), 'decap.tunnel.packet.count', { 'decap.tunnel.id': 200 }) === 4);
      assert.equal(await stop(plugin), 0, plugin.output());
      const last = live.exports().at(-1)!;
      assert.deepEqual(ifindexNames(last), [], 'no series named by ifindex');
      for (const metric of ['decap.tunnel.packet.count', 'decap.tunnel.io', 'decap.tunnel.flow.count']) {
        const series = seriesOf(last, metric);
        assert.deepEqual([...series.keys()].sort(), ['cap0/vxlan/100', 'cap0/vxlan/200'], `${metric}: one series per VNI`);
        for (const values of series.values()) assert.equal(values.length, 1, `${metric}: one point per series`);
      }
      assert.deepEqual(seriesOf(last, 'decap.tunnel.packet.count').get('cap0/vxlan/100'), [10]);
      assert.deepEqual(seriesOf(last, 'decap.tunnel.packet.count').get('cap0/vxlan/200'), [4]);
    } finally {
      await stop(plugin, 'SIGKILL');
    }
  });

  test('a deleted and re-created interface continues its series: one series, the sum of both lives', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    const startCount = live.exports().length;
    const plugin = startCli(['run', '--config', live.writeConfig('recreate.json', {})], { ns: bed.cap });
    try {
      await plugin.waitFor(/interface cap0: attached in generic mode/);
      bed.ping(vx100, 10);
      await live.waitForExports((e) => latestValue(e.slice(startCount), 'decap.tunnel.packet.count', { 'decap.tunnel.id': 100 }) === 10);
      bed.deleteLink();
      await plugin.waitFor(/interface cap0: gone/);
      bed.recreateLink();
      const again = bed.addVxlan(100);
      await plugin.waitFor(/interface cap0: attached in generic mode[\s\S]*interface cap0: attached in generic mode/);
      bed.ping(again, 5);
      const exports = await live.waitForExports((e) => latestValue(e.slice(startCount), 'decap.tunnel.packet.count', { 'decap.tunnel.id': 100 }) === 15);
      // Every export of this run: a cumulative series never goes down, and never has a twin.
      let previous = 0;
      for (const e of exports.slice(startCount)) {
        assert.deepEqual(ifindexNames(e), [], 'no series named by ifindex');
        const values = seriesOf(e, 'decap.tunnel.packet.count').get('cap0/vxlan/100') ?? [];
        assert.ok(values.length <= 1, `one series for VNI 100, got ${JSON.stringify(values)}`);
        if (values[0] !== undefined) {
          assert.ok(values[0] >= previous, `cumulative never decreases: ${previous} then ${values[0]}`);
          previous = values[0];
        }
      }
      assert.equal(await stop(plugin), 0, plugin.output());
      const last = live.exports().at(-1)!;
      assert.deepEqual(ifindexNames(last), []);
      assert.deepEqual(seriesOf(last, 'decap.tunnel.packet.count').get('cap0/vxlan/100'), [15]);
      assert.deepEqual([...seriesOf(last, 'decap.tunnel.io').keys()], ['cap0/vxlan/100']);
      // This run counted from 0 although the previous run in this namespace counted VNI 100 too: its series
      // carry a later start time (how a cumulative sum signals a reset), and one start time throughout the re-creation.
      const starts = packetStartTimes(live.sinkFile);
      const earlier = starts.slice(0, startCount).flat();
      const mine = new Set(starts.slice(startCount).flat());
      assert.equal(mine.size, 1, 'one start time for the whole run, across the re-creation');
      assert.ok(earlier.length > 0 && earlier.every((t0) => t0 < [...mine][0]!), 'later than any start time of the previous run');
    } finally {
      await stop(plugin, 'SIGKILL');
    }
  });

  test("--log-level debug: libbpf's own diagnostics are in the log at debug level; absent at info", async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    for (const level of ['debug', 'info']) {
      const plugin = startCli(['run', '--config', live.writeConfig(`log-${level}.json`, {}), '--log-level', level], { ns: bed.cap });
      try {
        await plugin.waitFor(/interface cap0: attached in generic mode/);
        assert.equal(await stop(plugin), 0, plugin.output());
        if (level === 'debug') assert.match(plugin.output(), /^xdp-decap debug: libbpf (warn|info|debug): .*\S/m, plugin.output());
        else assert.doesNotMatch(plugin.output(), /libbpf/);
      } finally {
        await stop(plugin, 'SIGKILL');
      }
    }
  });

  test('a second run on an interface another xdp-decap holds: refused at start, exit 2, naming the pid and link; nothing left attached', async (t) => {
    if (!requireRoot(t, 'the live plugin')) return;
    const { bed } = live;
    inNs(bed.cap, 'ip', ['link', 'add', 'other0', 'type', 'veth', 'peer', 'name', 'other1']);
    const first = startCli(['run', '--config', live.writeConfig('first.json', {})], { ns: bed.cap });
    try {
      await first.waitFor(/interface cap0: attached in generic mode, ifindex \d+, link id (\d+)/);
      const linkId = /link id (\d+)/.exec(first.output())![1];
      const before = xdpOn(bed.cap, bed.capIf);
      // other0 comes first in the second config: it gets attached, then must be undone when cap0 is refused.
      const second = runCli(['run', '--config', live.writeConfig('second.json', { interfaces: [{ name: 'other0' }, { name: bed.capIf, replace: true }] })], {
        ns: bed.cap,
        timeoutMs: 30000,
      });
      assert.equal(second.status, 2, `${second.stdout}${second.stderr}`);
      const lines = second.stderr.trim().split('\n');
      assert.match(
        lines.at(-1)!,
        new RegExp(
          `^xdp-decap run: interface cap0: already held by another xdp-decap: pid ${first.child.pid} \\(xdp-decap run --config [^)]*first\\.json\\), link id ${linkId}, program id \\d+; stop that one first`,
        ),
      );
      assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(second.stderr, /exporting OTLP metrics/, 'the second never exported');
      assert.doesNotMatch(xdpOn(bed.cap, 'other0'), /xdp/, 'nothing left half-attached');
      assert.equal(xdpOn(bed.cap, bed.capIf), before, 'the first keeps its attachment');
      assert.equal(first.child.exitCode, null, 'the first keeps running');
      assert.equal(await stop(first), 0, first.output());
    } finally {
      await stop(first, 'SIGKILL');
      spawnSync('ip', ['netns', 'exec', bed.cap, 'ip', 'link', 'del', 'other0']);
    }
  });
});

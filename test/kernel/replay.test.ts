// `xdp-decap replay` end to end: a capture written by tcpdump of real VXLAN traffic, checked against tshark's decoding.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapReader, PcapWriter } from '../../src/replay/pcap.ts';
import { startCapture } from '../../src/testbed/capture.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { runCli } from '../lib/cli.ts';
import { IS_ROOT, requireRoot, requireTool } from '../lib/env.ts';

const SKIP = !IS_ROOT && !process.env['CI'] ? 'needs root (BPF, namespaces); runs in CI' : false;

function readAll(file: string) {
  const r = PcapReader.open(file);
  const out = [];
  try {
    for (let rec = r.next(); rec; rec = r.next()) out.push(rec);
  } finally {
    r.close();
  }
  return out;
}

/** tshark's own decoding: one row per frame, tab-separated fields. */
function tshark(file: string, fields: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
}

describe('xdp-decap replay on a real tcpdump capture', { skip: SKIP }, () => {
  let dir: string;
  let capture: string;
  let bed: Testbed | undefined;

  before(async () => {
    if (!IS_ROOT) return;
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-replay-'));
    capture = join(dir, 'mirror.pcap');
    bed = Testbed.create('replay');
    const a = bed.addVxlan(100);
    const b = bed.addVxlan(200);
    const tap = await startCapture(bed.src, bed.srcIf, capture);
    bed.ping(a, 12, 56);
    bed.ping(b, 7, 1200);
    spawnSync('ip', ['netns', 'exec', bed.src, 'ping', '-q', '-c', '5', '-i', '0.01', '-W', '0.1', bed.capIp]);
    await tap.stop();
  });
  after(() => {
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('summary (--json) matches tshark; OUT has one frame per input frame, decapsulated or untouched, timestamps kept', (t) => {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'tshark')) return;
    const out = join(dir, 'out.pcap');
    const r = runCli(['replay', capture, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);

    // tshark also decodes the VXLAN header quoted inside ICMP errors (port unreachable from the capture host):
    // those frames are ICMP, not tunnel traffic, and must pass untouched.
    const rows = tshark(capture, ['frame.len', 'vxlan.vni', 'ip.proto']).map(([len, vni, outerProto]) => [len, outerProto === '17' ? vni : ''] as [string, string]);
    const vxlanRows = rows.filter(([, vni]) => vni);
    assert.ok(vxlanRows.length >= 19, 'all 19 pings crossed the tunnels');
    assert.equal(summary.frames, rows.length);
    assert.equal(summary.decapsulated, vxlanRows.length);
    assert.deepEqual(Object.keys(summary).sort(), ['decapsulated', 'frames', 'skipped', 'vnis']);
    assert.equal(summary.skipped.not_tunnel, rows.length - vxlanRows.length, 'plain pings and replies pass as not_tunnel');
    for (const vni of [100, 200]) {
      const mine = vxlanRows.filter(([, v]) => Number(v) === vni);
      const row = summary.vnis.find((x: { vni: number }) => x.vni === vni);
      assert.deepEqual(row, {
        vni, type: 'vxlan', packets: mine.length,
        bytes: mine.reduce((s, [len]) => s + Number(len) - 50, 0),
        overheadBytes: 50 * mine.length,
        flows: 1,
      });
    }

    const input = readAll(capture);
    const output = readAll(out);
    assert.equal(output.length, input.length, 'one output frame per input frame');
    input.forEach((inRec, i) => {
      const outRec = output[i]!;
      assert.equal(outRec.tsSec, inRec.tsSec);
      assert.equal(outRec.tsFrac, inRec.tsFrac);
      if (rows[i]![1]) assert.ok(outRec.data.equals(inRec.data.subarray(50)), `frame ${i + 1}: the inner frame`);
      else assert.ok(outRec.data.equals(inRec.data), `frame ${i + 1}: untouched`);
    });
    // tshark reads OUT as ordinary traffic: the inner ICMP between the tunnel's inner addresses, no VXLAN left.
    const decoded = tshark(out, ['ip.src', 'ip.dst', 'udp.dstport']).filter((_, i) => rows[i]![1]);
    assert.ok(decoded.every(([src, , dport]) => src?.startsWith('192.168.') && !dport), 'decapsulated frames decode as inner ICMP');
  });

  test('text summary names totals, skip reasons and VNIs', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const r = runCli(['replay', capture, '--out', join(dir, 'out2.pcap')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^frames \d+ {2}decapsulated \d+ {2}skipped \d+/);
    assert.match(r.stdout, /not_tunnel/);
    assert.match(r.stdout, /\n100 +vxlan/);
  });

  test('--config applies ports and excludes', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const cfg = join(dir, 'exclude.yaml');
    writeFileSync(cfg, 'excludePrefixes: ["10.200.0.1/32"]\n');
    const r = runCli(['replay', capture, '--out', join(dir, 'out3.pcap'), '--config', cfg, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.decapsulated, 0);
    assert.ok(s.skipped.excluded > 0);
    assert.deepEqual(s.vnis, []);
  });

  test('jumbo frames are decapsulated; frames beyond the test-run limit are reported and written unchanged', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const file = join(dir, 'jumbo.pcap');
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    const inner = innerFrame({ src: '172.16.0.1', dst: '172.16.0.2', protocol: 'udp', payloadSize: 9000 });
    const jumbo = vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 9, inner });
    // Larger than any IP packet: what a capture taken above GRO can hold; the kernel's test-run refuses it.
    const huge = Buffer.concat([jumbo.frame, Buffer.alloc(200000, 1)]);
    for (const [i, f] of [jumbo.frame, huge, Buffer.alloc(10)].entries()) w.write({ tsSec: i, tsFrac: 0, caplen: f.length, origLen: f.length, data: f });
    w.close();
    const out = join(dir, 'jumbo-out.pcap');
    const r = runCli(['replay', file, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.frames, 3);
    assert.equal(s.decapsulated, 1);
    assert.equal(s.skipped.test_run_refused, 2);
    assert.match(r.stderr, /frame 2: \d+ bytes: BPF_PROG_TEST_RUN refused it/);
    assert.match(r.stderr, /frame 3: 10 bytes: shorter than an Ethernet header/);
    const recs = readAll(out);
    assert.equal(recs.length, 3);
    assert.ok(recs[0]!.data.equals(inner));
    assert.ok(recs[1]!.data.equals(huge));
  });

  test('bad input: exit 2, one line naming the file and the problem, nothing written', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const notCapture = join(dir, 'notes.txt');
    writeFileSync(notCapture, 'these are not packets\n');
    const truncated = join(dir, 'truncated.pcap');
    copyFileSync(capture, truncated);
    truncateSync(truncated, statSync(capture).size - 7);
    const sll = join(dir, 'sll.pcap');
    const w = PcapWriter.open(sll, { linkType: 113, precision: 'micro' });
    w.write({ tsSec: 0, tsFrac: 0, caplen: 20, origLen: 20, data: Buffer.alloc(20) });
    w.close();
    const badConfig = join(dir, 'bad.yaml');
    writeFileSync(badConfig, 'vxlanPorts: [99999]\n');
    const cases: Array<[string[], RegExp]> = [
      [[notCapture], /notes\.txt: not a pcap or pcapng capture/],
      [[truncated], /truncated\.pcap: truncated capture/],
      [[sll], /sll\.pcap: link type 113 \(LINUX_SLL\) is not Ethernet/],
      [[join(dir, 'missing.pcap')], /missing\.pcap: no such file/],
      [[capture, '--config', badConfig], /bad\.yaml: vxlanPorts\[0\]: .*65535/],
      [[capture, '--config', join(dir, 'nope.yaml')], /nope\.yaml: cannot read the config file: no such file/],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, `never-${readdirSync(dir).length}.pcap`);
      const r = runCli(['replay', ...args, '--out', out]);
      assert.equal(r.status, 2, `${args.join(' ')}: exit 2 (${r.stderr})`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(!existsSync(out), 'nothing written');
      assert.ok(!readdirSync(dir).some((f) => f.endsWith('.partial')), 'no partial file left');
    }
    const usage = runCli(['replay', capture]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /needs --out/);
  });
});

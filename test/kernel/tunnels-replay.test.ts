// `xdp-decap replay` on scapy-crafted GRE, ERSPAN I/II/III, Geneve/VXLAN-GPE (IP, Ethernet, NSH) and nested captures, judged frame by frame by tshark.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { PcapReader } from '../../src/replay/pcap.ts';
import { startCapture } from '../../src/testbed/capture.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { runCli } from '../lib/cli.ts';
import { IN_CI, IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (BPF); runs in CI' : false;
/** Debian's python3 with python3-scapy (scripts/install-deps.sh installs it); not a pyenv shim. */
const PYTHON = '/usr/bin/python3';

function frames(file: string): Buffer[] {
  const r = PcapReader.open(file);
  const out: Buffer[] = [];
  try {
    for (let rec = r.next(); rec; rec = r.next()) out.push(Buffer.from(rec.data));
  } finally {
    r.close();
  }
  return out;
}

/** tshark's decoding of every frame: each field's occurrences in order. */
function tshark(file: string, fields: string[]): Array<Record<string, string[]>> {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((line) => Object.fromEntries(line.split('\t').map((v, i) => [fields[i]!, v ? v.split('|') : []])));
}

const FIELDS = [
  'frame.protocols',
  'frame.len',
  'udp.dstport',
  'gre.proto',
  'gre.key',
  'erspan.spanid',
  'geneve.vni',
  'vxlan.vni',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
];
const UDP_TUNNEL_PORTS: Record<string, string> = { 4789: 'vxlan', 4790: 'vxlan-gpe', 6081: 'geneve' };

interface Expectation {
  /** undefined: not a tunnel tshark knows; 'nsh': a VXLAN-GPE frame carrying NSH. */
  type?: string;
  vni?: number;
  nsh: boolean;
  /** The innermost conversation, as tshark decoded it. */
  conversation?: string;
}

/** The innermost tunnel and conversation of one input frame, from tshark's own decoding. */
function expectationOf(row: Record<string, string[]>): Expectation {
  const layers = row['frame.protocols']![0]!.split(':');
  let udpSeen = 0;
  let greSeen = 0;
  let type: string | undefined;
  layers.forEach((layer, i) => {
    if (layer === 'udp') {
      const t = UDP_TUNNEL_PORTS[row['udp.dstport']![udpSeen++] ?? ''];
      if (t) type = t;
    } else if (layer === 'gre') {
      const proto = Number(row['gre.proto']![greSeen++]);
      type = proto === 0x6558 ? 'gre' : layers[i + 1] === 'erspan' ? 'erspan' : type;
    }
  });
  const last = (f: string) => row[f]!.at(-1);
  const id =
    type === 'gre'
      ? Number(last('gre.key') ?? 0)
      : type === 'erspan'
        ? Number(last('erspan.spanid') ?? 0)
        : type === 'geneve'
          ? Number(last('geneve.vni'))
          : type
            ? Number(last('vxlan.vni'))
            : undefined;
  const innerIp = layers.findLastIndex((l) => l === 'ip' || l === 'ipv6');
  const fam = layers[innerIp] === 'ipv6' ? 'ipv6' : 'ip';
  const conversation = innerIp >= 0 ? `${last(`${fam}.src`)} > ${last(`${fam}.dst`)}` : undefined;
  return { type, vni: id, nsh: layers.includes('nsh'), conversation };
}

/**
 * Replays `input` with `xdp-decap replay --json` and checks every frame against tshark's decoding of the input:
 * innermost type and segment id (the summary's rows), the inner conversation in OUT, NSH and plain frames untouched.
 */
function checkReplay(dir: string, input: string, tag: string, crafted: boolean): void {
  const output = join(dir, `${tag}-out.pcap`);
  const r = runCli(['replay', input, '--out', output, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as {
    frames: number;
    decapsulated: number;
    skipped: Record<string, number>;
    vnis: Array<{ type: string; vni: number; packets: number; bytes: number; overheadBytes: number }>;
  };

  const inRows = tshark(input, FIELDS);
  const outRows = tshark(output, FIELDS);
  const inFrames = frames(input);
  const outFrames = frames(output);
  if (crafted) assert.equal(inRows.length, 33, 'the crafted capture');
  else assert.ok(inRows.length >= 33, `the tcpdump capture holds the 33 crafted frames (and maybe the veth's own IPv6 chatter): ${inRows.length}`);
  assert.equal(outRows.length, inRows.length, 'one output frame per input frame');
  assert.equal(summary.frames, inRows.length);

  const expectedVnis = new Map<string, { packets: number; bytes: number; overheadBytes: number }>();
  const seenTypes = new Set<string>();
  let nsh = 0;
  let plain = 0;
  let ipPayloads = 0;
  inRows.forEach((row, i) => {
    const e = expectationOf(row);
    const inFrame = inFrames[i]!;
    const outFrame = outFrames[i]!;
    const what = `frame ${i + 1} (${row['frame.protocols']![0]})`;
    if (e.nsh || !e.type) {
      if (e.nsh) nsh++;
      else plain++;
      assert.ok(outFrame.equals(inFrame), `${what}: passes untouched`);
      return;
    }
    seenTypes.add(e.type);
    const outLayers = outRows[i]!['frame.protocols']![0]!.split(':');
    assert.ok(!outLayers.some((l) => ['gre', 'erspan', 'geneve', 'vxlan', 'nsh'].includes(l)), `${what}: OUT has no tunnel left: ${outLayers.join(':')}`);
    assert.equal(outLayers[0], 'eth', `${what}: OUT is an Ethernet frame`);
    const fam = outLayers.includes('ipv6') ? 'ipv6' : 'ip';
    assert.equal(`${outRows[i]![`${fam}.src`]![0]} > ${outRows[i]![`${fam}.dst`]![0]}`, e.conversation, `${what}: OUT is the inner conversation`);
    // The inner bytes are the input's tail; an IP payload (tshark: the tunnel followed by ip/ipv6, no inner eth)
    // gets an Ethernet header written in front: the outermost MACs and the IP version's EtherType.
    assert.ok(
      outFrame.subarray(14).equals(inFrame.subarray(inFrame.length - outFrame.length + 14)),
      `${what}: OUT after its Ethernet header is the input's tail`,
    );
    const inLayers = row['frame.protocols']![0]!.split(':');
    const ipPayload = inLayers.lastIndexOf('eth') === 0;
    if (ipPayload) {
      assert.ok(outFrame.subarray(0, 12).equals(inFrame.subarray(0, 12)), `${what}: written Ethernet header has the outermost MACs`);
      assert.equal(outFrame.readUInt16BE(12), fam === 'ipv6' ? 0x86dd : 0x0800, `${what}: written EtherType`);
    } else {
      assert.ok(outFrame.equals(inFrame.subarray(inFrame.length - outFrame.length)), `${what}: OUT is the inner Ethernet frame as it was`);
    }
    ipPayloads += ipPayload ? 1 : 0;
    const key = `${e.type}/${e.vni}`;
    const sum = expectedVnis.get(key) ?? { packets: 0, bytes: 0, overheadBytes: 0 };
    expectedVnis.set(key, {
      packets: sum.packets + 1,
      bytes: sum.bytes + Number(outRows[i]!['frame.len']![0]),
      overheadBytes: sum.overheadBytes + inFrame.length - outFrame.length,
    });
  });

  assert.deepEqual([...seenTypes].sort(), ['erspan', 'geneve', 'gre', 'vxlan', 'vxlan-gpe'], 'every type crossed');
  assert.equal(nsh, 2, 'two NSH frames (IPv4 and IPv6 outers)');
  assert.equal(ipPayloads, 8, 'Geneve and VXLAN-GPE with IPv4 and IPv6 payloads, over IPv4 and IPv6');
  assert.equal(summary.skipped.unsupported, nsh, 'NSH passes as unsupported');
  assert.equal(summary.skipped.not_tunnel, plain);
  if (crafted) assert.equal(plain, 1, 'the one plain ping');
  assert.equal(summary.decapsulated, inRows.length - nsh - plain);
  const got = Object.fromEntries(summary.vnis.map((v) => [`${v.type}/${v.vni}`, { packets: v.packets, bytes: v.bytes, overheadBytes: v.overheadBytes }]));
  assert.deepEqual(got, Object.fromEntries(expectedVnis), 'per type and segment id: packets, bytes, overhead as tshark decoded them');
  // tshark's ids: GRE keys, ERSPAN session ids (type I: 0), Geneve, VXLAN-GPE and nested VXLAN VNIs.
  for (const key of [
    'gre/0',
    'gre/1000',
    'gre/4294967294',
    'erspan/0',
    'erspan/17',
    'erspan/801',
    'erspan/802',
    'geneve/3001',
    'geneve/3002',
    'vxlan-gpe/4001',
    'vxlan-gpe/4002',
    'vxlan-gpe/4003',
    'vxlan/5001',
    'vxlan/5002',
  ]) {
    assert.ok(key in got, `${key} decapsulated (crafted by test/fixtures/craft-tunnels.py)`);
  }
}

describe('xdp-decap replay on scapy-crafted tunnel captures, checked against tshark', { skip: SKIP }, () => {
  let dir: string;
  let input: string;

  let bed: Testbed | undefined;
  let craft: ReturnType<typeof spawnSync> | undefined;

  before(() => {
    if (!IS_ROOT) return;
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-tunnels-'));
    input = join(dir, 'tunnels.pcap');
    craft = spawnSync(PYTHON, [join(REPO_ROOT, 'test', 'fixtures', 'craft-tunnels.py'), input], { encoding: 'utf8' });
  });

  /** The crafted capture is there; outside CI a missing scapy skips with a message, in CI it fails. */
  function crafted(t: TestContext): boolean {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'tshark') || !requireTool(t, PYTHON)) return false;
    if (craft?.status !== 0 && /No module named 'scapy'/.test(String(craft?.stderr)) && !IN_CI) {
      t.skip('python3-scapy not installed; scripts/install-deps.sh installs it');
      return false;
    }
    assert.equal(craft?.status, 0, String(craft?.stderr));
    assert.ok(existsSync(input));
    return true;
  }
  after(() => {
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('each frame: the innermost type and segment id tshark reads, the inner conversation in OUT, NSH untouched', (t) => {
    if (!crafted(t)) return;
    checkReplay(dir, input, 'crafted', true);
  });

  test('the same frames sent by tcpreplay over a testbed veth and captured by tcpdump: the same verdicts', async (t) => {
    if (!crafted(t) || !requireTool(t, 'tcpreplay') || !requireTool(t, 'tcpdump')) return;
    bed = Testbed.create('tunrep');
    const captured = join(dir, 'captured.pcap');
    const tap = await startCapture(bed.cap, bed.capIf, captured);
    const r = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '-i', bed.srcIf, input], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await tap.stop();
    checkReplay(dir, captured, 'captured', false);
  });
});

// The frame builders the tests and the demo rely on: checked by arithmetic and by tshark's decoding.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { erspanFrame, GPE_NEXT, geneveFrame, gpeFrame, greFrame, innerFrame, internetChecksum, vxlanFrame } from '../../src/testbed/packets.ts';
import { requireTool } from '../lib/env.ts';

const inner = innerFrame({ src: '192.168.1.10', dst: '192.168.1.20', protocol: 'tcp', sport: 33000, dport: 443, payloadSize: 10 });

test('IPv4 header checksum verifies; lengths and VNI land where RFC 791/768/7348 put them', () => {
  const { frame, overhead } = vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 0x123456, inner });
  assert.equal(overhead, 50);
  assert.equal(internetChecksum(frame.subarray(14, 34)), 0);
  assert.equal(frame.readUInt16BE(16), frame.length - 14, 'IPv4 total length');
  assert.equal(frame.readUInt16BE(38), frame.length - 34, 'UDP length');
  assert.equal(frame.readUInt16BE(36), 4789);
  assert.equal(frame[42], 0x08, 'I flag');
  assert.equal(frame.readUIntBE(46, 3), 0x123456);
  assert.ok(frame.subarray(50).equals(inner));
});

test('VLAN tags in order; Geneve opt_len counts 4-byte words', () => {
  const { frame, overhead } = geneveFrame({
    outerSrc: 'fd00::1',
    outerDst: 'fd00::2',
    vni: 9,
    inner,
    vlans: [
      { tpid: 0x88a8, vid: 100 },
      { tpid: 0x8100, vid: 200 },
    ],
    options: Buffer.alloc(12),
  });
  assert.equal(frame.readUInt16BE(12), 0x88a8);
  assert.equal(frame.readUInt16BE(14) & 0xfff, 100);
  assert.equal(frame.readUInt16BE(16), 0x8100);
  assert.equal(frame.readUInt16BE(18) & 0xfff, 200);
  assert.equal(frame.readUInt16BE(20), 0x86dd);
  const geneve = 22 + 40 + 8;
  assert.equal(frame[geneve]! & 0x3f, 3);
  assert.equal(frame.readUInt16BE(geneve + 2), 0x6558);
  assert.equal(overhead, 22 + 40 + 8 + 8 + 12);
});

test('tshark decodes the built frames as intended', (t) => {
  if (!requireTool(t, 'tshark')) return;
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-packets-'));
  try {
    const file = join(dir, 'f.pcap');
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    const frames = [
      vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 4242, inner }).frame,
      geneveFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 77, inner, options: Buffer.from([0, 1, 2, 1, 0, 0, 0, 0]) }).frame,
      vxlanFrame({ outerSrc: 'fd00::1', outerDst: 'fd00::2', vni: 5, inner: innerFrame({ src: 'fd10::1', dst: 'fd10::2', protocol: 'udp', dport: 53 }) }).frame,
    ];
    for (const [i, f] of frames.entries()) w.write({ tsSec: i, tsFrac: 0, caplen: f.length, origLen: f.length, data: f });
    w.close();
    const r = spawnSync(
      'tshark',
      [
        '-r',
        file,
        '-T',
        'fields',
        '-E',
        'occurrence=l',
        '-e',
        'vxlan.vni',
        '-e',
        'geneve.vni',
        '-e',
        'ip.src',
        '-e',
        'ipv6.src',
        '-e',
        'tcp.dstport',
        '-e',
        'udp.dstport',
        '-e',
        '_ws.expert',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(rows[0]!.slice(0, 5), ['4242', '', '192.168.1.10', '', '443']);
    // tshark prints the Geneve VNI in hex.
    assert.deepEqual([rows[1]![0], Number(rows[1]![1]), rows[1]![2], rows[1]![4]], ['', 77, '192.168.1.10', '443']);
    assert.deepEqual([rows[2]![0], rows[2]![3], rows[2]![5]], ['5', 'fd10::1', '53']);
    assert.ok(
      rows.every((row) => !/checksum/i.test(row[6] ?? '')),
      `no checksum complaints: ${r.stdout}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tshark decodes the GRE, ERSPAN II/III, VXLAN-GPE and IP-payload Geneve builders as intended', (t) => {
  if (!requireTool(t, 'tshark')) return;
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-packets-'));
  try {
    const file = join(dir, 'g.pcap');
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    const o4 = { outerSrc: '10.0.0.1', outerDst: '10.0.0.2' };
    const frames = [
      greFrame({ ...o4, key: 0x01020304, checksum: true, seq: 77, inner }).frame,
      erspanFrame({ ...o4, erspanType: 2, sessionId: 513, inner }).frame,
      erspanFrame({ outerSrc: 'fd00::1', outerDst: 'fd00::2', erspanType: 3, sessionId: 99, subheader: Buffer.from('0800000000000001', 'hex'), inner }).frame,
      gpeFrame({ ...o4, vni: 4242, nextProtocol: GPE_NEXT.ipv4, inner }).frame,
      geneveFrame({ ...o4, vni: 5, protocolType: 0x86dd, inner: innerFrame({ src: 'fd10::1', dst: 'fd10::2', protocol: 'udp', dport: 53 }) }).frame,
    ];
    for (const [i, f] of frames.entries()) w.write({ tsSec: i, tsFrac: 0, caplen: f.length, origLen: f.length, data: f });
    w.close();
    const fields = [
      'gre.key',
      'gre.sequence_number',
      'gre.checksum.status',
      'erspan.version',
      'erspan.spanid',
      'erspan.o',
      'vxlan.vni',
      'vxlan.next_proto',
      'geneve.vni',
      'ip.src',
      'ipv6.src',
      'tcp.dstport',
      'udp.dstport',
    ];
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'occurrence=l', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i]!, v])));
    assert.deepEqual(
      [Number(rows[0]!['gre.key']), rows[0]!['gre.sequence_number'], rows[0]!['gre.checksum.status'], rows[0]!['ip.src'], rows[0]!['tcp.dstport']],
      [0x01020304, '77', '1', '192.168.1.10', '443'],
    );
    assert.deepEqual([rows[1]!['erspan.version'], rows[1]!['erspan.spanid'], rows[1]!['ip.src']], ['1', '513', '192.168.1.10']);
    assert.deepEqual([rows[2]!['erspan.version'], rows[2]!['erspan.spanid'], rows[2]!['erspan.o'], rows[2]!['ip.src']], ['2', '99', '1', '192.168.1.10']);
    assert.deepEqual([rows[3]!['vxlan.vni'], rows[3]!['vxlan.next_proto'], rows[3]!['ip.src'], rows[3]!['tcp.dstport']], ['4242', '1', '192.168.1.10', '443']);
    assert.deepEqual([Number(rows[4]!['geneve.vni']), rows[4]!['ipv6.src'], rows[4]!['udp.dstport']], [5, 'fd10::1', '53']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

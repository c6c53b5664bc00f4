// reconcile without root: nfdump's JSON and a real nfcapd file read, and the per-VNI join and comparison rules.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatReconcile } from '../../src/commands/reconcile.ts';
import { NetflowInputError, parseNfdumpJson, readNfcapdStore } from '../../src/reconcile/nfdump.ts';
import { type DecapFlow, flowKey, type NetflowRecord, reconcile } from '../../src/reconcile/reconcile.ts';
import { runCli } from '../lib/cli.ts';
import { REPO_ROOT, requireTool } from '../lib/env.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'reconcile');
/** What softflowd exported for the fixture's pcap (10 UDP, 5 ICMP echo, 3 TCP over IPv6), as nfdump 1.7.1 decoded it. */
const EXPECTED: NetflowRecord[] = [
  { protocol: 17, srcAddr: '192.168.1.1', dstAddr: '192.168.1.2', srcPort: 40000, dstPort: 53, packets: 10, bytes: 1280, sampled: false },
  { protocol: 1, srcAddr: '192.168.2.1', dstAddr: '192.168.2.2', srcPort: 0, dstPort: 0, packets: 5, bytes: 420, sampled: false },
  { protocol: 6, srcAddr: 'fd00::1', dstAddr: 'fd00::2', srcPort: 5555, dstPort: 443, packets: 3, bytes: 276, sampled: false },
];

function decapFlow(n: NetflowRecord, vni: number, over: Partial<DecapFlow> = {}): DecapFlow {
  return {
    ifindex: 2,
    interfaceName: 'cap0',
    tunnelType: 'vxlan',
    vni,
    family: n.srcAddr.includes(':') ? 6 : 4,
    protocol: n.protocol,
    srcAddr: n.srcAddr,
    dstAddr: n.dstAddr,
    srcPort: [6, 17, 132].includes(n.protocol) ? n.srcPort : 0,
    dstPort: [6, 17, 132].includes(n.protocol) ? n.dstPort : 0,
    packets: n.packets,
    bytes: n.bytes + 14 * n.packets,
    firstSeenNs: 1n,
    lastSeenNs: 2n,
    ...over,
  };
}

test("nfdump 1.7.1's JSON: flows with addresses, ports, packets and bytes; the no-flow output is empty, not an error", () => {
  assert.deepEqual(parseNfdumpJson(readFileSync(join(FIXTURES, 'nfdump-1.7.1.json'), 'utf8'), 'fixture'), EXPECTED);
  assert.deepEqual(parseNfdumpJson('[\nNo matching flows\n]\n', 'x'), []);
  assert.throws(
    () => parseNfdumpJson('{"broken', 'store'),
    (e: Error) => e instanceof NetflowInputError && /store: nfdump's JSON output did not parse/.test(e.message),
  );
});

test('a real nfcapd file and its directory, read through nfdump', (t) => {
  if (!requireTool(t, 'nfdump')) return;
  assert.deepEqual(readNfcapdStore(join(FIXTURES, 'nfcapd.202611230600')), EXPECTED);
  assert.throws(() => readNfcapdStore('/nonexistent/nfcapd'), /no such file or directory; give an nfcapd file or the directory/);
  const empty = mkdtempSync(join(tmpdir(), 'xdp-decap-nfcapd-'));
  try {
    writeFileSync(join(empty, 'nfcapd.current.123'), '');
    assert.throws(() => readNfcapdStore(empty), /no finished nfcapd files there yet; .*SIGTERM/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('the join key: ports for TCP/UDP/SCTP only (NetFlow puts ICMP type/code in the port, xdp-decap keys ICMP without ports)', () => {
  assert.equal(
    flowKey({ protocol: 1, srcAddr: 'a', dstAddr: 'b', srcPort: 0, dstPort: 2048 }),
    flowKey({ protocol: 1, srcAddr: 'a', dstAddr: 'b', srcPort: 0, dstPort: 0 }),
  );
  assert.notEqual(
    flowKey({ protocol: 17, srcAddr: 'a', dstAddr: 'b', srcPort: 1, dstPort: 53 }),
    flowKey({ protocol: 17, srcAddr: 'a', dstAddr: 'b', srcPort: 2, dstPort: 53 }),
  );
});

test('complete sides agree exactly per VNI, with decap frame bytes turned into L3 bytes', () => {
  const nfIcmp = { ...EXPECTED[1]!, dstPort: 2048 }; // echo request as NetFlow v9/IPFIX may encode it
  const report = reconcile([decapFlow(EXPECTED[0]!, 100), decapFlow(EXPECTED[1]!, 200), decapFlow(EXPECTED[2]!, 200)], [EXPECTED[0]!, nfIcmp, EXPECTED[2]!], 2);
  assert.equal(report.agrees, true);
  assert.deepEqual(
    report.vnis.map((r) => [r.vni, r.decapPackets, r.netflowPackets, r.decapL3Bytes, r.netflowBytes, r.packetDiffPct, r.byteDiffPct]),
    [
      [100, 10, 10, 1280, 1280, 0, 0],
      [200, 8, 8, 696, 696, 0, 0],
    ],
  );
  assert.equal(report.vnis[0]!.decapFrameBytes, 1280 + 140);
  assert.match(formatReconcile(report, 20), /agrees within 2%/);
});

test('differences are reported: a VNI beyond tolerance, flows only NetFlow saw, flows NetFlow missed, 5-tuples in several VNIs', () => {
  const short = { ...EXPECTED[0]!, packets: 9, bytes: 1152 }; // NetFlow lost one of ten packets: -10%
  const plain: NetflowRecord = { protocol: 17, srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', srcPort: 1, dstPort: 2, packets: 4, bytes: 400, sampled: true };
  const shared = EXPECTED[2]!;
  const report = reconcile(
    [decapFlow(EXPECTED[0]!, 100), decapFlow(EXPECTED[1]!, 200), decapFlow(shared, 300), decapFlow(shared, 301)],
    [short, plain, shared],
    2,
  );
  assert.equal(report.agrees, false);
  const v100 = report.vnis.find((r) => r.vni === 100)!;
  assert.equal(v100.packetDiff, -1);
  assert.equal(v100.packetDiffPct, -10);
  assert.equal(v100.outsideTolerance, true);
  assert.equal(reconcile([decapFlow(EXPECTED[0]!, 100)], [short], 10).vnis[0]!.outsideTolerance, false, '10% is within --tolerance 10');
  assert.deepEqual(
    report.netflowOnly.map((f) => f.srcAddr),
    ['10.0.0.1'],
  );
  assert.deepEqual(
    report.decapOnly.map((f) => [f.vni, f.srcAddr, f.bytes]),
    [[200, '192.168.2.1', 420]],
    'L3 bytes, like the other columns',
  );
  assert.deepEqual(
    report.ambiguous.map((f) => f.vnis),
    [[300, 301]],
  );
  assert.equal(report.sampledRecords, 1);
  const text = formatReconcile(report, 20);
  assert.match(text, /NetFlow flows matching no decapsulated flow \(never tunnelled here\): 1 \(4 packets\)/);
  assert.match(text, /decapsulated flows NetFlow never reported .*: 1 \(5 packets\)/);
  assert.match(text, /NO \(> 2%\)/);
  assert.match(text, /1 NetFlow records were sampled/);
});

test('inputs that are not an nfcapd store: one line naming the file and the fix, exit 2 (nfdump itself says "bad magic" and exits 0)', (t) => {
  if (!requireTool(t, 'nfdump') || !requireTool(t, 'mkfifo')) return;
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-notnfcapd-'));
  try {
    const fixture = join(FIXTURES, 'nfcapd.202611230600');
    const at = (name: string) => join(dir, name);
    writeFileSync(at('random.bin'), randomBytes(5000));
    writeFileSync(at('flows.txt'), 'proto 17 192.168.1.1:40000 > 192.168.1.2:53 10 packets\n');
    writeFileSync(at('empty'), '');
    writeFileSync(at('truncated'), readFileSync(fixture).subarray(0, 100)); // nfcapd's magic, then cut short
    assert.equal(spawnSync('mkfifo', [at('fifo')]).status, 0);
    mkdirSync(at('no-files'));
    writeFileSync(at('no-files/notes.txt'), 'nothing here\n');
    mkdirSync(at('junk-named-like-nfcapd'));
    writeFileSync(at('junk-named-like-nfcapd/nfcapd.202611230600'), randomBytes(300));
    mkdirSync(at('store-with-readme'));
    copyFileSync(fixture, at('store-with-readme/nfcapd.202611230600'));
    writeFileSync(at('store-with-readme/README'), 'store of the lab exporter\n');

    // What nfdump does with them on its own: no error status, "No matching flows": an empty store, not a refusal.
    const raw = spawnSync('nfdump', ['-r', at('random.bin'), '-o', 'json'], { encoding: 'utf8' });
    assert.equal(raw.status, 0);
    assert.match(raw.stderr, /bad magic/);

    const cases: Array<[string, RegExp]> = [
      [
        'random.bin',
        /random\.bin: is not an nfcapd file \(it starts with 0x[0-9a-f]{8}; files nfcapd writes start with 0x0ca5\); give an nfcapd file or the directory nfcapd writes to/,
      ],
      ['flows.txt', /flows\.txt: is not an nfcapd file \(it starts with 0x70726f74;/],
      ['empty', /empty: is empty, not an nfcapd file; give an nfcapd file/],
      ['truncated', /truncated: nfdump could not read the store \(.*appendix offset error\); give an nfcapd file/],
      ['fifo', /fifo: not a regular file or a directory; give an nfcapd file/],
      ['missing', /missing: no such file or directory; give an nfcapd file/],
      ['no-files', /no-files: no finished nfcapd files there yet; nfcapd names them nfcapd\.YYYYMMDDhhmm/],
      ['junk-named-like-nfcapd', /junk-named-like-nfcapd\/nfcapd\.202611230600 is not an nfcapd file .*move it out of the store, or give one nfcapd file/],
      ['store-with-readme', /store-with-readme\/README is not an nfcapd file .*nfdump reads every file under the directory/],
    ];
    for (const [name, message] of cases) {
      assert.throws(
        () => readNfcapdStore(at(name)),
        (e: Error) => e instanceof NetflowInputError && message.test(e.message),
        name,
      );
      const r = runCli(['reconcile', '--nfdump', at(name)], { timeoutMs: 30000 });
      assert.equal(r.status, 2, `${name}: exit 2, got ${r.status}: ${r.stderr}`);
      assert.equal(r.stdout, '', `${name}: no report`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${name}: one line: ${r.stderr}`);
      assert.ok(lines[0]!.startsWith(`xdp-decap reconcile: --nfdump ${at(name)}: `), `${name}: names the path: ${lines[0]}`);
      assert.match(lines[0]!, message, name);
    }
    // The same fixture alone, and a store of finished files next to nfcapd's current file, still read.
    assert.deepEqual(readNfcapdStore(at('store-with-readme/nfcapd.202611230600')), EXPECTED);
    rmSync(at('store-with-readme/README'));
    writeFileSync(at('store-with-readme/nfcapd.current.4242'), '');
    assert.deepEqual(readNfcapdStore(at('store-with-readme')), EXPECTED);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

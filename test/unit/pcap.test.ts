// pcap/pcapng I/O through libpcap: exact round trips, and a clear error for each kind of bad file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureError, PcapReader, PcapWriter, type PcapRecord, type TimestampPrecision } from '../../src/replay/pcap.ts';
import { requireTool } from '../lib/env.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-pcap-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function write(file: string, records: PcapRecord[], precision: TimestampPrecision, linkType = 1): void {
  const w = PcapWriter.open(file, { linkType, precision });
  for (const r of records) w.write(r);
  w.close();
}

function readAll(file: string): { reader: Omit<PcapReader, 'next' | 'close'>; records: PcapRecord[] } {
  const r = PcapReader.open(file);
  const records: PcapRecord[] = [];
  try {
    for (let x = r.next(); x; x = r.next()) records.push(x);
  } finally {
    r.close();
  }
  return { reader: r, records };
}

const sample = (n: number, fracMax: number): PcapRecord[] =>
  Array.from({ length: n }, (_, i) => {
    const data = Buffer.alloc(60 + (i % 50), i & 0xff);
    return { tsSec: 1_700_000_000 + i, tsFrac: (i * 7919) % fracMax, caplen: data.length, origLen: data.length + (i % 3), data };
  });

for (const [precision, fracMax] of [['micro', 1_000_000], ['nano', 1_000_000_000]] as const) {
  test(`round trip keeps bytes, lengths and ${precision}second timestamps`, () =>
    withDir((dir) => {
      const file = join(dir, 'a.pcap');
      const records = sample(500, fracMax);
      write(file, records, precision);
      const { reader, records: back } = readAll(file);
      assert.equal(reader.precision, precision);
      assert.equal(reader.linkType, 1);
      assert.equal(reader.linkTypeName, 'EN10MB');
      assert.deepEqual(back, records);
    }));
}

test('bad files: missing, not a capture, truncated mid-record, truncated header', () =>
  withDir((dir) => {
    const good = join(dir, 'good.pcap');
    write(good, sample(10, 1e6), 'micro');
    const notCapture = join(dir, 'x.pcap');
    writeFileSync(notCapture, 'GET / HTTP/1.1\r\n\r\n');
    const cut = join(dir, 'cut.pcap');
    write(cut, sample(10, 1e6), 'micro');
    truncateSync(cut, statSync(cut).size - 5);
    const header = join(dir, 'header.pcap');
    write(header, [], 'micro');
    truncateSync(header, 10);
    assert.throws(() => PcapReader.open(join(dir, 'none.pcap')), (e: unknown) => e instanceof CaptureError && /none\.pcap: no such file/.test(e.message));
    assert.throws(() => PcapReader.open(notCapture), /x\.pcap: not a pcap or pcapng capture \(unknown file format\)/);
    assert.throws(() => readAll(cut), /cut\.pcap: truncated capture \(truncated dump file/);
    assert.throws(() => PcapReader.open(header), /header\.pcap: truncated capture/);
  }));

test('link type is reported for non-Ethernet captures', () =>
  withDir((dir) => {
    const file = join(dir, 'sll.pcap');
    write(file, sample(1, 1e6), 'micro', 113);
    const r = PcapReader.open(file);
    assert.equal(r.linkType, 113);
    assert.equal(r.linkTypeName, 'LINUX_SLL');
    r.close();
  }));

test('pcapng (as tshark writes it) is read, with nanosecond timestamps', (t) => {
  if (!requireTool(t, 'editcap')) return;
  withDir((dir) => {
    const pcap = join(dir, 'a.pcap');
    const ng = join(dir, 'a.pcapng');
    const records = sample(20, 1e6);
    write(pcap, records, 'micro');
    const r = spawnSync('editcap', ['-F', 'pcapng', pcap, ng], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { reader, records: back } = readAll(ng);
    assert.equal(reader.precision, 'nano');
    assert.deepEqual(back.map((x) => x.data), records.map((x) => x.data));
    assert.deepEqual(back.map((x) => [x.tsSec, x.tsFrac]), records.map((x) => [x.tsSec, x.tsFrac * 1000]));
  });
});

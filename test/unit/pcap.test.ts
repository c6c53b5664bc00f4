// pcap/pcapng I/O (no root): exact round trips, link types, pcapng, and one clear CaptureError per kind of bad file.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CaptureError, FRACTIONS_PER_SECOND, PcapReader, type PcapRecord, PcapWriter, readCapture, type TimestampPrecision } from '../../src/replay/pcap.ts';
import { requireTool } from '../lib/env.ts';
import { pcapng } from '../lib/pcapng.ts';

const DLT_EN10MB = 1;
const LINKTYPE_RAW = 101;
const DLT_LINUX_SLL = 113;

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-pcap-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function writeCapture(file: string, records: readonly PcapRecord[], precision: TimestampPrecision, linkType = DLT_EN10MB): void {
  const writer = PcapWriter.open(file, { linkType, precision });
  for (const record of records) writer.write(record);
  writer.close();
  assert.equal(writer.framesWritten, records.length);
}

function readAll(file: string): { reader: PcapReader; records: PcapRecord[] } {
  const reader = PcapReader.open(file);
  const records: PcapRecord[] = [];
  try {
    for (let record = reader.next(); record; record = reader.next()) records.push(record);
  } finally {
    reader.close();
  }
  return { reader, records };
}

/** Record by record; compares bytes with Buffer.equals so a mismatch in a 256 KiB frame reports fast. */
function assertSameRecords(actual: readonly PcapRecord[], expected: readonly PcapRecord[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: number of records`);
  expected.forEach((want, i) => {
    const got = actual[i]!;
    const { data: gotData, ...gotFields } = got;
    const { data: wantData, ...wantFields } = want;
    assert.deepEqual(gotFields, wantFields, `${what}: record ${i} header`);
    assert.ok(Buffer.isBuffer(gotData) && gotData.equals(wantData), `${what}: record ${i} bytes (${gotData.length} vs ${wantData.length})`);
  });
}

/** A deterministic mix of sizes and timestamps, with the edge cases a reader gets wrong. */
function sampleRecords(count: number, precision: TimestampPrecision): PcapRecord[] {
  const fractions = FRACTIONS_PER_SECOND[precision];
  const records = Array.from({ length: count }, (_, i): PcapRecord => {
    const data = Buffer.alloc((i * 37) % 1600);
    for (let j = 0; j < data.length; j++) data[j] = (i * 131 + j * 7) & 0xff;
    return { tsSec: 1_700_000_000 + i, tsFrac: (i * 7919) % fractions, caplen: data.length, origLen: data.length + (i % 3), data };
  });
  const edge = (tsSec: number, tsFrac: number, size: number, origLen = size): PcapRecord => {
    const data = Buffer.alloc(size, size & 0xff);
    if (size >= 4) data.writeUInt32BE(size, 0);
    return { tsSec, tsFrac, caplen: size, origLen, data };
  };
  const half = Math.floor(count / 2);
  return [
    edge(0, 0, 0), // no bytes captured at all
    edge(2 ** 31, fractions - 1, 64), // past 2038: the seconds field is unsigned
    edge(2 ** 32 - 1, 1, 60, 65_535), // the last second pcap can hold; cut short by a snaplen
    ...records.slice(0, half),
    edge(1_700_000_001, 5, 200_000), // libpcap grows (moves) its buffer: the reader's view must follow
    ...records.slice(half),
    edge(1_700_000_002, 6, 262_144), // the largest frame libpcap writes
    edge(1_700_000_003, 7, 14),
  ];
}

for (const precision of ['micro', 'nano'] as const) {
  test(
    `round trip keeps bytes, caplen, origLen and ${precision}second timestamps exactly`,
    withDir((dir) => {
      const file = join(dir, `${precision}.pcap`);
      const records = sampleRecords(2000, precision);
      writeCapture(file, records, precision);
      const magic = readFileSync(file).readUInt32LE(0);
      assert.equal(magic, precision === 'micro' ? 0xa1b2c3d4 : 0xa1b23c4d, 'the magic number says the precision');
      const { reader, records: back } = readAll(file);
      assert.equal(reader.precision, precision);
      assert.equal(reader.linkType, DLT_EN10MB);
      assert.equal(reader.linkTypeName, 'EN10MB');
      assert.equal(reader.framesRead, records.length);
      assertSameRecords(back, records, precision);
    }),
  );
}

test(
  'readCapture streams every record and closes the file, also when the loop breaks',
  withDir((dir) => {
    const file = join(dir, 'a.pcap');
    const records = sampleRecords(100, 'micro');
    writeCapture(file, records, 'micro');
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    assertSameRecords([...readCapture(file)], records, 'readCapture');
    for (const record of readCapture(file)) {
      assertSameRecords([record], records.slice(0, 1), 'first record');
      break;
    }
    assert.equal([...PcapReader.open(file)].length, records.length, 'a PcapReader is iterable');
    assert.equal(openFds(), before, 'no file left open');
  }),
);

test(
  'bad files each get a one-line CaptureError naming the file, the problem and the fix',
  withDir((dir) => {
    const good = join(dir, 'good.pcap');
    writeCapture(good, sampleRecords(10, 'micro'), 'micro');
    const goodBytes = readFileSync(good);
    const cases: Array<{ name: string; file: string; make?: () => void; message: RegExp }> = [
      { name: 'missing', file: join(dir, 'none.pcap'), message: /none\.pcap: no such file; check the path$/ },
      { name: 'directory', file: join(dir, 'sub'), make: () => mkdirSync(join(dir, 'sub')), message: /sub: is a directory; give the path of a \.pcap/ },
      {
        name: 'empty',
        file: join(dir, 'empty.pcap'),
        make: () => writeFileSync(join(dir, 'empty.pcap'), ''),
        message: /empty\.pcap: empty file, not a pcap or pcapng capture; record one with tcpdump -w/,
      },
      {
        name: 'too short',
        file: join(dir, 'short.pcap'),
        make: () => writeFileSync(join(dir, 'short.pcap'), 'ab'),
        message: /short\.pcap: 2 bytes long, too short/,
      },
      {
        name: 'not a capture',
        file: join(dir, 'notes.txt'),
        make: () => writeFileSync(join(dir, 'notes.txt'), 'GET / HTTP/1.1\r\nHost: example\r\n\r\n'),
        message: /notes\.txt: not a pcap or pcapng capture \(unknown file format\); give a file written by tcpdump -w or tshark -w/,
      },
      {
        name: 'gzip',
        file: join(dir, 'a.pcap.gz'),
        make: () => writeFileSync(join(dir, 'a.pcap.gz'), gzipSync(goodBytes)),
        message: /a\.pcap\.gz: gzip-compressed.*gunzip/,
      },
      {
        name: 'header cut short',
        file: join(dir, 'header.pcap'),
        make: () => writeFileSync(join(dir, 'header.pcap'), goodBytes.subarray(0, 10)),
        message: /header\.pcap: truncated capture: the file ends inside its header \(10 of 24 bytes\); .*copy it again/,
      },
    ];
    for (const c of cases) {
      c.make?.();
      assert.throws(
        () => PcapReader.open(c.file),
        (err: unknown) => {
          assert.ok(err instanceof CaptureError, `${c.name}: a CaptureError, got ${String(err)}`);
          assert.equal(err.path, c.file, c.name);
          assert.match(err.message, c.message, c.name);
          assert.ok(!err.message.includes('\n'), `${c.name}: one line`);
          return true;
        },
      );
    }
  }),
);

test(
  'a capture cut off inside a frame is an error after the whole frames, not a short read or the end',
  withDir((dir) => {
    const records = sampleRecords(50, 'micro');
    const full = join(dir, 'full.pcap');
    writeCapture(full, records, 'micro');
    const bytes = readFileSync(full);
    const lastFrame = records.at(-1)!;
    // Cut inside the last frame's data, then inside its 16-byte record header.
    for (const [name, cutTo] of [
      ['data', bytes.length - 5],
      ['record-header', bytes.length - lastFrame.caplen - 10],
    ] as const) {
      const cut = join(dir, `cut-${name}.pcap`);
      writeFileSync(cut, bytes.subarray(0, cutTo));
      const reader = PcapReader.open(cut);
      const read: PcapRecord[] = [];
      const whole = records.length - 1;
      const expected = new RegExp(
        `truncated capture: the file ends inside frame ${whole + 1}, after ${whole} whole frames ` +
          `\\(inside its (16-byte record header|\\d+ captured bytes): only \\d+\\); .*editcap -r \\S+ OUT 1-${whole}$`,
      );
      assert.throws(
        () => {
          for (let record = reader.next(); record; record = reader.next()) read.push(record);
        },
        (err: unknown) => err instanceof CaptureError && err.path === cut && expected.test(err.message),
        name,
      );
      assertSameRecords(read, records.slice(0, -1), `${name}: every whole frame first`);
      reader.close();
    }
  }),
);

test(
  'non-Ethernet captures report their link type and its name',
  withDir((dir) => {
    const sll = join(dir, 'sll.pcap');
    writeCapture(sll, sampleRecords(2, 'micro'), 'micro', DLT_LINUX_SLL);
    const sllReader = PcapReader.open(sll);
    assert.deepEqual([sllReader.linkType, sllReader.linkTypeName], [DLT_LINUX_SLL, 'LINUX_SLL']);
    sllReader.close();

    // The reader and the writer speak LINKTYPE_ values, as the file holds them: LINKTYPE_RAW is 101 both ways.
    const raw = join(dir, 'raw.pcap');
    writeCapture(raw, sampleRecords(2, 'micro'), 'micro', LINKTYPE_RAW);
    assert.equal(readFileSync(raw).readUInt32LE(20), LINKTYPE_RAW, 'LINKTYPE_RAW in the file header');
    const rawReader = PcapReader.open(raw);
    assert.deepEqual([rawReader.linkType, rawReader.linkTypeName], [LINKTYPE_RAW, 'RAW']);
    rawReader.close();
    assert.throws(
      () => PcapWriter.open(join(dir, 'bad.pcap'), { linkType: -1, precision: 'micro' }),
      /bad\.pcap: open for writing: link type -1 is not a LINKTYPE_ value/,
    );
  }),
);

test(
  'the writer refuses records the pcap format cannot hold',
  withDir((dir) => {
    const file = join(dir, 'w.pcap');
    const writer = PcapWriter.open(file, { linkType: DLT_EN10MB, precision: 'micro', snaplen: 1000 });
    const data = Buffer.alloc(60, 7);
    assert.throws(
      () => writer.write({ tsSec: 1, tsFrac: 2 ** 32, data }),
      /w\.pcap: write frame 1: tsFrac 4294967296 does not fit the pcap format's unsigned 32-bit microseconds/,
    );
    assert.throws(() => writer.write({ tsSec: 2 ** 32, tsFrac: 0, data }), /tsSec 4294967296 does not fit/);
    assert.throws(() => writer.write({ tsSec: 1, tsFrac: 0, data: Buffer.alloc(1001) }), /1001 bytes exceed the snaplen 1000/);
    assert.throws(() => writer.write({ tsSec: 1, tsFrac: 0, data, caplen: 59 }), /caplen 59 is not data\.length 60/);
    assert.throws(() => writer.write({ tsSec: 1, tsFrac: 0, data, origLen: 59 }), /origLen 59 must be/);
    writer.write({ tsSec: 1, tsFrac: 999_999, data });
    // A microsecond field of a second or more, as fuzzed captures hold (tshark reads them): kept as it was.
    writer.write({ tsSec: 2, tsFrac: 0xffea9138, data });
    writer.close();
    writer.close();
    assertSameRecords(
      readAll(file).records,
      [
        { tsSec: 1, tsFrac: 999_999, caplen: 60, origLen: 60, data },
        { tsSec: 2, tsFrac: 0xffea9138, caplen: 60, origLen: 60, data },
      ],
      'the valid records',
    );
    assert.throws(
      () => PcapWriter.open(join(dir, 'no', 'such', 'dir.pcap'), { linkType: DLT_EN10MB, precision: 'micro' }),
      /dir\.pcap: cannot create the capture file .*directory exists/,
    );
  }),
);

test(
  'a FIFO is opened and read once, at the precision its header says',
  withDir(async (dir) => {
    const file = join(dir, 'a.pcap');
    const records = sampleRecords(20, 'micro');
    writeCapture(file, records, 'micro');
    const fifo = join(dir, 'fifo');
    const mkfifo = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
    assert.equal(mkfifo.status, 0, mkfifo.stderr);
    const feeder = spawn('sh', ['-c', 'cat "$1" > "$2"', 'feed', file, fifo], { stdio: 'ignore' });
    const fed = new Promise<number | null>((done) => feeder.on('exit', done));
    const { reader, records: back } = readAll(fifo);
    assert.equal(await fed, 0);
    assert.equal(reader.precision, 'micro');
    assertSameRecords(back, records, 'through a FIFO');
  }),
);

test('pcapng (as editcap writes it) is read at nanosecond precision; cut short, it is a truncation error', (t) => {
  if (!requireTool(t, 'editcap')) return;
  return withDir((dir) => {
    for (const precision of ['micro', 'nano'] as const) {
      const pcap = join(dir, `${precision}.pcap`);
      const ng = join(dir, `${precision}.pcapng`);
      const records = sampleRecords(40, precision);
      writeCapture(pcap, records, precision);
      const converted = spawnSync('editcap', ['-F', 'pcapng', pcap, ng], { encoding: 'utf8' });
      assert.equal(converted.status, 0, converted.stderr);
      assert.equal(readFileSync(ng).readUInt32LE(0), 0x0a0d0d0a, 'a pcapng Section Header Block');
      const { reader, records: back } = readAll(ng);
      assert.equal(reader.precision, 'nano');
      assert.equal(reader.linkType, DLT_EN10MB);
      const scale = precision === 'micro' ? 1000 : 1;
      assertSameRecords(
        back,
        records.map((r) => ({ ...r, tsFrac: r.tsFrac * scale })),
        `pcapng from a ${precision} pcap`,
      );

      const cut = join(dir, `${precision}-cut.pcapng`);
      writeFileSync(cut, readFileSync(ng).subarray(0, statSync(ng).size - 9));
      assert.throws(
        () => readAll(cut),
        /cut\.pcapng: truncated capture: the file ends inside frame \d+, after \d+ whole frames \(inside a block \(\d+ of \d+ bytes\)\)/,
      );
    }
  })();
});

test('pcapng whose interfaces have different snapshot lengths (mergecap -F pcapng) reads every frame', (t) => {
  if (!requireTool(t, 'mergecap')) return;
  return withDir((dir) => {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    const first = sampleRecords(30, 'micro').filter((r) => r.caplen <= 1000 && r.tsSec < 2 ** 31);
    const second = first.map((r) => ({ ...r, tsSec: r.tsSec + 100_000 }));
    writeCapture(a, first, 'micro');
    const w = PcapWriter.open(b, { linkType: DLT_EN10MB, precision: 'micro', snaplen: 1000 });
    for (const r of second) w.write(r);
    w.close();
    const merged = join(dir, 'merged.pcapng');
    const r = spawnSync('mergecap', ['-F', 'pcapng', '-w', merged, a, b], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const info = spawnSync('capinfos', [merged], { encoding: 'utf8' });
    assert.match(info.stdout, /Number of interfaces in file: 2/, 'two interface descriptions: the case libpcap refuses');
    const { reader, records } = readAll(merged);
    assert.equal(reader.linkType, DLT_EN10MB);
    // mergecap interleaves by time; frames with equal times may come in either order.
    const order = (x: PcapRecord, y: PcapRecord) => x.tsSec - y.tsSec || x.tsFrac - y.tsFrac || x.caplen - y.caplen || Buffer.compare(x.data, y.data);
    assertSameRecords([...records].sort(order), [...first, ...second].map((x) => ({ ...x, tsFrac: x.tsFrac * 1000 })).sort(order), 'merged');
  })();
});

test('pcapng timestamps in every resolution, offset and byte order read as tshark reads them; past 2106 too', (t) => {
  if (!requireTool(t, 'tshark')) return;
  return withDir((dir) => {
    const frame = (n: number) => Buffer.alloc(60 + n, n);
    const blocks = [
      { kind: 'interface' as const },
      { kind: 'interface' as const, spec: { tsresol: 9, snaplen: 0 } },
      { kind: 'interface' as const, spec: { tsresol: 0x80 | 10, snaplen: 100 } },
      { kind: 'interface' as const, spec: { tsoffset: 1_000_000n } },
      { kind: 'other' as const, type: 4, body: Buffer.alloc(8) }, // a name resolution block: not a frame
      { kind: 'epb' as const, iface: 0, timestamp: 1_700_000_000_123_456n, data: frame(1) },
      { kind: 'epb' as const, iface: 1, timestamp: 1_700_000_000_123_456_789n, data: frame(2), origLen: 1500 },
      { kind: 'epb' as const, iface: 2, timestamp: 1_700_000_000n * 1024n + 512n, data: frame(3) },
      { kind: 'epb' as const, iface: 3, timestamp: 5_000_007n, data: frame(4) },
      // 2^32 + 5 seconds: 2106-02-07T06:28:21Z, which no pcap file can hold.
      { kind: 'epb' as const, iface: 0, timestamp: (2n ** 32n + 5n) * 1_000_000n + 1n, data: frame(5) },
      { kind: 'spb' as const, data: frame(6) },
    ];
    for (const littleEndian of [true, false]) {
      const file = join(dir, `t-${littleEndian}.pcapng`);
      writeFileSync(file, pcapng(blocks, littleEndian));
      const { records } = readAll(file);
      assert.deepEqual(
        records.map((r) => [r.data[0], r.caplen, r.origLen]),
        [
          [1, 61, 61],
          [2, 62, 1500],
          [3, 63, 63],
          [4, 64, 64],
          [5, 65, 65],
          [6, 66, 66],
        ],
      );
      const ours = records.map((r) => `${r.tsSec}.${String(r.tsFrac).padStart(9, '0')}`);
      assert.deepEqual(ours.slice(0, 5), ['1700000000.123456000', '1700000000.123456789', '1700000000.500000000', '1000005.000007000', '4294967301.000001000']);
      const shark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
      assert.equal(shark.status, 0, shark.stderr);
      assert.deepEqual(shark.stdout.trim().split('\n'), ours.slice(0, 5), `tshark agrees (${littleEndian ? 'little' : 'big'}-endian)`);
      // A simple packet block has no timestamp (tshark shows none): the reader gives 0.
      assert.equal(ours[5], '0.000000000');
    }
  })();
});

test(
  'a pcap record with an out-of-range microsecond field (ts_usec 0xFFEA9138) is read as it is, not refused',
  withDir((dir) => {
    const file = join(dir, 'usec.pcap');
    const records = sampleRecords(3, 'micro').slice(3, 6);
    writeCapture(file, records, 'micro');
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(0xffea9138, 24 + 4);
    writeFileSync(file, bytes);
    const { records: back } = readAll(file);
    assertSameRecords(back, [{ ...records[0]!, tsFrac: 0xffea9138 }, ...records.slice(1)], 'raw fields');
    // Written back, the file is the same bytes: nothing lost, nothing invented.
    const again = join(dir, 'again.pcap');
    writeCapture(again, back, 'micro');
    assert.ok(readFileSync(again).equals(bytes));
  }),
);

test(
  'big-endian pcap files read like little-endian ones',
  withDir((dir) => {
    const records = sampleRecords(5, 'nano').slice(3, 8);
    const le = join(dir, 'le.pcap');
    writeCapture(le, records, 'nano');
    const src = readFileSync(le);
    // Swap every 32-bit header field: the file header's, then each record header's.
    const swapped = Buffer.from(src);
    const swap32 = (at: number) => swapped.writeUInt32BE(src.readUInt32LE(at), at);
    const swap16 = (at: number) => swapped.writeUInt16BE(src.readUInt16LE(at), at);
    swap32(0);
    swap16(4);
    swap16(6);
    swap32(8);
    swap32(12);
    swap32(16);
    swap32(20);
    for (let at = 24; at < src.length; at += 16 + src.readUInt32LE(at + 8)) for (const f of [0, 4, 8, 12]) swap32(at + f);
    const be = join(dir, 'be.pcap');
    writeFileSync(be, swapped);
    const { reader, records: back } = readAll(be);
    assert.equal(reader.precision, 'nano');
    assertSameRecords(back, records, 'big-endian');
  }),
);

test('pcapng sections in different byte orders (cat LE.pcapng BE.pcapng LE.pcapng) read every frame, as tshark reads them', (t) => {
  if (!requireTool(t, 'tshark') || !requireTool(t, 'editcap')) return;
  return withDir((dir) => {
    // The first section as editcap writes it (little-endian on this machine, with its own options), then a
    // big-endian section and a little-endian one built byte by byte, each with interfaces of its own.
    const pcap = join(dir, 'first.pcap');
    const first = sampleRecords(4, 'micro').slice(3, 5);
    writeCapture(pcap, first, 'micro');
    const editcapped = join(dir, 'first.pcapng');
    const converted = spawnSync('editcap', ['-F', 'pcapng', pcap, editcapped], { encoding: 'utf8' });
    assert.equal(converted.status, 0, converted.stderr);
    const bigEndian = pcapng(
      [
        { kind: 'interface', spec: { tsresol: 9 } },
        { kind: 'interface', spec: { tsoffset: 100n } },
        { kind: 'epb', iface: 1, timestamp: 7_000_001n, data: Buffer.alloc(70, 0xbe) },
        { kind: 'epb', iface: 0, timestamp: 1_700_000_002_000_000_003n, data: Buffer.alloc(71, 0xbf), origLen: 1500 },
      ],
      false,
    );
    assert.equal(bigEndian.readUInt32BE(8), 0x1a2b3c4d, 'the second section is big-endian');
    const littleEndian = pcapng([{ kind: 'interface' }, { kind: 'epb', timestamp: 1_700_000_003_000_004n, data: Buffer.alloc(72, 0x1e) }], true);
    const file = join(dir, 'sections.pcapng');
    writeFileSync(file, Buffer.concat([readFileSync(editcapped), bigEndian, littleEndian]));

    const { reader, records } = readAll(file);
    assert.equal(reader.linkType, DLT_EN10MB);
    assert.deepEqual(
      records.map((r) => [r.data[0], r.caplen, r.origLen]),
      [...first.map((r) => [r.data[0], r.caplen, r.origLen]), [0xbe, 70, 70], [0xbf, 71, 1500], [0x1e, 72, 72]],
    );
    assertSameRecords(
      records.slice(0, 2),
      first.map((r) => ({ ...r, tsFrac: r.tsFrac * 1000 })),
      'the editcap section',
    );
    const ours = records.map((r) => `${r.tsSec}.${String(r.tsFrac).padStart(9, '0')}`);
    assert.deepEqual(ours.slice(2), ['107.000001000', '1700000002.000000003', '1700000003.000004000']);
    const shark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len'], { encoding: 'utf8' });
    assert.equal(shark.status, 0, shark.stderr);
    assert.deepEqual(
      shark.stdout.trim().split('\n'),
      records.map((r, i) => `${ours[i]}\t${r.caplen}`),
      'tshark reads the same frames at the same times',
    );
  })();
});

test(
  'a pcapng section header whose byte-order magic is neither order is damage, named with the whole frames before it',
  withDir((dir) => {
    const one = pcapng([{ kind: 'interface' }, { kind: 'epb', timestamp: 1n, data: Buffer.alloc(60, 1) }]);
    const bad = Buffer.from(one);
    bad.writeUInt32LE(0x12345678, 8);
    const file = join(dir, 'bad-second.pcapng');
    writeFileSync(file, Buffer.concat([one, bad]));
    assert.throws(
      () => readAll(file),
      (err: unknown) =>
        err instanceof CaptureError &&
        /bad-second\.pcapng: damaged pcapng section header at byte \d+ \(byte-order magic 0x12345678\); check it with capinfos, or keep the 1 whole frames with editcap -r \S+ OUT 1-1$/.test(
          err.message,
        ),
    );
  }),
);

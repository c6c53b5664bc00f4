// Property tests (fast-check) of what users feed in: any config text gives a config or ConfigError lines; any capture bytes give frames or one CaptureError line.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { CaptureError, PcapReader, type PcapRecord, PcapWriter, type TimestampPrecision } from '../../src/replay/pcap.ts';
import { type PcapngBlockSpec, pcapng } from '../lib/pcapng.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-fuzz-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A ConfigError is the only failure allowed, and each of its lines names the source. */
function assertConfigOutcome(run: () => unknown, source: string): void {
  try {
    const cfg = run();
    assert.equal(typeof cfg, 'object');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError (a bug): ${err instanceof Error ? err.stack : String(err)}`);
    for (const line of err.message.split('\n'))
      assert.ok(line.startsWith(`${source}: `) && line.length > source.length + 2, `a line naming ${source}: ${line}`);
  }
}

const KEYS = [
  'interfaces',
  'vxlanPorts',
  'genevePorts',
  'decapPrefixes',
  'excludePrefixes',
  'maps',
  'trackFlows',
  'flowIdleTimeoutSeconds',
  'metrics',
  'name',
  'mode',
  'vniCapacity',
  'flowCapacity',
  'endpoint',
  'headers',
];
/** Values shaped like configs: the real keys with any values, nested. */
const configLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    fc.constantFrom('10.0.0.0/8', '2001:db8::/32', 'eth0', 'native', 'http://x:4318'),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 5 }),
})).object;

/** YAML pieces whose joins give anchors, aliases, tags, flow and block collections, and broken syntax. */
const yamlText = fc
  .array(
    fc.constantFrom(
      'a: &x [1, 2]\n',
      'b: *x\n',
      'c: [*x, *x, *x]\n',
      '&y ',
      '*y ',
      '- ',
      '  ',
      '{',
      '}',
      '[',
      ']',
      ', ',
      ': ',
      '? ',
      '!!binary ',
      '!!str ',
      '%YAML 1.2\n---\n',
      '...\n',
      'interfaces:\n',
      '  - name: eth0\n',
      'vxlanPorts: ',
      '4789',
      '"',
      "'",
      '\t',
      '# c\n',
      '\n',
      '<<: *x\n',
      'excludePrefixes: [10.0.0.0/8]\n',
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

test('config loader: any text, YAML or JSON, gives a config or ConfigError lines naming the file, never another exception', () =>
  withDir(async (dir) => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          yamlText,
          configLike.map((v) => toYaml(v)),
          configLike.map((v) => JSON.stringify(v)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.constantFrom('.yaml', '.json', '.conf'),
        async (text, ext) => {
          const file = join(dir, `c${n++}${ext}`);
          writeFileSync(file, text);
          let outcome: unknown;
          try {
            outcome = await loadConfigFile(file);
          } catch (err) {
            outcome = err;
          }
          assertConfigOutcome(() => {
            if (outcome instanceof Error) throw outcome;
            return outcome;
          }, file);
        },
      ),
      { numRuns: RUNS },
    );
  }));

test('config validation: any value (as a parsed file can hold) gives a config or ConfigError lines', () => {
  fc.assert(
    fc.property(fc.oneof(fc.anything(), configLike), (value) => assertConfigOutcome(() => parseConfig(value, 'cfg.yaml'), 'cfg.yaml')),
    { numRuns: RUNS * 3 },
  );
});

const record = (precision: TimestampPrecision) =>
  fc
    .record({
      tsSec: fc.nat({ max: 2 ** 32 - 1 }),
      tsFrac: fc.nat({ max: precision === 'micro' ? 999_999 : 999_999_999 }),
      data: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      extra: fc.nat({ max: 3 }),
    })
    .map((r): PcapRecord => ({ tsSec: r.tsSec, tsFrac: r.tsFrac, data: r.data, caplen: r.data.length, origLen: r.data.length + r.extra }));

function pcapBytes(dir: string, records: readonly PcapRecord[], precision: TimestampPrecision): Buffer {
  const file = join(dir, 'gen.pcap');
  const w = PcapWriter.open(file, { linkType: 1, precision });
  for (const r of records) w.write(r);
  w.close();
  return readFileSync(file);
}

const pcapngBlocks = fc.array(
  fc.oneof(
    fc
      .record({
        tsresol: fc.constantFrom(undefined, 6, 9, 0x80 | 10, 0, 19),
        snaplen: fc.constantFrom(0, 64, 262144),
        tsoffset: fc.constantFrom(undefined, 0n, -5n, 1000n),
      })
      .map((spec): PcapngBlockSpec => ({ kind: 'interface', spec: Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) })),
    fc
      .record({ iface: fc.nat({ max: 2 }), timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), data: fc.uint8Array({ maxLength: 120 }) })
      .map((b): PcapngBlockSpec => ({ kind: 'epb', iface: b.iface, timestamp: b.timestamp, data: Buffer.from(b.data) })),
    fc.uint8Array({ maxLength: 80 }).map((d): PcapngBlockSpec => ({ kind: 'spb', data: Buffer.from(d) })),
    fc
      .record({ type: fc.constantFrom(4, 5, 10, 0xbad), body: fc.uint8Array({ maxLength: 40 }) })
      .map((b): PcapngBlockSpec => ({ kind: 'other', type: b.type, body: Buffer.from(b.body) })),
  ),
  { maxLength: 12 },
);

/** Damage: overwrite bytes, cut the end off, insert junk, or nothing. */
const damage = fc.oneof(
  fc.constant((b: Buffer) => b),
  fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }).map(({ at, bytes }) => (b: Buffer) => {
    const out = Buffer.from(b);
    if (out.length) Buffer.from(bytes).copy(out, at % out.length);
    return out;
  }),
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, b.length ? n % b.length : 0)),
  fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map(({ at, bytes }) => (b: Buffer) => {
    const i = b.length ? at % b.length : 0;
    return Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
  }),
);

test('capture reader: any pcap or pcapng bytes, damaged or not, give frames or one CaptureError line; never another exception', () =>
  withDir(async (dir) => {
    const file = join(dir, 'fuzz.cap');
    const source = fc.oneof(
      fc
        .tuple(fc.constantFrom<TimestampPrecision>('micro', 'nano'), fc.array(record('micro'), { maxLength: 8 }))
        .map(([precision, records]) => pcapBytes(dir, records, precision)),
      fc.tuple(pcapngBlocks, fc.boolean()).map(([blocks, le]) => pcapng([{ kind: 'interface' }, ...blocks], le)),
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(source, fc.array(damage, { maxLength: 3 }), (bytes, harms) => {
        writeFileSync(
          file,
          harms.reduce((b, harm) => harm(b), bytes),
        );
        let reader: PcapReader | undefined;
        try {
          reader = PcapReader.open(file);
          for (let r = reader.next(); r; r = reader.next()) {
            assert.equal(r.data.length, r.caplen);
            assert.ok(r.origLen >= r.caplen && Number.isInteger(r.tsSec) && Number.isInteger(r.tsFrac) && r.tsFrac >= 0);
          }
        } catch (err) {
          if (!(err instanceof CaptureError)) throw new Error(`not a CaptureError (a bug): ${err instanceof Error ? err.stack : String(err)}`);
          assert.ok(err.message.startsWith(`${file}: `) && !err.message.includes('\n'), err.message);
        } finally {
          reader?.close();
        }
      }),
      { numRuns: RUNS * 3 },
    );
  }));

test('pcap round trip: any frames written are read back exactly, in both precisions, by next() and nextView()', () =>
  withDir(async (dir) => {
    fc.assert(
      fc.property(fc.constantFrom<TimestampPrecision>('micro', 'nano'), fc.array(record('nano'), { maxLength: 20 }), (precision, raw) => {
        const records = raw.map((r) => ({ ...r, tsFrac: precision === 'micro' ? r.tsFrac % 1_000_000 : r.tsFrac }));
        const file = join(dir, 'rt.pcap');
        writeFileSync(file, pcapBytes(dir, records, precision));
        const reader = PcapReader.open(file);
        assert.deepEqual([...reader], records);
        // nextView: the same frames, each valid until the next call (copied here before it).
        const viewer = PcapReader.open(file);
        const viewed: PcapRecord[] = [];
        for (let r = viewer.nextView(); r; r = viewer.nextView()) viewed.push({ ...r, data: Buffer.from(r.data) });
        viewer.close();
        assert.deepEqual(viewed, records);
      }),
      { numRuns: RUNS },
    );
  }));

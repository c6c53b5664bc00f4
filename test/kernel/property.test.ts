// Property test: thousands of random and mutated frames through the real program, judged by the TypeScript oracle.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OUTCOMES, type Outcome } from '../../src/decode/layout.ts';
import { DEFAULT_TUNNELS, tunnelSettingsOf } from '../../src/decode/tunnel-types.ts';
import { parsePrefix } from '../../src/config/prefixes.ts';
import { geneveFrame, innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { IS_ROOT, requireRoot } from '../lib/env.ts';
import { ProgramUnderTest, XDP_PASS } from '../lib/program.ts';
import { referenceDecap, type ReferenceSettings } from '../lib/reference-decap.ts';

const SETTINGS = {
  ...DEFAULT_TUNNELS,
  vxlanPorts: [4789, 8472],
  genevePorts: [6081],
  decapPrefixes: ['10.1.0.0/16', 'fd00::/16'],
  excludePrefixes: ['10.1.9.0/24', 'fd00:9::/32'],
  trackFlows: true,
};
const toRef = (list: string[]) => list.map((p) => {
  const x = parsePrefix(p);
  return [x.family, x.bytes, x.prefixLen] as [4 | 6, Uint8Array, number];
});
const REFERENCE: ReferenceSettings = {
  ...tunnelSettingsOf(SETTINGS),
  decapPrefixes: toRef(SETTINGS.decapPrefixes),
  excludePrefixes: toRef(SETTINGS.excludePrefixes),
};

const v4 = fc.constantFrom('10.1.0.1', '10.1.0.2', '10.1.3.3', '10.1.200.1', '10.1.9.7', '10.2.0.1');
const v6 = fc.constantFrom('fd00::1', 'fd00::2', 'fd00:1::3', 'fd00:77::1', 'fd00:9::5', '2001:db8::1');
const vlans = fc.array(fc.record({ tpid: fc.constantFrom(0x8100 as const, 0x88a8 as const), vid: fc.integer({ min: 0, max: 4095 }) }), { maxLength: 3, depthIdentifier: 'vlans' }).map((tags) => (tags.length === 3 && tags[0]!.vid % 2 ? tags : tags.slice(0, 2)));

/** Well-formed tunnel frames of every shape the program handles. */
const tunnelFrame = fc
  .record({
    kind: fc.constantFrom('vxlan', 'geneve'),
    family: fc.constantFrom(4, 6),
    v4src: v4, v4dst: v4, v6src: v6, v6dst: v6,
    vni: fc.integer({ min: 0, max: 0xffffff }),
    vlans,
    portChoice: fc.integer({ min: 0, max: 5 }),
    options: fc.integer({ min: 0, max: 20 }).map((n) => Buffer.alloc(n * 4, 7)),
    ipOptions: fc.integer({ min: 0, max: 10 }).map((n) => Buffer.alloc(n * 4, 1)),
    innerV6: fc.boolean(),
    proto: fc.constantFrom('udp' as const, 'tcp' as const, 'icmp' as const),
    size: fc.integer({ min: 0, max: 1400 }),
  })
  .map((r) => {
    const inner = innerFrame({ src: r.innerV6 ? 'fd10::1' : '172.16.0.1', dst: r.innerV6 ? 'fd10::2' : '172.16.0.2', protocol: r.proto, payloadSize: r.size });
    const outer = r.family === 4 ? { outerSrc: r.v4src, outerDst: r.v4dst, ipv4Options: r.ipOptions } : { outerSrc: r.v6src, outerDst: r.v6dst };
    // Mostly the tunnel's own port; sometimes the other tunnel's, sometimes not a tunnel port at all.
    const dport = r.portChoice === 5 ? 53 : r.portChoice === 4 ? (r.kind === 'vxlan' ? 6081 : 4789) : r.kind === 'geneve' ? 6081 : r.portChoice === 3 ? 8472 : 4789;
    const base = { ...outer, vni: r.vni, inner, vlans: r.vlans, dport };
    return (r.kind === 'vxlan' ? vxlanFrame(base) : geneveFrame({ ...base, options: r.options })).frame;
  });

/** Mutations: truncation, byte flips in the headers, random bytes. Frames stay >= 14 bytes (test-run minimum). */
const mutated = fc.oneof(
  tunnelFrame,
  fc.tuple(tunnelFrame, fc.integer({ min: 14, max: 400 })).map(([f, n]) => f.subarray(0, Math.min(n, f.length))),
  fc.tuple(tunnelFrame, fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([f, flips]) => {
    const copy = Buffer.from(f);
    for (const [at, value] of flips) if (at < copy.length) copy[at] = value;
    return copy;
  }),
  fc.uint8Array({ minLength: 14, maxLength: 300 }).map((a) => Buffer.from(a)),
);

describe('property: random and mutated frames (real program vs oracle)', { skip: !IS_ROOT && !process.env['CI'] ? 'needs root (BPF); runs in CI' : false }, () => {
  test('every frame: XDP_PASS; untouched unless decapsulated; decapsulated = input tail from the inner Ethernet header; counters add up', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const prog = new ProgramUnderTest(SETTINGS, { vniCapacity: 65536, flowCapacity: 65536 });
    const expected = new Map<Outcome, number>(OUTCOMES.map((o) => [o, 0]));
    let runs = 0;
    let decapsulated = 0;
    try {
      fc.assert(
        fc.property(mutated, (frame) => {
          const verdict = referenceDecap(frame, REFERENCE);
          const { retval, dataOut } = prog.program.program.testRun(frame);
          runs++;
          expected.set(verdict.outcome, (expected.get(verdict.outcome) ?? 0) + 1);
          assert.equal(retval, XDP_PASS);
          if (verdict.outcome === 'decapsulated') {
            decapsulated++;
            assert.ok(dataOut.equals(frame.subarray(verdict.overhead)), `decapsulated frame must be the input from byte ${verdict.overhead}`);
          } else {
            assert.ok(dataOut.equals(frame), `a ${verdict.outcome} frame must pass byte for byte`);
          }
        }),
        { numRuns: 4000, seed: Number(process.env['PROPERTY_SEED'] ?? 20261123) },
      );
      const counted = new Map<Outcome, number>(OUTCOMES.map((o) => [o, 0]));
      for (const o of prog.program.readCounters().outcomes) counted.set(o.outcome, (counted.get(o.outcome) ?? 0) + o.packets);
      // Same verdict per frame, so the per-reason totals agree and sum to the frames run.
      assert.deepEqual(Object.fromEntries(counted), Object.fromEntries(expected));
      assert.equal([...counted.values()].reduce((a, b) => a + b, 0), runs);
      assert.ok(decapsulated > runs / 6, `the generators must reach decap often enough (${decapsulated}/${runs})`);
      for (const o of OUTCOMES.filter((x) => x !== 'adjust_failed')) assert.ok((expected.get(o) ?? 0) > 0, `generators reach outcome ${o}`);
    } finally {
      prog.close();
    }
  });
});

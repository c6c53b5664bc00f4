// Property test: thousands of random and mutated frames (every tunnel type, nesting, IPv6 extension headers) through the real program, judged by the TypeScript oracle.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parsePrefix } from '../../src/config/prefixes.ts';
import { OUTCOMES, type Outcome } from '../../src/decode/layout.ts';
import { DEFAULT_TUNNELS, tunnelSettingsOf } from '../../src/decode/tunnel-types.ts';
import {
  ETHERTYPE,
  encapsulate,
  GPE_NEXT,
  GRE_PROTOCOL,
  geneveFrame,
  IPPROTO,
  type Ipv6Extension,
  innerFrame,
  ipv6Fragment,
  type OuterOptions,
  type TunnelFrame,
  type TunnelSpec,
  type VlanTag,
  vxlanFrame,
} from '../../src/testbed/packets.ts';
import { IS_ROOT, requireRoot } from '../lib/env.ts';
import { ProgramUnderTest, XDP_PASS } from '../lib/program.ts';
import { type ReferenceSettings, referenceDecap } from '../lib/reference-decap.ts';

const SETTINGS = {
  ...DEFAULT_TUNNELS,
  vxlanPorts: [4789, 8472],
  genevePorts: [6081],
  decapPrefixes: ['10.1.0.0/16', 'fd00::/16'],
  excludePrefixes: ['10.1.9.0/24', 'fd00:9::/32'],
  trackFlows: true,
};
const toRef = (list: readonly string[]) =>
  list.map((p) => {
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
const vlans = fc
  .array(fc.record({ tpid: fc.constantFrom(0x8100 as const, 0x88a8 as const), vid: fc.integer({ min: 0, max: 4095 }) }), {
    maxLength: 3,
    depthIdentifier: 'vlans',
  })
  .map((tags) => (tags.length === 3 && tags[0]!.vid % 2 ? tags : tags.slice(0, 2)));

/** Well-formed tunnel frames of every shape the program handles. */
const tunnelFrame = fc
  .record({
    kind: fc.constantFrom('vxlan', 'geneve'),
    family: fc.constantFrom(4, 6),
    v4src: v4,
    v4dst: v4,
    v6src: v6,
    v6dst: v6,
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
    const dport =
      r.portChoice === 5 ? 53 : r.portChoice === 4 ? (r.kind === 'vxlan' ? 6081 : 4789) : r.kind === 'geneve' ? 6081 : r.portChoice === 3 ? 8472 : 4789;
    const base = { ...outer, vni: r.vni, inner, vlans: r.vlans, dport };
    return (r.kind === 'vxlan' ? vxlanFrame(base) : geneveFrame({ ...base, options: r.options })).frame;
  });

/** One tunnel level of any type: mostly well-formed, sometimes with a bad version, protocol or flag. */
const tunnelSpec: fc.Arbitrary<TunnelSpec> = fc.oneof(
  fc.record({ type: fc.constant('vxlan' as const), vni: fc.integer({ min: 0, max: 0xffffff }) }),
  fc.record({
    type: fc.constant('geneve' as const),
    vni: fc.integer({ min: 0, max: 0xffffff }),
    protocolType: fc.constantFrom(ETHERTYPE.teb, ETHERTYPE.teb, ETHERTYPE.ipv4, ETHERTYPE.ipv6),
    options: fc.integer({ min: 0, max: 6 }).map((n) => Buffer.alloc(n * 4, 7)),
  }),
  fc.record({
    type: fc.constant('vxlan-gpe' as const),
    vni: fc.integer({ min: 0, max: 0xffffff }),
    nextProtocol: fc.constantFrom(GPE_NEXT.ethernet, GPE_NEXT.ethernet, GPE_NEXT.ipv4, GPE_NEXT.ipv6, GPE_NEXT.nsh),
    flags: fc.constantFrom(0x0c, 0x0c, 0x0c, 0x0d, 0x1c, 0x08),
  }),
  fc.record({
    type: fc.constant('gre' as const),
    key: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    checksum: fc.boolean(),
    seq: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    protocol: fc.constantFrom(GRE_PROTOCOL.teb, GRE_PROTOCOL.teb, GRE_PROTOCOL.teb, GRE_PROTOCOL.ipv4, GRE_PROTOCOL.mpls),
    version: fc.constantFrom(0, 0, 0, 0, 1),
    routing: fc.constantFrom(false, false, false, false, true),
  }),
  fc.record({
    type: fc.constant('erspan' as const),
    erspanType: fc.constantFrom(1 as const, 2 as const, 3 as const),
    sessionId: fc.integer({ min: 0, max: 1023 }),
    version: fc.constantFrom(undefined, undefined, undefined, undefined, 0, 1, 2, 3),
    frameType: fc.constantFrom(0, 0, 0, 0, 2),
    subheader: fc.option(fc.constant(Buffer.from('0800000000000001', 'hex')), { nil: undefined }),
    key: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  }),
);

/** IPv6 extension header chains: walked ones, first/later/atomic fragments, sometimes a refused one or five. */
const ipv6Extensions: fc.Arbitrary<Ipv6Extension[]> = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom<Ipv6Extension>(
          { type: IPPROTO.hopopts },
          { type: IPPROTO.dstopts, body: Buffer.alloc(14) },
          { type: IPPROTO.routing, body: Buffer.alloc(22) },
        ),
      },
      { weight: 2, arbitrary: fc.record({ offset: fc.constantFrom(0, 0, 0, 5), more: fc.boolean() }).map((f) => ipv6Fragment(f)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Ipv6Extension>({ type: IPPROTO.ah }, { type: IPPROTO.mobility }, { type: IPPROTO.hip }, { type: IPPROTO.shim6 }),
      },
    ),
    { maxLength: 5 },
  )
  .map((exts) => (exts.length > 2 && exts[0]!.type !== IPPROTO.hopopts ? exts.slice(0, 2) : exts));

/** An outer frame for one level; the outermost level may also carry VLAN tags, IPv4 options, the MF bit. */
const outerOf = (outermost: boolean) =>
  fc
    .record({
      family: fc.constantFrom(4, 6),
      v4src: v4,
      v4dst: v4,
      v6src: v6,
      v6dst: v6,
      vlans: outermost ? vlans : fc.constant<VlanTag[]>([]),
      ipOptions: fc.integer({ min: 0, max: 4 }).map((n) => Buffer.alloc(n * 4, 1)),
      exts: fc.oneof({ weight: 3, arbitrary: fc.constant<Ipv6Extension[]>([]) }, { weight: 2, arbitrary: ipv6Extensions }),
      moreFragments: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
    })
    .map(
      (r): OuterOptions =>
        r.family === 4
          ? { outerSrc: r.v4src, outerDst: r.v4dst, vlans: r.vlans, ipv4Options: r.ipOptions, moreFragments: r.moreFragments }
          : { outerSrc: r.v6src, outerDst: r.v6dst, vlans: r.vlans, ipv6Extensions: r.exts },
    );

/** New shapes: 1 to 4 levels of any tunnel type, innermost first, each in its own outer frame. */
const newTunnelFrame = fc
  .record({
    levels: fc.array(fc.tuple(tunnelSpec, outerOf(false)), { minLength: 1, maxLength: 4 }),
    outermost: outerOf(true),
    innerV6: fc.boolean(),
    proto: fc.constantFrom('udp' as const, 'tcp' as const, 'icmp' as const),
    size: fc.integer({ min: 0, max: 600 }),
  })
  .map((r) => {
    const first: Buffer = innerFrame({
      src: r.innerV6 ? 'fd10::1' : '172.16.0.1',
      dst: r.innerV6 ? 'fd10::2' : '172.16.0.2',
      protocol: r.proto,
      payloadSize: r.size,
    });
    let t: TunnelFrame | undefined;
    r.levels.forEach(([tunnel, outer], i) => {
      t = encapsulate({ ...(i === r.levels.length - 1 ? r.outermost : outer), tunnel, inner: t ?? first });
    });
    return t!.frame;
  });

/** Every shape, old and new. */
const anyTunnelFrame = fc.oneof(tunnelFrame, newTunnelFrame, newTunnelFrame);

/** Mutations: truncation, byte flips in the headers, random bytes. Frames stay >= 14 bytes (test-run minimum). */
const mutated = fc.oneof(
  anyTunnelFrame,
  fc.tuple(anyTunnelFrame, fc.integer({ min: 14, max: 600 })).map(([f, n]) => f.subarray(0, Math.min(n, f.length))),
  fc
    .tuple(anyTunnelFrame, fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
    .map(([f, flips]) => {
      const copy = Buffer.from(f);
      for (const [at, value] of flips) if (at < copy.length) copy[at] = value;
      return copy;
    }),
  fc.uint8Array({ minLength: 14, maxLength: 300 }).map((a) => Buffer.from(a)),
);

describe('property: random and mutated frames (real program vs oracle)', { skip: !IS_ROOT && !process.env.CI ? 'needs root (BPF); runs in CI' : false }, () => {
  test('every frame: XDP_PASS; untouched unless decapsulated; decapsulated = input tail from the inner Ethernet header; counters add up', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const prog = new ProgramUnderTest(SETTINGS, { vniCapacity: 65536, flowCapacity: 65536 });
    const expected = new Map<Outcome, number>(OUTCOMES.map((o) => [o, 0]));
    let runs = 0;
    let decapsulated = 0;
    const depths = [0, 0, 0, 0];
    /** Oracle's totals per innermost type/segment id, to compare with the kernel's per-type counters. */
    const perKey = new Map<string, { packets: number; bytes: number; overheadBytes: number }>();
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
            depths[verdict.depth!]!++;
            const key = `${verdict.type}/${verdict.vni}`;
            const sum = perKey.get(key) ?? { packets: 0, bytes: 0, overheadBytes: 0 };
            perKey.set(key, { packets: sum.packets + 1, bytes: sum.bytes + verdict.output!.length, overheadBytes: sum.overheadBytes + verdict.overhead });
            assert.equal(verdict.overhead, frame.length - verdict.output!.length);
            assert.ok(
              Buffer.from(dataOut).equals(verdict.output!),
              `decapsulated frame must be the oracle's output (overhead ${verdict.overhead}, ${verdict.type}/${verdict.vni})\n in  ${frame.toString('hex')}\n got ${Buffer.from(dataOut).toString('hex')}\n exp ${verdict.output!.toString('hex')}`,
            );
          } else {
            assert.ok(
              Buffer.from(dataOut).equals(frame),
              `a ${verdict.outcome} frame must pass byte for byte\n in  ${frame.toString('hex')}\n got ${Buffer.from(dataOut).toString('hex')}`,
            );
          }
        }),
        { numRuns: 4000, seed: Number(process.env.PROPERTY_SEED ?? 20261123) },
      );
      const snapshot = prog.program.readCounters();
      const kernelPerKey = new Map<string, { packets: number; bytes: number; overheadBytes: number }>();
      for (const v of snapshot.vnis) {
        const key = `${v.tunnelType}/${v.vni}`;
        const sum = kernelPerKey.get(key) ?? { packets: 0, bytes: 0, overheadBytes: 0 };
        kernelPerKey.set(key, { packets: sum.packets + v.packets, bytes: sum.bytes + v.bytes, overheadBytes: sum.overheadBytes + v.overheadBytes });
      }
      const sorted = (m: Map<string, unknown>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
      assert.deepEqual(sorted(kernelPerKey), sorted(perKey), 'per type/segment id: packets, bytes and overhead as the oracle says');
      for (const type of ['vxlan', 'geneve', 'vxlan-gpe', 'gre', 'erspan'])
        assert.ok(
          [...perKey.keys()].some((k) => k.startsWith(`${type}/`)),
          `generators reach a decapsulated ${type}`,
        );
      assert.ok(depths[2]! > 0 && depths[3]! > 0, `generators reach nesting (depths ${depths.join(',')})`);
      const counted = new Map<Outcome, number>(OUTCOMES.map((o) => [o, 0]));
      for (const o of snapshot.outcomes) counted.set(o.outcome, (counted.get(o.outcome) ?? 0) + o.packets);
      // Same verdict per frame, so the per-reason totals agree and sum to the frames run.
      assert.deepEqual(Object.fromEntries(counted), Object.fromEntries(expected));
      assert.equal(
        [...counted.values()].reduce((a, b) => a + b, 0),
        runs,
      );
      assert.ok(decapsulated > runs / 6, `the generators must reach decap often enough (${decapsulated}/${runs})`);
      for (const o of OUTCOMES.filter((x) => x !== 'adjust_failed')) assert.ok((expected.get(o) ?? 0) > 0, `generators reach outcome ${o}`);
    } finally {
      prog.close();
    }
  });
});

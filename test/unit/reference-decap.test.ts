// The test oracle (test/lib/reference-decap.ts) against the frame builders' own expectations and hand-counted byte offsets.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_TUNNELS } from '../../src/decode/tunnel-types.ts';
import {
  ETHERTYPE,
  encapsulate,
  ethernet,
  GPE_NEXT,
  GRE_PROTOCOL,
  IPPROTO,
  innerFrame,
  ipv6,
  ipv6Fragment,
  nest,
  type OuterOptions,
  type TunnelFrame,
  type TunnelSpec,
  udp,
} from '../../src/testbed/packets.ts';
import { type ReferenceSettings, referenceDecap } from '../lib/reference-decap.ts';

const S: ReferenceSettings = { ...DEFAULT_TUNNELS, decapPrefixes: [], excludePrefixes: [] };
const V4: OuterOptions = { outerSrc: '10.1.0.1', outerDst: '10.1.0.2', srcMac: '02:aa:00:00:00:01', dstMac: '02:bb:00:00:00:02' };
const V6: OuterOptions = { outerSrc: 'fd00::1', outerDst: 'fd00::2' };
const in4 = innerFrame({ src: '192.168.1.10', dst: '192.168.1.20', protocol: 'tcp', payloadSize: 40 });
const in6 = innerFrame({ src: 'fd10::10', dst: 'fd10::20', protocol: 'udp', payloadSize: 30 });

/** Every single-level shape, with the overhead counted by hand over an IPv4 outer (14 + 20 + ...). */
const SHAPES: Array<{ spec: TunnelSpec; overhead4: number; key: string; inner?: Buffer }> = [
  { spec: { type: 'vxlan', vni: 5 }, overhead4: 14 + 20 + 8 + 8, key: 'vxlan/5' },
  { spec: { type: 'geneve', vni: 6, options: Buffer.alloc(8) }, overhead4: 14 + 20 + 8 + 16, key: 'geneve/6' },
  // IP payloads: the inner Ethernet header is replaced by a written one, so the overhead is the outer headers less 14.
  { spec: { type: 'geneve', vni: 7, protocolType: ETHERTYPE.ipv4 }, overhead4: 14 + 20 + 8 + 8 - 14, key: 'geneve/7' },
  { spec: { type: 'geneve', vni: 8, protocolType: ETHERTYPE.ipv6 }, overhead4: 14 + 20 + 8 + 8 - 14, key: 'geneve/8', inner: in6 },
  { spec: { type: 'vxlan-gpe', vni: 9 }, overhead4: 14 + 20 + 8 + 8, key: 'vxlan-gpe/9' },
  { spec: { type: 'vxlan-gpe', vni: 10, nextProtocol: GPE_NEXT.ipv4 }, overhead4: 14 + 20 + 8 + 8 - 14, key: 'vxlan-gpe/10' },
  { spec: { type: 'vxlan-gpe', vni: 11, nextProtocol: GPE_NEXT.ipv6 }, overhead4: 14 + 20 + 8 + 8 - 14, key: 'vxlan-gpe/11', inner: in6 },
  { spec: { type: 'gre' }, overhead4: 14 + 20 + 4, key: 'gre/0' },
  { spec: { type: 'gre', key: 0xdeadbeef }, overhead4: 14 + 20 + 8, key: `gre/${0xdeadbeef}` },
  { spec: { type: 'gre', key: 7, checksum: true, seq: 9 }, overhead4: 14 + 20 + 16, key: 'gre/7' },
  { spec: { type: 'gre', checksum: true, seq: 9 }, overhead4: 14 + 20 + 12, key: 'gre/0' },
  { spec: { type: 'erspan', erspanType: 1 }, overhead4: 14 + 20 + 4, key: 'erspan/0' },
  { spec: { type: 'erspan', erspanType: 2, sessionId: 1023 }, overhead4: 14 + 20 + 8 + 8, key: 'erspan/1023' },
  { spec: { type: 'erspan', erspanType: 2, sessionId: 5, key: 1 }, overhead4: 14 + 20 + 12 + 8, key: 'erspan/5' },
  { spec: { type: 'erspan', erspanType: 3, sessionId: 77 }, overhead4: 14 + 20 + 8 + 12, key: 'erspan/77' },
  { spec: { type: 'erspan', erspanType: 3, sessionId: 78, subheader: Buffer.alloc(8, 1) }, overhead4: 14 + 20 + 8 + 20, key: 'erspan/78' },
];

const verdictKey = (t: TunnelFrame) => `${t.type}/${t.vni}`;

describe('oracle: one level of every type agrees with the builders', () => {
  for (const { spec, overhead4, key, inner } of SHAPES) {
    for (const [name, outer, extra] of [
      ['IPv4', V4, 0],
      ['IPv6', V6, 20],
    ] as const) {
      test(`${key} over ${name}`, () => {
        const t = encapsulate({ ...outer, tunnel: spec, inner: inner ?? in4 });
        assert.equal(t.overhead, overhead4 + extra, 'builder overhead');
        assert.equal(verdictKey(t), key);
        const v = referenceDecap(t.frame, S);
        assert.deepEqual([v.outcome, v.overhead, `${v.type}/${v.vni}`, v.depth], ['decapsulated', t.overhead, key, 1]);
        assert.ok(v.output!.equals(t.inner), 'output = the builder inner frame');
      });
    }
  }
  test('IP payload: the written Ethernet header is the outermost MACs + the tunnel header EtherType', () => {
    const t = encapsulate({ ...V4, tunnel: { type: 'geneve', vni: 1, protocolType: ETHERTYPE.ipv6 }, inner: in6 });
    const out = referenceDecap(t.frame, S).output!;
    assert.equal(out.subarray(0, 6).toString('hex'), '02bb00000002');
    assert.equal(out.subarray(6, 12).toString('hex'), '02aa00000001');
    assert.equal(out.readUInt16BE(12), 0x86dd);
    assert.ok(out.subarray(14).equals(in6.subarray(14)));
  });
});

describe('oracle: nesting', () => {
  test('VXLAN in Geneve in GRE: 3 levels stripped, counted under the innermost', () => {
    const t = nest({
      ...V4,
      levels: [
        { type: 'vxlan', vni: 3 },
        { type: 'geneve', vni: 2 },
        { type: 'gre', key: 1 },
      ],
      inner: in4,
    });
    const v = referenceDecap(t.frame, S);
    assert.deepEqual([v.outcome, v.type, v.vni, v.depth, v.overhead], ['decapsulated', 'vxlan', 3, 3, t.frame.length - in4.length]);
    assert.ok(v.output!.equals(in4));
  });
  test('a fourth level: too_deep, untouched', () => {
    const t = nest({
      ...V4,
      levels: [
        { type: 'vxlan', vni: 4 },
        { type: 'vxlan', vni: 3 },
        { type: 'erspan', erspanType: 2, sessionId: 2 },
        { type: 'gre', key: 1 },
      ],
      inner: in4,
    });
    assert.deepEqual(referenceDecap(t.frame, S), { outcome: 'too_deep', overhead: 0 });
  });
  test('an inner level that fails a check (VXLAN without I) ends the nesting; the levels above are stripped', () => {
    const t = nest({
      ...V4,
      levels: [
        { type: 'vxlan', vni: 3, flags: 0 },
        { type: 'geneve', vni: 2 },
      ],
      inner: in4,
    });
    const v = referenceDecap(t.frame, S);
    assert.deepEqual([v.outcome, v.type, v.vni, v.depth], ['decapsulated', 'geneve', 2, 1]);
    assert.ok(v.output!.equals(t.frame.subarray(14 + 20 + 8 + 8)));
  });
  test('VXLAN in an IP-payload Geneve: the inner tunnel is parsed from its IP header; the written MACs are the outermost', () => {
    const t = nest({
      ...V4,
      levels: [
        { type: 'vxlan', vni: 3 },
        { type: 'geneve', vni: 2, protocolType: ETHERTYPE.ipv4 },
      ],
      inner: in6,
    });
    const v = referenceDecap(t.frame, S);
    assert.deepEqual([v.outcome, v.type, v.vni, v.depth], ['decapsulated', 'vxlan', 3, 2]);
    assert.ok(v.output!.equals(in6));
    const ip = nest({
      ...V4,
      levels: [
        { type: 'geneve', vni: 3, protocolType: ETHERTYPE.ipv6 },
        { type: 'vxlan', vni: 2 },
      ],
      inner: in6,
    });
    const w = referenceDecap(ip.frame, S);
    assert.ok(w.output!.equals(ip.inner));
    assert.equal(ip.inner.subarray(0, 12).toString('hex'), '02bb0000000202aa00000001', 'outermost MACs');
  });
  test('prefix filters apply to the outermost level only', () => {
    const t = nest({ ...V4, levels: [{ type: 'vxlan', vni: 3 }, { type: 'gre' }], inner: in4 });
    const only = (p: string): [4, Uint8Array, number] => [4, Uint8Array.from(p.split('.').map(Number)), 32];
    assert.equal(referenceDecap(t.frame, { ...S, decapPrefixes: [only('10.1.0.2')] }).depth, 2, 'inner levels to the same address are not re-filtered');
    assert.equal(referenceDecap(t.frame, { ...S, excludePrefixes: [only('10.1.0.1')] }).outcome, 'excluded');
  });
});

describe('oracle: skip reasons', () => {
  const g = (spec: Partial<Extract<TunnelSpec, { type: 'gre' }>>) => encapsulate({ ...V4, tunnel: { type: 'gre', ...spec }, inner: in4 }).frame;
  test('GRE: version 1, other protocols, switch off: not_tunnel; routing bit: unsupported; cut optional fields: truncated', () => {
    assert.equal(referenceDecap(g({ version: 1 }), S).outcome, 'not_tunnel');
    assert.equal(referenceDecap(g({ protocol: GRE_PROTOCOL.ipv4 }), S).outcome, 'not_tunnel');
    assert.equal(referenceDecap(g({}), { ...S, gre: false }).outcome, 'not_tunnel');
    assert.equal(referenceDecap(g({ routing: true }), S).outcome, 'unsupported');
    for (let cut = 34; cut < 34 + 16; cut++)
      assert.equal(referenceDecap(g({ checksum: true, key: 1, seq: 2 }).subarray(0, cut), S).outcome, 'truncated', `cut at ${cut}`);
    assert.equal(referenceDecap(g({ checksum: true, key: 1, seq: 2 }).subarray(0, 34 + 16 + 13), S).outcome, 'truncated', 'inner Ethernet cut');
    assert.equal(referenceDecap(g({ checksum: true, key: 1, seq: 2 }).subarray(0, 34 + 16 + 14), S).outcome, 'decapsulated');
  });
  test('ERSPAN: bad versions malformed, frame type unsupported, switch off not_tunnel, cut subheader truncated', () => {
    const e = (spec: Partial<Extract<TunnelSpec, { type: 'erspan' }>>) =>
      encapsulate({ ...V4, tunnel: { type: 'erspan', erspanType: 2, sessionId: 1, ...spec }, inner: in4 }).frame;
    assert.equal(referenceDecap(e({ version: 2 }), S).outcome, 'malformed');
    assert.equal(referenceDecap(e({ erspanType: 3, version: 1 }), S).outcome, 'malformed');
    assert.equal(referenceDecap(e({ erspanType: 3, frameType: 2 }), S).outcome, 'unsupported');
    assert.equal(referenceDecap(e({}), { ...S, erspan: false }).outcome, 'not_tunnel');
    assert.equal(referenceDecap(e({ erspanType: 3, subheader: Buffer.alloc(8) }).subarray(0, 14 + 20 + 8 + 12 + 7), S).outcome, 'truncated');
  });
  test('GPE: NSH and OAM unsupported, version/I/P malformed, port removed not_tunnel; IP payload shorter than 20: truncated', () => {
    const p = (spec: Partial<Extract<TunnelSpec, { type: 'vxlan-gpe' }>>) =>
      encapsulate({ ...V4, tunnel: { type: 'vxlan-gpe', vni: 1, ...spec }, inner: in4 }).frame;
    assert.equal(referenceDecap(p({ nextProtocol: GPE_NEXT.nsh }), S).outcome, 'unsupported');
    assert.equal(referenceDecap(p({ flags: 0x0d }), S).outcome, 'unsupported');
    for (const flags of [0x1c, 0x04, 0x08]) assert.equal(referenceDecap(p({ flags }), S).outcome, 'malformed');
    assert.equal(referenceDecap(p({}), { ...S, vxlanGpePorts: [] }).outcome, 'not_tunnel');
    assert.equal(referenceDecap(p({ nextProtocol: GPE_NEXT.ipv4 }).subarray(0, 50 + 19), S).outcome, 'truncated');
  });
  test('IPv6 extension headers: walked up to 4; MLD (hop-by-hop + ICMPv6) not_tunnel; AH or a fifth unsupported; first fragments', () => {
    const hbh = { type: IPPROTO.hopopts };
    const dst = { type: IPPROTO.dstopts };
    const rt = { type: IPPROTO.routing, body: Buffer.alloc(14) };
    const x = (ipv6Extensions: NonNullable<OuterOptions['ipv6Extensions']>) =>
      encapsulate({ ...V6, ipv6Extensions, tunnel: { type: 'vxlan', vni: 1 }, inner: in4 });
    const four = x([hbh, rt, dst, ipv6Fragment({ offset: 0, more: false })]);
    assert.deepEqual([referenceDecap(four.frame, S).outcome, referenceDecap(four.frame, S).overhead], ['decapsulated', four.overhead]);
    assert.equal(referenceDecap(x([hbh, rt, dst, dst, dst]).frame, S).outcome, 'unsupported');
    assert.equal(referenceDecap(x([hbh, { type: IPPROTO.ah }]).frame, S).outcome, 'unsupported');
    assert.equal(referenceDecap(x([ipv6Fragment({ more: true })]).frame, S).outcome, 'fragment');
    assert.equal(referenceDecap(x([ipv6Fragment({ offset: 3 })]).frame, S).outcome, 'fragment');
    assert.equal(referenceDecap(x([rt]).frame.subarray(0, 14 + 40 + 10), S).outcome, 'truncated');
    const mld = ethernet({
      etherType: ETHERTYPE.ipv6,
      payload: ipv6({
        src: 'fe80::1',
        dst: 'ff02::16',
        nextHeader: IPPROTO.icmpv6,
        extensions: [{ type: IPPROTO.hopopts, body: Buffer.from([5, 2, 0, 0, 1, 0]) }],
        payload: Buffer.alloc(28),
      }),
    });
    assert.equal(referenceDecap(mld, S).outcome, 'not_tunnel');
    const udpFrag = ethernet({
      etherType: ETHERTYPE.ipv6,
      payload: ipv6({
        src: 'fd00::1',
        dst: 'fd00::2',
        nextHeader: IPPROTO.udp,
        extensions: [ipv6Fragment({ more: true })],
        payload: udp({ sport: 1, dport: 53, payload: Buffer.alloc(20) }),
      }),
    });
    assert.equal(referenceDecap(udpFrag, S).outcome, 'not_tunnel', 'first fragment of a non-tunnel packet');
  });
});

// The rule table: crafted frames through the real loaded program (BPF_PROG_TEST_RUN), expected verdict, bytes and counters.

import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Prefix } from '../../src/config/prefixes.ts';
import type { Outcome } from '../../src/decode/layout.ts';
import { tunnelSettingsOf } from '../../src/decode/tunnel-types.ts';
import { decapBuildPlan } from '../../src/program/decap-program.ts';
import {
  ETHERTYPE,
  encapsulate,
  erspanFrame,
  ethernet,
  GPE_NEXT,
  GRE_PROTOCOL,
  geneveFrame,
  gpeFrame,
  greFrame,
  IPPROTO,
  innerFrame,
  ipv4,
  ipv6,
  ipv6Fragment,
  nest,
  type OuterOptions,
  type TunnelFrame,
  type TunnelSpec,
  tcp,
  udp,
  vxlan,
  vxlanFrame,
} from '../../src/testbed/packets.ts';
import { IN_CI, IS_ROOT, requireRoot } from '../lib/env.ts';
import { dataplane, ProgramUnderTest, type TestSettings, XDP_PASS } from '../lib/program.ts';
import { referenceDecap } from '../lib/reference-decap.ts';

const V4 = { outerSrc: '10.1.0.1', outerDst: '10.1.0.2' };
const V6 = { outerSrc: 'fd00::1', outerDst: 'fd00::2' };
const innerV4 = innerFrame({ src: '192.168.1.10', dst: '192.168.1.20', protocol: 'tcp', sport: 33000, dport: 443, payloadSize: 40 });
const innerV6 = innerFrame({ src: 'fd10::10', dst: 'fd10::20', protocol: 'udp', sport: 5000, dport: 53, payloadSize: 30 });

type Case = {
  name: string;
  frame: Buffer | TunnelFrame;
  settings?: TestSettings;
  outcome: Outcome;
  /** A known kernel disagreement with docs/decap-rules.md, reported: the row runs and is shown as todo. */
  todo?: string;
  /**
   * For decapsulated frames: type/vni and the overhead the counters must show; `out` is the frame the taps must
   * see when it is not the TunnelFrame's `inner` (an inner level that fails ends the nesting early).
   */
  vni?: { key: string; overhead: number; out?: Buffer };
};

/** A frame from an encapsulated one, with its tail cut so it ends `cut` bytes into the tunnel headers. */
function cutTo(t: TunnelFrame, length: number): Buffer {
  return t.frame.subarray(0, length);
}

const vx = (o: Partial<Parameters<typeof vxlanFrame>[0]> = {}) => vxlanFrame({ ...V4, vni: 100, inner: innerV4, ...o });
const gn = (o: Partial<Parameters<typeof geneveFrame>[0]> = {}) => geneveFrame({ ...V4, vni: 7000, inner: innerV4, ...o });
const rawIp = (ip: Buffer) => ethernet({ etherType: ETHERTYPE.ipv4, payload: ip });

// Issue #13: GRE, ERSPAN I/II/III, VXLAN-GPE, IP payloads, nesting, IPv6 extension headers, first fragments.
const O4: OuterOptions = { ...V4, srcMac: '02:aa:00:00:00:01', dstMac: '02:bb:00:00:00:02' };
const gr = (o: Partial<Parameters<typeof greFrame>[0]> = {}) => greFrame({ ...O4, inner: innerV4, ...o });
const er = (o: Partial<Parameters<typeof erspanFrame>[0]> = {}) => erspanFrame({ ...O4, inner: innerV4, erspanType: 2, sessionId: 300, ...o });
const gp = (o: Partial<Parameters<typeof gpeFrame>[0]> = {}) => gpeFrame({ ...O4, vni: 500, inner: innerV4, ...o });
const nst = (levels: TunnelSpec[], o: Partial<OuterOptions> = {}, inner: Buffer = innerV4) => nest({ ...O4, ...o, levels, inner });
const v6x = (ipv6Extensions: NonNullable<OuterOptions['ipv6Extensions']>, tunnel: TunnelSpec = { type: 'vxlan', vni: 1 }) =>
  encapsulate({ ...V6, ipv6Extensions, tunnel, inner: innerV4 });
/** A non-tunnel UDP datagram over IPv6 with the given extension headers. */
const v6udp = (extensions: NonNullable<OuterOptions['ipv6Extensions']>, dport = 53) =>
  ethernet({
    etherType: ETHERTYPE.ipv6,
    payload: ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: IPPROTO.udp, extensions, payload: udp({ sport: 1, dport, payload: Buffer.alloc(40) }) }),
  });
const HBH = { type: IPPROTO.hopopts };
const RT = { type: IPPROTO.routing, body: Buffer.alloc(14) };
const DST = { type: IPPROTO.dstopts };
/** 14 Ethernet + 20 IPv4. */
const L3 = 34;

const NEW_ENCAPSULATIONS: Case[] = [
  // GRE (transparent Ethernet bridging), every C/K/S combination.
  { name: 'GRE, no optional fields', frame: gr(), outcome: 'decapsulated', vni: { key: 'gre/0', overhead: 38 } },
  { name: 'GRE with key', frame: gr({ key: 7 }), outcome: 'decapsulated', vni: { key: 'gre/7', overhead: 42 } },
  { name: 'GRE with key 0xFFFFFFFF', frame: gr({ key: 0xffffffff }), outcome: 'decapsulated', vni: { key: 'gre/4294967295', overhead: 42 } },
  { name: 'GRE with checksum', frame: gr({ checksum: true }), outcome: 'decapsulated', vni: { key: 'gre/0', overhead: 42 } },
  { name: 'GRE with sequence number', frame: gr({ seq: 5 }), outcome: 'decapsulated', vni: { key: 'gre/0', overhead: 42 } },
  { name: 'GRE with checksum and key', frame: gr({ checksum: true, key: 9 }), outcome: 'decapsulated', vni: { key: 'gre/9', overhead: 46 } },
  { name: 'GRE with key and sequence', frame: gr({ key: 10, seq: 1 }), outcome: 'decapsulated', vni: { key: 'gre/10', overhead: 46 } },
  {
    name: 'GRE with checksum, key and sequence',
    frame: gr({ checksum: true, key: 11, seq: 1 }),
    outcome: 'decapsulated',
    vni: { key: 'gre/11', overhead: 50 },
  },
  {
    name: 'GRE over IPv6 with a VLAN tag',
    frame: greFrame({ ...V6, key: 12, inner: innerV6, vlans: [{ tpid: 0x8100, vid: 3 }] }),
    outcome: 'decapsulated',
    vni: { key: 'gre/12', overhead: 66 },
  },
  { name: 'GRE version 1 (PPTP enhanced GRE)', frame: gr({ version: 1 }), outcome: 'not_tunnel' },
  { name: 'GRE carrying IPv4', frame: gr({ protocol: GRE_PROTOCOL.ipv4 }), outcome: 'not_tunnel' },
  { name: 'GRE carrying IPv6', frame: gr({ protocol: GRE_PROTOCOL.ipv6 }), outcome: 'not_tunnel' },
  { name: 'GRE carrying MPLS', frame: gr({ protocol: GRE_PROTOCOL.mpls }), outcome: 'not_tunnel' },
  { name: 'GRE with the routing bit', frame: gr({ routing: true }), outcome: 'unsupported' },
  { name: 'GRE switched off (gre: false)', frame: gr({ key: 1 }), settings: { gre: false }, outcome: 'not_tunnel' },
  { name: 'GRE cut inside its 4 fixed bytes', frame: cutTo(gr(), L3 + 3), outcome: 'truncated' },
  { name: 'GRE cut inside the checksum field', frame: cutTo(gr({ checksum: true, key: 1, seq: 1 }), L3 + 6), outcome: 'truncated' },
  { name: 'GRE cut inside the key', frame: cutTo(gr({ checksum: true, key: 1, seq: 1 }), L3 + 10), outcome: 'truncated' },
  { name: 'GRE cut inside the sequence number', frame: cutTo(gr({ checksum: true, key: 1, seq: 1 }), L3 + 14), outcome: 'truncated' },
  { name: 'GRE cut right after its header (no inner Ethernet)', frame: cutTo(gr({ checksum: true, key: 1, seq: 1 }), L3 + 16), outcome: 'truncated' },
  { name: 'GRE inner frame of 13 bytes', frame: cutTo(gr({ key: 1 }), L3 + 8 + 13), outcome: 'truncated' },

  // ERSPAN.
  { name: 'ERSPAN type I (no ERSPAN header)', frame: er({ erspanType: 1 }), outcome: 'decapsulated', vni: { key: 'erspan/0', overhead: 38 } },
  { name: 'ERSPAN type II', frame: er(), outcome: 'decapsulated', vni: { key: 'erspan/300', overhead: 50 } },
  {
    name: 'ERSPAN type II, session 1023, VLAN and index set',
    frame: er({ sessionId: 1023, vlan: 4095, index: 0xfffff }),
    outcome: 'decapsulated',
    vni: { key: 'erspan/1023', overhead: 50 },
  },
  { name: 'ERSPAN type II with a GRE key', frame: er({ key: 99 }), outcome: 'decapsulated', vni: { key: 'erspan/300', overhead: 54 } },
  { name: 'ERSPAN type III', frame: er({ erspanType: 3, sessionId: 301 }), outcome: 'decapsulated', vni: { key: 'erspan/301', overhead: 54 } },
  {
    name: 'ERSPAN type III with the platform subheader (O bit)',
    frame: er({ erspanType: 3, sessionId: 302, subheader: Buffer.from('0800000000000001', 'hex') }),
    outcome: 'decapsulated',
    vni: { key: 'erspan/302', overhead: 62 },
  },
  {
    name: 'ERSPAN type II over IPv6',
    frame: erspanFrame({ ...V6, erspanType: 2, sessionId: 5, inner: innerV6 }),
    outcome: 'decapsulated',
    vni: { key: 'erspan/5', overhead: 70 },
  },
  { name: 'ERSPAN type II with version 2', frame: er({ version: 2 }), outcome: 'malformed' },
  { name: 'ERSPAN type II with version 0', frame: er({ version: 0 }), outcome: 'malformed' },
  { name: 'ERSPAN type III with version 1', frame: er({ erspanType: 3, version: 1 }), outcome: 'malformed' },
  { name: 'ERSPAN type III, frame type 2 (not Ethernet)', frame: er({ erspanType: 3, frameType: 2 }), outcome: 'unsupported' },
  { name: 'ERSPAN switched off (erspan: false), type II', frame: er(), settings: { erspan: false }, outcome: 'not_tunnel' },
  { name: 'ERSPAN switched off (erspan: false), type I', frame: er({ erspanType: 1 }), settings: { erspan: false }, outcome: 'not_tunnel' },
  { name: 'ERSPAN on with GRE off', frame: er(), settings: { gre: false }, outcome: 'decapsulated', vni: { key: 'erspan/300', overhead: 50 } },
  { name: 'ERSPAN type II cut inside its header', frame: cutTo(er(), L3 + 8 + 5), outcome: 'truncated' },
  { name: 'ERSPAN type III cut inside its header', frame: cutTo(er({ erspanType: 3 }), L3 + 8 + 11), outcome: 'truncated' },
  { name: 'ERSPAN type III cut inside the subheader', frame: cutTo(er({ erspanType: 3, subheader: Buffer.alloc(8) }), L3 + 8 + 12 + 4), outcome: 'truncated' },
  { name: 'ERSPAN type III inner frame of 13 bytes', frame: cutTo(er({ erspanType: 3, subheader: Buffer.alloc(8) }), L3 + 8 + 20 + 13), outcome: 'truncated' },

  // VXLAN-GPE.
  { name: 'VXLAN-GPE, Ethernet payload', frame: gp(), outcome: 'decapsulated', vni: { key: 'vxlan-gpe/500', overhead: 50 } },
  {
    name: 'VXLAN-GPE, IPv4 payload: Ethernet header written',
    frame: gp({ nextProtocol: GPE_NEXT.ipv4 }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan-gpe/500', overhead: 36 },
  },
  {
    name: 'VXLAN-GPE over IPv6, IPv6 payload: Ethernet header written',
    frame: gpeFrame({ ...V6, vni: 501, nextProtocol: GPE_NEXT.ipv6, inner: innerV6 }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan-gpe/501', overhead: 56 },
  },
  {
    name: 'VXLAN-GPE on a configured extra port',
    frame: gp({ dport: 4791 }),
    settings: { vxlanGpePorts: [4790, 4791] },
    outcome: 'decapsulated',
    vni: { key: 'vxlan-gpe/500', overhead: 50 },
  },
  { name: 'VXLAN-GPE carrying NSH', frame: gp({ nextProtocol: GPE_NEXT.nsh }), outcome: 'unsupported' },
  { name: 'VXLAN-GPE carrying next protocol 5', frame: gp({ nextProtocol: 5 }), outcome: 'unsupported' },
  { name: 'VXLAN-GPE OAM bit', frame: gp({ flags: 0x0d }), outcome: 'unsupported' },
  { name: 'VXLAN-GPE version 1', frame: gp({ flags: 0x1c }), outcome: 'malformed' },
  { name: 'VXLAN-GPE without the P bit', frame: gp({ flags: 0x08 }), outcome: 'malformed' },
  { name: 'VXLAN-GPE without the I bit', frame: gp({ flags: 0x04 }), outcome: 'malformed' },
  { name: 'VXLAN-GPE port removed (vxlanGpePorts: [])', frame: gp(), settings: { vxlanGpePorts: [] }, outcome: 'not_tunnel' },
  { name: 'VXLAN-GPE cut inside its header', frame: cutTo(gp(), L3 + 8 + 5), outcome: 'truncated' },
  { name: 'VXLAN-GPE IPv4 payload of 19 bytes', frame: cutTo(gp({ nextProtocol: GPE_NEXT.ipv4 }), 50 + 19), outcome: 'truncated' },
  { name: 'VXLAN-GPE IPv6 payload of 39 bytes', frame: cutTo(gp({ nextProtocol: GPE_NEXT.ipv6, inner: innerV6 }), 50 + 39), outcome: 'truncated' },

  // Geneve with IP payloads.
  {
    name: 'Geneve, IPv4 payload: Ethernet header written',
    frame: gn({ protocolType: ETHERTYPE.ipv4 }),
    outcome: 'decapsulated',
    vni: { key: 'geneve/7000', overhead: 36 },
  },
  {
    name: 'Geneve with options and a VLAN tag, IPv6 payload',
    frame: geneveFrame({ ...O4, vni: 7002, protocolType: ETHERTYPE.ipv6, options: Buffer.alloc(8, 1), inner: innerV6, vlans: [{ tpid: 0x8100, vid: 9 }] }),
    outcome: 'decapsulated',
    vni: { key: 'geneve/7002', overhead: 48 },
  },
  { name: 'Geneve IPv4 payload of 19 bytes', frame: cutTo(gn({ protocolType: ETHERTYPE.ipv4 }), 50 + 19), outcome: 'truncated' },
  { name: 'Geneve IPv6 payload of 39 bytes', frame: cutTo(gn({ protocolType: ETHERTYPE.ipv6, inner: innerV6 }), 50 + 39), outcome: 'truncated' },

  // Nesting.
  {
    name: 'VXLAN in Geneve',
    frame: nst([
      { type: 'vxlan', vni: 21 },
      { type: 'geneve', vni: 20 },
    ]),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/21', overhead: 100 },
  },
  {
    name: 'VXLAN in ERSPAN type II',
    frame: nst([
      { type: 'vxlan', vni: 22 },
      { type: 'erspan', erspanType: 2, sessionId: 8 },
    ]),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/22', overhead: 100 },
  },
  {
    name: 'GRE in VXLAN in GRE (3 levels, over IPv6)',
    frame: nst(
      [
        { type: 'gre', key: 3 },
        { type: 'vxlan', vni: 23 },
        { type: 'gre', key: 1 },
      ],
      { outerSrc: 'fd00::1', outerDst: 'fd00::2' },
    ),
    outcome: 'decapsulated',
    vni: { key: 'gre/3', overhead: 62 + 70 + 62 },
  },
  {
    name: 'VXLAN in an IPv4-payload Geneve (inner tunnel without Ethernet)',
    frame: nst([
      { type: 'vxlan', vni: 24 },
      { type: 'geneve', vni: 25, protocolType: ETHERTYPE.ipv4 },
    ]),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/24', overhead: 36 + 50 },
  },
  {
    name: 'IPv6-payload GPE in VXLAN: written MACs are the outermost',
    frame: nst(
      [
        { type: 'vxlan-gpe', vni: 26, nextProtocol: GPE_NEXT.ipv6 },
        { type: 'vxlan', vni: 27 },
      ],
      {},
      innerV6,
    ),
    outcome: 'decapsulated',
    vni: { key: 'vxlan-gpe/26', overhead: 50 + 36 },
  },
  {
    name: 'four levels: too_deep',
    frame: nst([{ type: 'vxlan', vni: 1 }, { type: 'gre' }, { type: 'geneve', vni: 2 }, { type: 'vxlan', vni: 3 }]),
    outcome: 'too_deep',
  },
  {
    name: 'four levels, the fourth an IP-payload GPE level: too_deep',
    frame: nst([
      { type: 'gre', key: 4 },
      { type: 'vxlan-gpe', vni: 3, nextProtocol: GPE_NEXT.ipv4 },
      { type: 'gre' },
      { type: 'erspan', erspanType: 3, sessionId: 1 },
    ]),
    outcome: 'too_deep',
  },
  // A fourth level that fails a check is an inner level like any other: the three above it are stripped.
  {
    name: 'four levels, the fourth a VXLAN-GPE without the P bit: three stripped',
    frame: nst([{ type: 'vxlan-gpe', vni: 9, flags: 0x08 }, { type: 'gre', key: 45 }, { type: 'vxlan', vni: 46 }, { type: 'gre' }]),
    outcome: 'decapsulated',
    vni: { key: 'gre/45', overhead: 38 + 50 + 42, out: nst([{ type: 'vxlan-gpe', vni: 9, flags: 0x08 }]).frame },
  },
  {
    name: 'four levels, the fourth a first fragment: three stripped',
    frame: encapsulate({
      ...O4,
      tunnel: { type: 'gre' },
      inner: encapsulate({
        ...O4,
        tunnel: { type: 'gre', key: 49 },
        inner: encapsulate({
          ...O4,
          tunnel: { type: 'vxlan', vni: 50 },
          inner: encapsulate({ ...O4, moreFragments: true, tunnel: { type: 'vxlan', vni: 51 }, inner: innerV4 }),
        }),
      }),
    }),
    outcome: 'decapsulated',
    vni: {
      key: 'vxlan/50',
      overhead: 38 + 42 + 50,
      out: encapsulate({ ...O4, moreFragments: true, tunnel: { type: 'vxlan', vni: 51 }, inner: innerV4 }).frame,
    },
  },
  {
    name: 'three levels whose innermost payload is an ordinary packet: decapsulated, not too_deep',
    frame: nst(
      [
        { type: 'vxlan', vni: 31 },
        { type: 'vxlan', vni: 30 },
        { type: 'vxlan', vni: 29 },
      ],
      {},
      innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp', dport: 4791 }),
    ),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/31', overhead: 150 },
  },
  {
    name: 'inner VXLAN without the I bit: only the GRE level stripped',
    frame: nst([
      { type: 'vxlan', vni: 1, flags: 0 },
      { type: 'gre', key: 40 },
    ]),
    outcome: 'decapsulated',
    vni: { key: 'gre/40', overhead: 42, out: nst([{ type: 'vxlan', vni: 1, flags: 0 }]).frame },
  },
  {
    name: 'inner ERSPAN switched off: only the Geneve level stripped',
    frame: nst([
      { type: 'erspan', erspanType: 2, sessionId: 1 },
      { type: 'geneve', vni: 41 },
    ]),
    settings: { erspan: false },
    outcome: 'decapsulated',
    vni: { key: 'geneve/41', overhead: 50, out: nst([{ type: 'erspan', erspanType: 2, sessionId: 1 }]).frame },
  },
  {
    name: 'inner first fragment of a VXLAN packet: only the GRE level stripped',
    frame: nst(
      [
        { type: 'vxlan', vni: 1 },
        { type: 'gre', key: 42 },
      ],
      { moreFragments: true },
    ),
    outcome: 'fragment',
  },
  {
    name: 'inner level cut: the levels above still stripped',
    frame: cutTo(
      nst([
        { type: 'vxlan', vni: 1 },
        { type: 'erspan', erspanType: 3, sessionId: 43 },
      ]),
      54 + 14 + 20 + 8 + 4,
    ),
    outcome: 'decapsulated',
    vni: { key: 'erspan/43', overhead: 54, out: nst([{ type: 'vxlan', vni: 1 }]).frame.subarray(0, 14 + 20 + 8 + 4) },
  },
  {
    name: 'decapPrefixes are checked on the outermost level only',
    frame: nst([{ type: 'vxlan', vni: 44 }, { type: 'gre' }], {}),
    settings: { decapPrefixes: ['10.1.0.2/32'] },
    outcome: 'decapsulated',
    vni: { key: 'vxlan/44', overhead: 88 },
  },

  // IPv6 extension headers.
  {
    name: 'IPv6 hop-by-hop, routing, destination options and an atomic fragment header (4)',
    frame: v6x([HBH, RT, DST, ipv6Fragment()]),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/1', overhead: 70 + 8 + 16 + 8 + 8 },
  },
  {
    name: 'IPv6 GRE behind a 24-byte destination options header',
    frame: v6x([{ type: IPPROTO.dstopts, body: Buffer.alloc(22) }], { type: 'gre', key: 5 }),
    outcome: 'decapsulated',
    vni: { key: 'gre/5', overhead: 62 + 24 },
  },
  { name: 'IPv6 with five extension headers', frame: v6x([HBH, DST, RT, DST, DST]), outcome: 'unsupported' },
  { name: 'IPv6 with an AH header', frame: v6x([HBH, { type: IPPROTO.ah }]), outcome: 'unsupported' },
  { name: 'IPv6 with a mobility header', frame: v6x([{ type: IPPROTO.mobility }]), outcome: 'unsupported' },
  { name: 'IPv6 with a HIP header', frame: v6x([{ type: IPPROTO.hip }]), outcome: 'unsupported' },
  { name: 'IPv6 with a shim6 header', frame: v6x([{ type: IPPROTO.shim6 }]), outcome: 'unsupported' },
  { name: 'IPv6 cut inside the routing header', frame: cutTo(v6x([RT]), 54 + 10), outcome: 'truncated' },
  { name: 'IPv6 cut inside the fragment header', frame: cutTo(v6x([ipv6Fragment()]), 54 + 5), outcome: 'truncated' },
  {
    name: 'MLD report (IPv6 hop-by-hop + ICMPv6)',
    frame: ethernet({
      dst: '33:33:00:00:00:16',
      etherType: ETHERTYPE.ipv6,
      payload: ipv6({
        src: 'fe80::1',
        dst: 'ff02::16',
        hopLimit: 1,
        nextHeader: IPPROTO.icmpv6,
        extensions: [{ type: IPPROTO.hopopts, body: Buffer.from([5, 2, 0, 0, 1, 0]) }],
        payload: Buffer.from('8f00000000000001040000000ff0200000000000000000000000000001', 'hex').subarray(0, 28),
      }),
    }),
    outcome: 'not_tunnel',
  },

  // First and later fragments, IPv4 and IPv6, tunnel and not.
  { name: 'IPv4 first fragment of a GRE packet', frame: gr({ moreFragments: true }), outcome: 'fragment' },
  { name: 'IPv4 first fragment of a VXLAN-GPE packet', frame: gp({ moreFragments: true }), outcome: 'fragment' },
  {
    name: 'IPv4 first fragment of a non-tunnel UDP datagram',
    frame: rawIp(
      ipv4({ src: '10.1.0.1', dst: '10.1.0.2', protocol: IPPROTO.udp, moreFragments: true, payload: udp({ sport: 1, dport: 53, payload: Buffer.alloc(40) }) }),
    ),
    outcome: 'not_tunnel',
  },
  { name: 'IPv4 first fragment of a GRE packet carrying IPv4', frame: gr({ protocol: GRE_PROTOCOL.ipv4, moreFragments: true }), outcome: 'not_tunnel' },
  { name: 'IPv6 first fragment (M set) of a VXLAN packet', frame: v6x([ipv6Fragment({ more: true })]), outcome: 'fragment' },
  {
    name: 'IPv6 first fragment behind hop-by-hop of an ERSPAN packet',
    frame: v6x([HBH, ipv6Fragment({ more: true })], { type: 'erspan', erspanType: 2, sessionId: 1 }),
    outcome: 'fragment',
  },
  { name: 'IPv6 first fragment of a non-tunnel UDP datagram', frame: v6udp([ipv6Fragment({ more: true })]), outcome: 'not_tunnel' },
  { name: 'IPv6 later fragment', frame: v6udp([HBH, ipv6Fragment({ offset: 100, more: true })], 4789), outcome: 'fragment' },
  // Two fragment headers, the first with M set: the packet is a first fragment (docs/decap-rules.md step 4),
  // whichever of them has M.
  {
    name: 'IPv6 two fragment headers, the first with M set, of a GRE packet',
    frame: v6x([ipv6Fragment({ more: true }), ipv6Fragment()], { type: 'gre', key: 1 }),
    outcome: 'fragment',
  },
];

const CASES: Case[] = [
  // Decapsulated: every supported outer shape.
  { name: 'VXLAN over IPv4', frame: vx(), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },
  { name: 'VXLAN, one 802.1Q tag', frame: vx({ vlans: [{ tpid: 0x8100, vid: 10 }] }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 54 } },
  {
    name: 'VXLAN, QinQ 802.1ad then 802.1Q',
    frame: vx({
      vlans: [
        { tpid: 0x88a8, vid: 10 },
        { tpid: 0x8100, vid: 20 },
      ],
    }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 58 },
  },
  {
    name: 'VXLAN, two tags 802.1Q then 802.1ad',
    frame: vx({
      vlans: [
        { tpid: 0x8100, vid: 10 },
        { tpid: 0x88a8, vid: 20 },
      ],
    }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 58 },
  },
  {
    name: 'VXLAN, IPv4 header with 8 bytes of options',
    frame: vx({ ipv4Options: Buffer.from([1, 1, 1, 1, 1, 1, 1, 0]) }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 58 },
  },
  {
    name: 'VXLAN, IPv4 header with 40 bytes of options (IHL 15)',
    frame: vx({ ipv4Options: Buffer.alloc(40, 1) }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 90 },
  },
  { name: 'VXLAN over IPv6', frame: vxlanFrame({ ...V6, vni: 200, inner: innerV4 }), outcome: 'decapsulated', vni: { key: 'vxlan/200', overhead: 70 } },
  { name: 'VXLAN carrying an IPv6 inner frame', frame: vx({ vni: 300, inner: innerV6 }), outcome: 'decapsulated', vni: { key: 'vxlan/300', overhead: 50 } },
  { name: 'VXLAN, VNI 0xFFFFFF', frame: vx({ vni: 0xffffff }), outcome: 'decapsulated', vni: { key: 'vxlan/16777215', overhead: 50 } },
  { name: 'VXLAN, reserved flag bits set besides I', frame: vx({ flags: 0x0f }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },
  {
    name: 'VXLAN on a configured extra port',
    frame: vx({ dport: 8472 }),
    settings: { vxlanPorts: [4789, 8472] },
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 50 },
  },
  { name: 'Geneve, no options', frame: gn(), outcome: 'decapsulated', vni: { key: 'geneve/7000', overhead: 50 } },
  { name: 'Geneve, 12 bytes of options', frame: gn({ options: Buffer.alloc(12, 3) }), outcome: 'decapsulated', vni: { key: 'geneve/7000', overhead: 62 } },
  {
    name: 'Geneve, 252 bytes of options (opt_len 63)',
    frame: gn({ options: Buffer.alloc(252, 3) }),
    outcome: 'decapsulated',
    vni: { key: 'geneve/7000', overhead: 302 },
  },
  {
    name: 'Geneve over IPv6 with a VLAN tag',
    frame: geneveFrame({ ...V6, vni: 7001, inner: innerV6, vlans: [{ tpid: 0x8100, vid: 5 }] }),
    outcome: 'decapsulated',
    vni: { key: 'geneve/7001', overhead: 74 },
  },
  {
    name: 'inner frame of exactly an Ethernet header',
    frame: vx({ inner: Buffer.alloc(14, 0xee) }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 50 },
  },

  // Not a tunnel.
  { name: 'ARP', frame: ethernet({ etherType: ETHERTYPE.arp, payload: Buffer.alloc(28) }), outcome: 'not_tunnel' },
  {
    name: 'IPv4 TCP',
    frame: rawIp(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.tcp, payload: tcp({ sport: 1, dport: 4789 }) })),
    outcome: 'not_tunnel',
  },
  { name: 'IPv4 UDP to another port', frame: vx({ dport: 4791 }), outcome: 'not_tunnel' },
  { name: 'VXLAN port removed from the set', frame: vx(), settings: { vxlanPorts: [8472] }, outcome: 'not_tunnel' },
  {
    name: 'three VLAN tags (beyond the two parsed)',
    frame: vx({
      vlans: [
        { tpid: 0x8100, vid: 1 },
        { tpid: 0x8100, vid: 2 },
        { tpid: 0x8100, vid: 3 },
      ],
    }),
    outcome: 'not_tunnel',
  },

  // Outer fragments.
  {
    name: 'IPv4 first fragment (MF) of a VXLAN packet',
    frame: rawIp(
      ipv4({
        ...{ src: '10.1.0.1', dst: '10.1.0.2' },
        protocol: IPPROTO.udp,
        moreFragments: true,
        payload: udp({ sport: 1, dport: 4789, payload: vxlan({ vni: 1, payload: innerV4 }) }),
      }),
    ),
    outcome: 'fragment',
  },
  {
    name: 'IPv4 later fragment (offset)',
    frame: rawIp(ipv4({ src: '10.1.0.1', dst: '10.1.0.2', protocol: IPPROTO.udp, fragOffset: 185, payload: Buffer.alloc(60) })),
    outcome: 'fragment',
  },
  {
    name: 'IPv6 atomic fragment header (offset 0, M clear): an ordinary packet',
    frame: ethernet({
      etherType: ETHERTYPE.ipv6,
      payload: ipv6({
        src: 'fd00::1',
        dst: 'fd00::2',
        nextHeader: IPPROTO.udp,
        extensions: [{ type: IPPROTO.fragment }],
        payload: udp({ sport: 1, dport: 4789, payload: vxlan({ vni: 1, payload: innerV4 }) }),
      }),
    }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/1', overhead: 14 + 40 + 8 + 8 + 8, out: innerV4 },
  },

  // Truncated.
  { name: 'runt: Ethernet header only, type IPv4', frame: ethernet({ etherType: ETHERTYPE.ipv4, payload: Buffer.alloc(0) }), outcome: 'truncated' },
  { name: 'cut inside the VLAN tag', frame: cutTo(vx({ vlans: [{ tpid: 0x8100, vid: 1 }] }), 16), outcome: 'truncated' },
  { name: 'cut inside the IPv4 header', frame: cutTo(vx(), 30), outcome: 'truncated' },
  { name: 'cut inside IPv4 options', frame: cutTo(vx({ ipv4Options: Buffer.alloc(40, 1) }), 40), outcome: 'truncated' },
  { name: 'cut inside the IPv6 header', frame: cutTo(vxlanFrame({ ...V6, vni: 1, inner: innerV4 }), 40), outcome: 'truncated' },
  { name: 'cut inside the UDP header', frame: cutTo(vx(), 38), outcome: 'truncated' },
  { name: 'cut inside the VXLAN header', frame: cutTo(vx(), 46), outcome: 'truncated' },
  { name: 'cut inside Geneve options', frame: cutTo(gn({ options: Buffer.alloc(16) }), 60), outcome: 'truncated' },
  { name: 'inner frame shorter than an Ethernet header', frame: cutTo(vx(), 50 + 13), outcome: 'truncated' },

  // Malformed.
  { name: 'VXLAN without the I bit', frame: vx({ flags: 0x00 }), outcome: 'malformed' },
  {
    name: 'IPv4 IHL 4',
    frame: rawIp(
      Buffer.concat([Buffer.from([0x44]), ipv4({ src: '10.1.0.1', dst: '10.1.0.2', protocol: IPPROTO.udp, payload: Buffer.alloc(40) }).subarray(1)]),
    ),
    outcome: 'malformed',
  },
  { name: 'Geneve version 1', frame: gn({ version: 1 }), outcome: 'malformed' },

  // Unsupported.
  { name: 'Geneve OAM (control) packet', frame: gn({ oam: true }), outcome: 'unsupported' },
  { name: 'Geneve carrying MPLS (neither Ethernet nor IP)', frame: gn({ protocolType: 0x8847 }), outcome: 'unsupported' },
  {
    name: 'IPv6 with a hop-by-hop header: walked',
    frame: ethernet({
      etherType: ETHERTYPE.ipv6,
      payload: ipv6({
        src: 'fd00::1',
        dst: 'fd00::2',
        nextHeader: IPPROTO.udp,
        extensions: [{ type: IPPROTO.hopopts }],
        payload: udp({ sport: 1, dport: 4789, payload: vxlan({ vni: 1, payload: innerV4 }) }),
      }),
    }),
    outcome: 'decapsulated',
    vni: { key: 'vxlan/1', overhead: 14 + 40 + 8 + 8 + 8, out: innerV4 },
  },

  // Outer address filters.
  {
    name: 'destination inside decapPrefixes',
    frame: vx(),
    settings: { decapPrefixes: ['10.1.0.0/16'] },
    outcome: 'decapsulated',
    vni: { key: 'vxlan/100', overhead: 50 },
  },
  { name: 'destination outside decapPrefixes', frame: vx({ outerDst: '10.2.0.2' }), settings: { decapPrefixes: ['10.1.0.0/16'] }, outcome: 'filtered' },
  {
    name: 'IPv6 destination with only IPv4 decapPrefixes',
    frame: vxlanFrame({ ...V6, vni: 1, inner: innerV4 }),
    settings: { decapPrefixes: ['10.1.0.0/16'] },
    outcome: 'filtered',
  },
  {
    name: 'IPv6 destination inside an IPv6 decapPrefix',
    frame: vxlanFrame({ ...V6, vni: 1, inner: innerV4 }),
    settings: { decapPrefixes: ['fd00::/64'] },
    outcome: 'decapsulated',
    vni: { key: 'vxlan/1', overhead: 70 },
  },
  { name: 'source in excludePrefixes', frame: vx(), settings: { excludePrefixes: ['10.1.0.1/32'] }, outcome: 'excluded' },
  { name: 'destination in excludePrefixes', frame: vx(), settings: { excludePrefixes: ['10.1.0.0/24'] }, outcome: 'excluded' },
  { name: 'exclude wins over decapPrefixes', frame: vx(), settings: { decapPrefixes: ['10.1.0.0/16'], excludePrefixes: ['10.1.0.2/32'] }, outcome: 'excluded' },
  {
    name: 'IPv6 source in excludePrefixes',
    frame: geneveFrame({ ...V6, vni: 1, inner: innerV4 }),
    settings: { excludePrefixes: ['fd00::1/128'] },
    outcome: 'excluded',
  },
  ...NEW_ENCAPSULATIONS,
];

/** The frame the taps must see for a decapsulated case: the explicit `out`, else the TunnelFrame's inner frame. */
function expectedOutput(c: Case): Buffer {
  if (c.vni?.out) return c.vni.out;
  assert.ok(!Buffer.isBuffer(c.frame), `${c.name}: a decap case needs a TunnelFrame or an explicit out`);
  return c.frame.inner;
}

/** One new flow when the output holds an IPv4/IPv6 header (after up to two VLAN tags) the flow key can be read from. */
function flowsExpected(out: Buffer): number {
  let off = 12;
  let type = out.length >= 14 ? out.readUInt16BE(12) : 0;
  for (let i = 0; i < 2 && (type === 0x8100 || type === 0x88a8) && out.length >= off + 6; i++) {
    off += 4;
    type = out.readUInt16BE(off);
  }
  return type === ETHERTYPE.ipv4 || type === ETHERTYPE.ipv6 ? 1 : 0;
}

const toRef = (list: readonly Prefix[]) => list.map((x) => [x.family, x.bytes, x.prefixLen] as [4 | 6, Uint8Array, number]);

describe('the rule table agrees with the oracle (test/lib/reference-decap.ts)', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const settings = dataplane(c.settings);
      const frame = Buffer.isBuffer(c.frame) ? c.frame : c.frame.frame;
      const v = referenceDecap(frame, {
        ...tunnelSettingsOf(settings),
        decapPrefixes: toRef(settings.decapPrefixes),
        excludePrefixes: toRef(settings.excludePrefixes),
      });
      assert.equal(v.outcome, c.outcome);
      if (c.outcome === 'decapsulated') {
        assert.equal(`${v.type}/${v.vni}`, c.vni!.key);
        assert.equal(v.overhead, c.vni!.overhead);
        assert.ok(v.output!.equals(expectedOutput(c)), 'oracle output = expected output');
      }
    });
  }
});

// Every build the daemon would try on this kernel, its choice first: build/decap.bpf.o then build/decap-compat.bpf.o
// on Linux 6.2+, decap-compat.bpf.o alone before (src/program/decap-builds.ts). The same rules for each.
const BUILDS = IS_ROOT ? decapBuildPlan().candidates : [];
if (!IS_ROOT)
  describe('decap rule table (real program, BPF_PROG_TEST_RUN)', { skip: IN_CI ? false : 'needs root (BPF); runs in CI' }, () => {
    test('loads the program', (t) => void requireRoot(t, 'loading the XDP program'));
  });
for (const build of BUILDS)
  describe(`decap rule table (real program ${basename(build)}, BPF_PROG_TEST_RUN)`, () => {
    for (const c of CASES) {
      test(c.name, { todo: c.todo ?? false }, (t) => {
        if (!requireRoot(t, 'loading the XDP program')) return;
        const prog = new ProgramUnderTest(c.settings, undefined, build);
        try {
          const frame = Buffer.isBuffer(c.frame) ? c.frame : c.frame.frame;
          const r = prog.run(frame);
          assert.equal(r.retval, XDP_PASS, 'the program never drops');
          assert.deepEqual(r.outcomes, { [c.outcome]: 1 }, 'exactly one outcome counted, the expected one');
          if (c.outcome === 'decapsulated') {
            const out = expectedOutput(c);
            assert.equal(frame.length - out.length, c.vni!.overhead, 'test fixture overhead');
            assert.ok(
              r.out.equals(out),
              `output must be the inner frame (${r.out.length} vs ${out.length} bytes)\n got      ${r.out.toString('hex')}\n expected ${out.toString('hex')}`,
            );
            assert.deepEqual(r.vnis, { [c.vni!.key]: { packets: 1, bytes: out.length, overheadBytes: c.vni!.overhead, flows: flowsExpected(out) } });
          } else {
            assert.ok(r.out.equals(frame), 'a frame that is not decapsulated passes byte for byte');
            assert.deepEqual(r.vnis, {}, 'no VNI counter moves');
          }
        } finally {
          prog.close();
        }
      });
    }
  });

describe('flow counting and live settings (real program)', { skip: !IS_ROOT && !process.env.CI ? 'needs root (BPF); runs in CI' : false }, () => {
  let prog: ProgramUnderTest;
  before(() => {
    prog = new ProgramUnderTest();
  });
  after(() => prog?.close());

  test('a flow is counted once per VNI, new 5-tuples add flows, the flow table holds the inner 5-tuple', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const a = vx({ vni: 11, inner: innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp', sport: 1000, dport: 53 }) });
    const b = vx({ vni: 11, inner: innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp', sport: 1001, dport: 53 }) });
    const c6 = vx({ vni: 11, inner: innerFrame({ src: 'fd10::1', dst: 'fd10::2', protocol: 'tcp', sport: 2000, dport: 443 }) });
    assert.equal(prog.run(a.frame).vnis['vxlan/11']?.flows, 1);
    assert.equal(prog.run(a.frame).vnis['vxlan/11']?.flows, 0, 'same 5-tuple: no new flow');
    assert.equal(prog.run(b.frame).vnis['vxlan/11']?.flows, 1, 'new source port: new flow');
    assert.equal(prog.run(c6.frame).vnis['vxlan/11']?.flows, 1);
    const flows = prog.program.readFlows().filter((f) => f.vni === 11);
    const byPort = new Map(flows.map((f) => [f.srcPort, f]));
    assert.equal(flows.length, 3);
    assert.deepEqual(
      { ...byPort.get(1000), firstSeenNs: 0n, lastSeenNs: 0n },
      {
        ifindex: 1,
        tunnelType: 'vxlan',
        vni: 11,
        family: 4,
        protocol: 17,
        srcAddr: '192.168.0.1',
        dstAddr: '192.168.0.2',
        srcPort: 1000,
        dstPort: 53,
        packets: 2,
        bytes: 2 * a.inner.length,
        firstSeenNs: 0n,
        lastSeenNs: 0n,
      },
    );
    const v6 = byPort.get(2000)!;
    assert.equal(v6.srcAddr, 'fd10::1');
    assert.equal(v6.dstAddr, 'fd10::2');
    assert.equal(v6.protocol, 6);
    assert.ok(byPort.get(1000)!.lastSeenNs >= byPort.get(1000)!.firstSeenNs);
  });

  test('settings change live: a port added and a prefix excluded without reloading the program', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const frame = vx({ dport: 9999, vni: 12 }).frame;
    assert.deepEqual(prog.run(frame).outcomes, { not_tunnel: 1 });
    prog.program.applySettings(
      dataplane({
        vxlanPorts: [4789, 9999],
        genevePorts: [6081],
        decapPrefixes: [],
        excludePrefixes: [],
        trackFlows: true,
      }),
    );
    assert.deepEqual(prog.run(frame).outcomes, { decapsulated: 1 });
    prog.program.applySettings(
      dataplane({
        vxlanPorts: [4789, 9999],
        genevePorts: [6081],
        decapPrefixes: [],
        excludePrefixes: ['10.1.0.0/16'],
        trackFlows: true,
      }),
    );
    assert.deepEqual(prog.run(frame).outcomes, { excluded: 1 });
    prog.program.applySettings(dataplane({ vxlanPorts: [4789], genevePorts: [6081], decapPrefixes: [], excludePrefixes: [], trackFlows: false }));
    assert.deepEqual(prog.run(frame).outcomes, { not_tunnel: 1 });
    const r = prog.run(vx({ vni: 13 }).frame);
    assert.equal(r.vnis['vxlan/13']?.flows, 0, 'trackFlows off: no flow counted');
    assert.equal(r.vnis['vxlan/13']?.packets, 1);
  });

  test('tunnel switches change live: gre, erspan and vxlanGpePorts applied without reloading; per-type counters', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const g = gr({ key: 77 }).frame;
    const e = er({ sessionId: 78 }).frame;
    const p = gp({ vni: 79, dport: 4799 }).frame;
    try {
      prog.program.applySettings(dataplane({ gre: false, erspan: false }));
      assert.deepEqual([prog.run(g).outcomes, prog.run(e).outcomes, prog.run(p).outcomes], [{ not_tunnel: 1 }, { not_tunnel: 1 }, { not_tunnel: 1 }]);
      prog.program.applySettings(dataplane({ gre: true, erspan: false, vxlanGpePorts: [4790, 4799] }));
      const rg = prog.run(g);
      assert.deepEqual(rg.outcomes, { decapsulated: 1 });
      assert.deepEqual(Object.keys(rg.vnis), ['gre/77'], 'counted once, under gre and its key');
      assert.deepEqual(prog.run(e).outcomes, { not_tunnel: 1 });
      assert.deepEqual(Object.keys(prog.run(p).vnis), ['vxlan-gpe/79']);
      prog.program.applySettings(dataplane({ gre: false, erspan: true }));
      assert.deepEqual(prog.run(g).outcomes, { not_tunnel: 1 });
      assert.deepEqual(Object.keys(prog.run(e).vnis), ['erspan/78']);
      assert.deepEqual(prog.run(p).outcomes, { not_tunnel: 1 }, 'port 4799 removed again');
    } finally {
      prog.program.applySettings(dataplane());
    }
  });

  test('a full VNI map counts lost updates instead of failing', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const small = new ProgramUnderTest({}, { vniCapacity: 2, flowCapacity: 1024 });
    try {
      const frames = [1, 2, 3, 4].map((vni) => vx({ vni }).frame);
      for (const f of frames) assert.deepEqual(small.run(f).outcomes, { decapsulated: 1 }, 'still decapsulated');
      const counters = small.program.readCounters();
      assert.equal(counters.vnis.length, 2);
      assert.equal(counters.lost.vni_stats, 2);
      // The decapsulated outcome is the VNI counters plus what the kernel counted there when they missed a frame.
      const decapsulated = counters.outcomes.filter((o) => o.outcome === 'decapsulated');
      assert.deepEqual(
        decapsulated.map((o) => [o.packets, o.bytes]),
        [[4, frames.reduce((a, f) => a + f.length, 0)]],
      );
    } finally {
      small.close();
    }
  });

  test('jumbo frames (multi-buffer XDP): a 9216-byte VXLAN frame is decapsulated whole', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const inner = innerFrame({ src: '192.168.9.1', dst: '192.168.9.2', protocol: 'udp', payloadSize: 9216 - 50 - 42 });
    const f = vx({ vni: 14, inner });
    assert.equal(f.frame.length, 9216);
    const r = prog.run(f.frame);
    assert.deepEqual(r.outcomes, { decapsulated: 1 });
    assert.ok(r.out.equals(inner), 'the whole inner frame, fragments included');
    assert.equal(r.vnis['vxlan/14']?.bytes, inner.length);
  });

  test('a skipped frame is counted whole: linear and jumbo (multi-buffer) frames, every build this kernel loads', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    for (const build of decapBuildPlan().candidates) {
      const p = new ProgramUnderTest({}, undefined, build);
      try {
        const skippedBytes = () =>
          p.program
            .readCounters()
            .outcomes.filter((o) => o.outcome === 'not_tunnel')
            .reduce((n, o) => n + o.bytes, 0);
        for (const size of [9216, 600]) {
          const frame = rawIp(
            ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.tcp, payload: tcp({ sport: 1, dport: 443, payload: Buffer.alloc(size - 54) }) }),
          );
          assert.equal(frame.length, size);
          const before = skippedBytes();
          assert.deepEqual(p.run(frame).outcomes, { not_tunnel: 1 });
          assert.equal(skippedBytes() - before, size, `${build}: ${size}-byte frame, bytes counted`);
        }
        const inner = innerFrame({ src: '192.168.9.1', dst: '192.168.9.2', protocol: 'udp', payloadSize: 9216 - 50 - 42 });
        const r = p.run(vx({ vni: 15, inner }).frame);
        assert.equal(r.vnis['vxlan/15']?.bytes, inner.length, `${build}: jumbo VXLAN inner bytes`);
        assert.equal(r.vnis['vxlan/15']?.overheadBytes, 50, `${build}: jumbo VXLAN overhead`);
      } finally {
        p.close();
      }
    }
  });
});

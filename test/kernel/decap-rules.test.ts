// The rule table: crafted frames through the real loaded program (BPF_PROG_TEST_RUN), expected verdict, bytes and counters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Outcome } from '../../src/decode/layout.ts';
import { DEFAULT_DATAPLANE, type DataplaneSettings } from '../../src/program/decap-program.ts';
import {
  ETHERTYPE, IPPROTO, ethernet, geneveFrame, innerFrame, ipv4, ipv6, tcp, udp, vxlan, vxlanFrame, type TunnelFrame,
} from '../../src/testbed/packets.ts';
import { requireRoot, IS_ROOT } from '../lib/env.ts';
import { ProgramUnderTest, XDP_PASS } from '../lib/program.ts';

const V4 = { outerSrc: '10.1.0.1', outerDst: '10.1.0.2' };
const V6 = { outerSrc: 'fd00::1', outerDst: 'fd00::2' };
const innerV4 = innerFrame({ src: '192.168.1.10', dst: '192.168.1.20', protocol: 'tcp', sport: 33000, dport: 443, payloadSize: 40 });
const innerV6 = innerFrame({ src: 'fd10::10', dst: 'fd10::20', protocol: 'udp', sport: 5000, dport: 53, payloadSize: 30 });

type Case = {
  name: string;
  frame: Buffer | TunnelFrame;
  settings?: Partial<DataplaneSettings>;
  outcome: Outcome;
  /** For decapsulated frames: type/vni and the overhead the counters must show. */
  vni?: { key: string; overhead: number };
};

/** A frame from an encapsulated one, with its tail cut so it ends `cut` bytes into the tunnel headers. */
function cutTo(t: TunnelFrame, length: number): Buffer {
  return t.frame.subarray(0, length);
}

const vx = (o: Partial<Parameters<typeof vxlanFrame>[0]> = {}) => vxlanFrame({ ...V4, vni: 100, inner: innerV4, ...o });
const gn = (o: Partial<Parameters<typeof geneveFrame>[0]> = {}) => geneveFrame({ ...V4, vni: 7000, inner: innerV4, ...o });
const rawIp = (ip: Buffer) => ethernet({ etherType: ETHERTYPE.ipv4, payload: ip });

const CASES: Case[] = [
  // Decapsulated: every supported outer shape.
  { name: 'VXLAN over IPv4', frame: vx(), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },
  { name: 'VXLAN, one 802.1Q tag', frame: vx({ vlans: [{ tpid: 0x8100, vid: 10 }] }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 54 } },
  { name: 'VXLAN, QinQ 802.1ad then 802.1Q', frame: vx({ vlans: [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }] }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 58 } },
  { name: 'VXLAN, two tags 802.1Q then 802.1ad', frame: vx({ vlans: [{ tpid: 0x8100, vid: 10 }, { tpid: 0x88a8, vid: 20 }] }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 58 } },
  { name: 'VXLAN, IPv4 header with 8 bytes of options', frame: vx({ ipv4Options: Buffer.from([1, 1, 1, 1, 1, 1, 1, 0]) }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 58 } },
  { name: 'VXLAN, IPv4 header with 40 bytes of options (IHL 15)', frame: vx({ ipv4Options: Buffer.alloc(40, 1) }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 90 } },
  { name: 'VXLAN over IPv6', frame: vxlanFrame({ ...V6, vni: 200, inner: innerV4 }), outcome: 'decapsulated', vni: { key: 'vxlan/200', overhead: 70 } },
  { name: 'VXLAN carrying an IPv6 inner frame', frame: vx({ vni: 300, inner: innerV6 }), outcome: 'decapsulated', vni: { key: 'vxlan/300', overhead: 50 } },
  { name: 'VXLAN, VNI 0xFFFFFF', frame: vx({ vni: 0xffffff }), outcome: 'decapsulated', vni: { key: 'vxlan/16777215', overhead: 50 } },
  { name: 'VXLAN, reserved flag bits set besides I', frame: vx({ flags: 0x0f }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },
  { name: 'VXLAN on a configured extra port', frame: vx({ dport: 8472 }), settings: { vxlanPorts: [4789, 8472] }, outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },
  { name: 'Geneve, no options', frame: gn(), outcome: 'decapsulated', vni: { key: 'geneve/7000', overhead: 50 } },
  { name: 'Geneve, 12 bytes of options', frame: gn({ options: Buffer.alloc(12, 3) }), outcome: 'decapsulated', vni: { key: 'geneve/7000', overhead: 62 } },
  { name: 'Geneve, 252 bytes of options (opt_len 63)', frame: gn({ options: Buffer.alloc(252, 3) }), outcome: 'decapsulated', vni: { key: 'geneve/7000', overhead: 302 } },
  { name: 'Geneve over IPv6 with a VLAN tag', frame: geneveFrame({ ...V6, vni: 7001, inner: innerV6, vlans: [{ tpid: 0x8100, vid: 5 }] }), outcome: 'decapsulated', vni: { key: 'geneve/7001', overhead: 74 } },
  { name: 'inner frame of exactly an Ethernet header', frame: vx({ inner: Buffer.alloc(14, 0xee) }), outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },

  // Not a tunnel.
  { name: 'ARP', frame: ethernet({ etherType: ETHERTYPE.arp, payload: Buffer.alloc(28) }), outcome: 'not_tunnel' },
  { name: 'IPv4 TCP', frame: rawIp(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.tcp, payload: tcp({ sport: 1, dport: 4789 }) })), outcome: 'not_tunnel' },
  { name: 'IPv4 UDP to another port', frame: vx({ dport: 4790 }), outcome: 'not_tunnel' },
  { name: 'VXLAN port removed from the set', frame: vx(), settings: { vxlanPorts: [8472] }, outcome: 'not_tunnel' },
  { name: 'three VLAN tags (beyond the two parsed)', frame: vx({ vlans: [{ tpid: 0x8100, vid: 1 }, { tpid: 0x8100, vid: 2 }, { tpid: 0x8100, vid: 3 }] }), outcome: 'not_tunnel' },

  // Outer fragments.
  { name: 'IPv4 first fragment (MF) of a VXLAN packet', frame: rawIp(ipv4({ ...{ src: '10.1.0.1', dst: '10.1.0.2' }, protocol: IPPROTO.udp, moreFragments: true, payload: udp({ sport: 1, dport: 4789, payload: vxlan({ vni: 1, payload: innerV4 }) }) })), outcome: 'fragment' },
  { name: 'IPv4 later fragment (offset)', frame: rawIp(ipv4({ src: '10.1.0.1', dst: '10.1.0.2', protocol: IPPROTO.udp, fragOffset: 185, payload: Buffer.alloc(60) })), outcome: 'fragment' },
  { name: 'IPv6 fragment header', frame: ethernet({ etherType: ETHERTYPE.ipv6, payload: ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: IPPROTO.udp, extensions: [{ type: IPPROTO.fragment }], payload: udp({ sport: 1, dport: 4789, payload: vxlan({ vni: 1, payload: innerV4 }) }) }) }), outcome: 'fragment' },

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
  { name: 'IPv4 IHL 4', frame: rawIp(Buffer.concat([Buffer.from([0x44]), ipv4({ src: '10.1.0.1', dst: '10.1.0.2', protocol: IPPROTO.udp, payload: Buffer.alloc(40) }).subarray(1)])), outcome: 'malformed' },
  { name: 'Geneve version 1', frame: gn({ version: 1 }), outcome: 'malformed' },

  // Unsupported.
  { name: 'Geneve OAM (control) packet', frame: gn({ oam: true }), outcome: 'unsupported' },
  { name: 'Geneve carrying IPv4 (not Ethernet)', frame: gn({ protocolType: ETHERTYPE.ipv4 }), outcome: 'unsupported' },
  { name: 'IPv6 with a hop-by-hop header', frame: ethernet({ etherType: ETHERTYPE.ipv6, payload: ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: IPPROTO.udp, extensions: [{ type: IPPROTO.hopopts }], payload: udp({ sport: 1, dport: 4789, payload: vxlan({ vni: 1, payload: innerV4 }) }) }) }), outcome: 'unsupported' },

  // Outer address filters.
  { name: 'destination inside decapPrefixes', frame: vx(), settings: { decapPrefixes: ['10.1.0.0/16'] }, outcome: 'decapsulated', vni: { key: 'vxlan/100', overhead: 50 } },
  { name: 'destination outside decapPrefixes', frame: vx({ outerDst: '10.2.0.2' }), settings: { decapPrefixes: ['10.1.0.0/16'] }, outcome: 'filtered' },
  { name: 'IPv6 destination with only IPv4 decapPrefixes', frame: vxlanFrame({ ...V6, vni: 1, inner: innerV4 }), settings: { decapPrefixes: ['10.1.0.0/16'] }, outcome: 'filtered' },
  { name: 'IPv6 destination inside an IPv6 decapPrefix', frame: vxlanFrame({ ...V6, vni: 1, inner: innerV4 }), settings: { decapPrefixes: ['fd00::/64'] }, outcome: 'decapsulated', vni: { key: 'vxlan/1', overhead: 70 } },
  { name: 'source in excludePrefixes', frame: vx(), settings: { excludePrefixes: ['10.1.0.1/32'] }, outcome: 'excluded' },
  { name: 'destination in excludePrefixes', frame: vx(), settings: { excludePrefixes: ['10.1.0.0/24'] }, outcome: 'excluded' },
  { name: 'exclude wins over decapPrefixes', frame: vx(), settings: { decapPrefixes: ['10.1.0.0/16'], excludePrefixes: ['10.1.0.2/32'] }, outcome: 'excluded' },
  { name: 'IPv6 source in excludePrefixes', frame: geneveFrame({ ...V6, vni: 1, inner: innerV4 }), settings: { excludePrefixes: ['fd00::1/128'] }, outcome: 'excluded' },
];

describe('decap rule table (real program, BPF_PROG_TEST_RUN)', { skip: !IS_ROOT && !process.env['CI'] ? 'needs root (BPF); runs in CI' : false }, () => {
  for (const c of CASES) {
    test(c.name, (t) => {
      if (!requireRoot(t, 'loading the XDP program')) return;
      const prog = new ProgramUnderTest(c.settings);
      try {
        const frame = Buffer.isBuffer(c.frame) ? c.frame : c.frame.frame;
        const r = prog.run(frame);
        assert.equal(r.retval, XDP_PASS, 'the program never drops');
        assert.deepEqual(r.outcomes, { [c.outcome]: 1 }, 'exactly one outcome counted, the expected one');
        if (c.outcome === 'decapsulated') {
          assert.ok(!Buffer.isBuffer(c.frame), 'a decap case needs a TunnelFrame');
          const tf = c.frame as TunnelFrame;
          assert.equal(tf.overhead, c.vni!.overhead, 'test fixture overhead');
          assert.ok(r.out.equals(tf.inner), `output must be the inner frame (${r.out.length} vs ${tf.inner.length} bytes)`);
          assert.deepEqual(r.vnis, { [c.vni!.key]: { packets: 1, bytes: tf.inner.length, overheadBytes: c.vni!.overhead, flows: tf.inner.length > 14 ? 1 : 0 } });
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

describe('flow counting and live settings (real program)', { skip: !IS_ROOT && !process.env['CI'] ? 'needs root (BPF); runs in CI' : false }, () => {
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
    assert.deepEqual({ ...byPort.get(1000), firstSeenNs: 0n, lastSeenNs: 0n }, {
      ifindex: 1, tunnelType: 'vxlan', vni: 11, family: 4, protocol: 17, srcAddr: '192.168.0.1', dstAddr: '192.168.0.2',
      srcPort: 1000, dstPort: 53, packets: 2, bytes: 2 * a.inner.length, firstSeenNs: 0n, lastSeenNs: 0n,
    });
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
    prog.program.applySettings({ ...DEFAULT_DATAPLANE, vxlanPorts: [4789, 9999], genevePorts: [6081], decapPrefixes: [], excludePrefixes: [], trackFlows: true });
    assert.deepEqual(prog.run(frame).outcomes, { decapsulated: 1 });
    prog.program.applySettings({ ...DEFAULT_DATAPLANE, vxlanPorts: [4789, 9999], genevePorts: [6081], decapPrefixes: [], excludePrefixes: ['10.1.0.0/16'], trackFlows: true });
    assert.deepEqual(prog.run(frame).outcomes, { excluded: 1 });
    prog.program.applySettings({ ...DEFAULT_DATAPLANE, vxlanPorts: [4789], genevePorts: [6081], decapPrefixes: [], excludePrefixes: [], trackFlows: false });
    assert.deepEqual(prog.run(frame).outcomes, { not_tunnel: 1 });
    const r = prog.run(vx({ vni: 13 }).frame);
    assert.equal(r.vnis['vxlan/13']?.flows, 0, 'trackFlows off: no flow counted');
    assert.equal(r.vnis['vxlan/13']?.packets, 1);
  });

  test('a full VNI map counts lost updates instead of failing', (t) => {
    if (!requireRoot(t, 'loading the XDP program')) return;
    const small = new ProgramUnderTest({}, { vniCapacity: 2, flowCapacity: 1024 });
    try {
      for (const vni of [1, 2, 3, 4]) assert.deepEqual(small.run(vx({ vni }).frame).outcomes, { decapsulated: 1 }, 'still decapsulated');
      const counters = small.program.readCounters();
      assert.equal(counters.vnis.length, 2);
      assert.equal(counters.lost.vni_stats, 2);
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
});

// What the mirror source sends: inner client traffic through the VXLAN tunnels (ping and the traffic.ts
// generator), crafted Geneve and ERSPAN frames replayed with tcpreplay, plain pings; and what was sent, per tunnel.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TunnelType } from '../decode/tunnel-types.ts';
import { PcapWriter } from '../replay/pcap.ts';
import type { TunnelFrame } from '../testbed/encapsulate.ts';
import { innerFrame } from '../testbed/inner-frame.ts';
import type { Testbed, VxlanTunnel } from '../testbed/testbed.ts';
import { erspanFrame, geneveFrame } from '../testbed/tunnel-frames.ts';
import { demoScript } from './processes.ts';

const GENEVE_VNI = 5000;
const GENEVE_FRAMES = 40;
/** A port-mirror source beside the VTEPs: ERSPAN type II frames of this session, mirroring 172.16.60.0/24. */
const ERSPAN_SESSION = 300;
const ERSPAN_FRAMES = 30;
/** Plain (non-tunnel) pings to the capture host: xdp-decap passes them untouched. */
export const PLAIN_PINGS = 20;

/** Frames a source sent through one tunnel, and their inner bytes (what a correct decap leaves). */
export interface SentRow {
  vni: number;
  type: TunnelType;
  sentFrames: number;
  sentBytes: number;
}

interface CraftedSent {
  frames: number;
  bytes: number;
}

/** The crafted frames `sendDemoTraffic` replayed, per tunnel type. */
export interface CraftedTraffic {
  geneve: CraftedSent;
  erspan: CraftedSent;
}

/** Runs the traffic generator inside the mirror source until it exits. */
export async function sendInnerTraffic(bed: Testbed, tunnels: VxlanTunnel[], seconds: number): Promise<void> {
  const plan = JSON.stringify({ targets: tunnels.map((t) => t.innerDst), durationMs: seconds * 1000, udpPerSecond: 20 });
  const pings = tunnels.map((t) =>
    spawn('ip', ['netns', 'exec', bed.src, 'ping', '-q', '-c', String(seconds * 5), '-i', '0.2', '-W', '0.2', t.innerDst], { stdio: 'ignore' }),
  );
  const gen = spawn('ip', ['netns', 'exec', bed.src, process.execPath, demoScript('traffic'), plan], { stdio: 'ignore' });
  await Promise.all([...pings, gen].map((p) => new Promise((r) => p.once('exit', r))));
}

/**
 * Writes `count` crafted tunnel frames to a pcap and replays them into the capture host with tcpreplay (this
 * kernel may have no Geneve or ERSPAN device); returns what was sent and the inner bytes a correct decap leaves.
 */
function injectCrafted(bed: Testbed, file: string, count: number, build: (i: number) => TunnelFrame): CraftedSent {
  const writer = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
  let bytes = 0;
  try {
    for (let i = 0; i < count; i++) {
      const { frame, inner } = build(i);
      bytes += inner.length;
      writer.write({ tsSec: i, tsFrac: 0, caplen: frame.length, origLen: frame.length, data: frame });
    }
  } finally {
    writer.close();
  }
  const r = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', '-i', bed.srcIf, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tcpreplay failed: ${r.stderr}`);
  return { frames: count, bytes };
}

/** Geneve frames for GENEVE_VNI (UDP to 172.16.50.2:8125). */
function injectGeneve(bed: Testbed, dir: string, capMac: string, srcMac: string): CraftedSent {
  return injectCrafted(bed, join(dir, 'geneve.pcap'), GENEVE_FRAMES, (i) => {
    const inner = innerFrame({ src: '172.16.50.1', dst: '172.16.50.2', protocol: 'udp', sport: 40000 + (i % 4), dport: 8125, payloadSize: 64 });
    return geneveFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, srcMac, dstMac: capMac, vni: GENEVE_VNI, inner });
  });
}

/** A switch's ERSPAN type II port mirror (GRE 0x88BE) of a TCP conversation 172.16.60.1 -> 172.16.60.2:443. */
function injectErspan(bed: Testbed, dir: string, capMac: string, srcMac: string): CraftedSent {
  return injectCrafted(bed, join(dir, 'erspan.pcap'), ERSPAN_FRAMES, (i) => {
    const inner = innerFrame({ src: '172.16.60.1', dst: '172.16.60.2', protocol: 'tcp', sport: 41000 + (i % 3), dport: 443, payloadSize: 100 });
    return erspanFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, srcMac, dstMac: capMac, erspanType: 2, sessionId: ERSPAN_SESSION, seq: i, inner });
  });
}

/**
 * Everything the mirror source sends while xdp-decap runs: `seconds` of inner traffic through the tunnels, the
 * crafted Geneve and ERSPAN frames meanwhile, and the plain pings; returns the crafted frames sent.
 */
export async function sendDemoTraffic(bed: Testbed, dir: string, tunnels: VxlanTunnel[], seconds: number): Promise<CraftedTraffic> {
  const capMac = bed.macOf(bed.cap, bed.capIf);
  const srcMac = bed.macOf(bed.src, bed.srcIf);
  const traffic = sendInnerTraffic(bed, tunnels, seconds);
  const geneve = injectGeneve(bed, dir, capMac, srcMac);
  const erspan = injectErspan(bed, dir, capMac, srcMac);
  spawnSync('ip', ['netns', 'exec', bed.src, 'ping', '-q', '-c', String(PLAIN_PINGS), '-i', '0.05', '-W', '0.5', bed.capIp]);
  await traffic;
  return { geneve, erspan };
}

/** The transmit counters of each tunnel's VXLAN device. */
export function vxlanTxCounters(bed: Testbed, tunnels: VxlanTunnel[]): Array<{ packets: number; bytes: number }> {
  return tunnels.map((t) => bed.txCounters(t.device));
}

/** What was sent per tunnel: the VXLAN devices' counts between two reads of their counters, then the crafted frames. */
export function sentRows(
  tunnels: VxlanTunnel[],
  txBefore: Array<{ packets: number; bytes: number }>,
  txAfter: Array<{ packets: number; bytes: number }>,
  crafted: CraftedTraffic,
): SentRow[] {
  const rows: SentRow[] = tunnels.map((t, i) => {
    const frames = txAfter[i]!.packets - txBefore[i]!.packets;
    // A VXLAN device counts IP bytes; the inner frame adds its 14-byte Ethernet header.
    const bytes = txAfter[i]!.bytes - txBefore[i]!.bytes + 14 * frames;
    return { vni: t.vni, type: 'vxlan', sentFrames: frames, sentBytes: bytes };
  });
  rows.push({ vni: GENEVE_VNI, type: 'geneve', sentFrames: crafted.geneve.frames, sentBytes: crafted.geneve.bytes });
  rows.push({ vni: ERSPAN_SESSION, type: 'erspan', sentFrames: crafted.erspan.frames, sentBytes: crafted.erspan.bytes });
  return rows;
}

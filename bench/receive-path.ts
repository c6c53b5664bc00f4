// Shared by the receive-path benchmarks: the mirrored VXLAN capture they replay, and an attached program's bpf_stats.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PcapWriter } from '../src/replay/pcap.ts';
import { innerFrame, vxlanFrame } from '../src/testbed/packets.ts';
import { inNs, type Testbed } from '../src/testbed/testbed.ts';

/** Distinct frames in the capture: 500 inner UDP flows over 10 VNIs. */
export const CAPTURE_FRAMES = 500;

/**
 * Writes the capture into the testbed's bench directory and returns its path. Mirrored traffic is addressed to
 * other hosts: the capture interface is put in promiscuous mode and sees it, and the stack drops what reaches
 * it (outer frames without XDP, inner frames with it) as PACKET_OTHERHOST.
 */
export function writeMirroredVxlanCapture(bed: Testbed): string {
  const file = join(bed.dirForBench(), 'vxlan.pcap');
  const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
  inNs(bed.cap, 'ip', ['link', 'set', bed.capIf, 'promisc', 'on']);
  const mirroredMac = '02:00:5e:00:00:99';
  for (let i = 0; i < CAPTURE_FRAMES; i++) {
    const inner = innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp', sport: 1024 + i, dport: 53, payloadSize: 64 });
    const f = vxlanFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, dstMac: mirroredMac, vni: 100 + (i % 10), inner, sport: 40000 + i }).frame;
    w.write({ tsSec: 0, tsFrac: i, caplen: f.length, origLen: f.length, data: f });
  }
  w.close();
  return file;
}

/** run_time_ns and run_cnt of a loaded program (both 0 unless kernel.bpf_stats_enabled is 1). */
export function programRunStats(id: number): { ns: number; runs: number } {
  const info = JSON.parse(spawnSync('bpftool', ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' }).stdout || '{}') as {
    run_time_ns?: number;
    run_cnt?: number;
  };
  return { ns: info.run_time_ns ?? 0, runs: info.run_cnt ?? 0 };
}

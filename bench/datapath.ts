// Datapath throughput: VXLAN frames pushed through a veth pair between two namespaces (tcpreplay at top speed),
// received with no XDP, with xdp-decap (generic mode), and each with a tcpdump tap after it. Reports receiver
// packets per second and softirq CPU per packet, as ratios to "no XDP" measured in the same run.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapWriter } from '../src/replay/pcap.ts';
import { startCapture } from '../src/testbed/capture.ts';
import { innerFrame, vxlanFrame } from '../src/testbed/packets.ts';
import { inNs, Testbed } from '../src/testbed/testbed.ts';
import { median, report, SMOKE, type BenchRow } from './lib.ts';
import { REPO_ROOT } from '../test/lib/env.ts';

const LOOPS = SMOKE ? 20 : 2000; // x 500 distinct frames
const ROUNDS = SMOKE ? 1 : 3;

/** softirq jiffies summed over CPUs (/proc/stat "cpu" line, 7th value). */
function softirqTicks(): number {
  return Number(readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)[7]);
}

const bed = Testbed.create('bench');
try {
  const file = join(bed.dirForBench(), 'vxlan.pcap');
  const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
  // Mirrored traffic is addressed to other hosts: the capture interface sees it in promiscuous mode, and the
  // stack drops what reaches it (outer frames without XDP, inner frames with it) as PACKET_OTHERHOST.
  inNs(bed.cap, 'ip', ['link', 'set', bed.capIf, 'promisc', 'on']);
  const mirroredMac = '02:00:5e:00:00:99';
  for (let i = 0; i < 500; i++) {
    const inner = innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp', sport: 1024 + i, dport: 53, payloadSize: 64 });
    const f = vxlanFrame({ outerSrc: bed.srcIp, outerDst: bed.capIp, dstMac: mirroredMac, vni: 100 + (i % 10), inner, sport: 40000 + i }).frame;
    w.write({ tsSec: 0, tsFrac: i, caplen: f.length, origLen: f.length, data: f });
  }
  w.close();

  const rx = () => Number(inNs(bed.cap, 'cat', [`/sys/class/net/${bed.capIf}/statistics/rx_packets`]));
  async function push(): Promise<{ pps: number; softirqPerPacket: number }> {
    const r0 = rx();
    const s0 = softirqTicks();
    const t0 = performance.now();
    const r = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', '-K', `--loop=${LOOPS}`, '-i', bed.srcIf, file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tcpreplay: ${r.stderr}`);
    const seconds = (performance.now() - t0) / 1000;
    const packets = rx() - r0;
    return { pps: packets / seconds, softirqPerPacket: (softirqTicks() - s0) / packets };
  }

  async function withDecap<T>(fn: () => Promise<T>): Promise<T> {
    const cli = join(REPO_ROOT, 'src', 'cli.ts');
    const p = spawn('ip', ['netns', 'exec', bed.cap, process.execPath, cli, 'run', '--interface', bed.capIf], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_METRIC_EXPORT_INTERVAL: '3600000' } });
    await new Promise<void>((resolve, reject) => {
      let said = '';
      p.stderr.on('data', (d: Buffer) => {
        said += d.toString();
        if (/attached in/.test(said)) resolve();
      });
      p.once('exit', () => reject(new Error(`xdp-decap run exited: ${said}`)));
    });
    try {
      return await fn();
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
  }

  /** The trivial XDP_PASS program in generic mode: what the generic hook itself costs. */
  async function withTrivialXdp<T>(fn: () => Promise<T>): Promise<T> {
    inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'obj', join(REPO_ROOT, 'build', 'pass.bpf.o'), 'sec', 'xdp.frags']);
    try {
      return await fn();
    } finally {
      inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'off']);
    }
  }

  async function withTap<T>(fn: () => Promise<T>): Promise<T> {
    const tap = await startCapture(bed.cap, bed.capIf, '/dev/null', ['-Q', 'in']);
    try {
      return await fn();
    } finally {
      await tap.stop();
    }
  }

  const cases: Record<string, () => Promise<{ pps: number; softirqPerPacket: number }>> = {
    'no XDP': push,
    'trivial XDP_PASS generic': () => withTrivialXdp(push),
    'xdp-decap generic': () => withDecap(push),
    'no XDP + tcpdump': () => withTap(push),
    'xdp-decap generic + tcpdump': () => withDecap(() => withTap(push)),
  };
  const results = new Map<string, Array<{ pps: number; softirqPerPacket: number }>>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(cases)) (results.get(name) ?? results.set(name, []).get(name)!).push(await run());
  }
  const med = (name: string, k: 'pps' | 'softirqPerPacket') => median(results.get(name)!.map((x) => x[k]));
  const rows: BenchRow[] = [];
  for (const [name, base] of [['xdp-decap generic', 'no XDP'], ['xdp-decap generic', 'trivial XDP_PASS generic'], ['trivial XDP_PASS generic', 'no XDP'], ['xdp-decap generic + tcpdump', 'no XDP + tcpdump']] as const) {
    const pps = med(name, 'pps') / med(base, 'pps');
    const cpu = med(name, 'softirqPerPacket') / Math.max(med(base, 'softirqPerPacket'), 1e-12);
    const targeted = name === 'xdp-decap generic' && base === 'no XDP';
    rows.push({ name: `${name} / ${base}: receiver pps`, measured: pps, unit: 'ratio', target: targeted ? '>= 0.95' : undefined, met: targeted ? pps >= 0.95 : undefined, context: `${Math.round(med(name, 'pps'))} vs ${Math.round(med(base, 'pps'))} pps` });
    rows.push({ name: `${name} / ${base}: softirq CPU per packet`, measured: cpu, unit: 'ratio', target: targeted ? '<= 1.05' : undefined, met: targeted ? cpu <= 1.05 : undefined, context: `${(med(name, 'softirqPerPacket') * 1e6).toFixed(2)} vs ${(med(base, 'softirqPerPacket') * 1e6).toFixed(2)} ticks per Mpkt` });
  }
  report('datapath', rows, { framesPerRun: LOOPS * 500, rounds: ROUNDS, generator: 'tcpreplay --topspeed -K' });
} finally {
  bed.destroy();
}

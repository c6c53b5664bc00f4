// Replay memory: peak RSS of `xdp-decap replay` on a 100k-frame and a 1M-frame capture, as a ratio; streaming
// means the larger capture must not need more memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli.ts';
import { PcapWriter } from '../src/replay/pcap.ts';
import { innerFrame, vxlanFrame } from '../src/testbed/packets.ts';
import { report, SMOKE } from './lib.ts';

if (process.argv[2] === '--child') {
  // Runs the real CLI in this process, then reports this process's peak RSS.
  const started = performance.now();
  const code = await main(['replay', process.argv[3]!, '--out', process.argv[4]!, '--json']);
  console.error(JSON.stringify({ code, maxRssMB: process.resourceUsage().maxRSS / 1024, seconds: (performance.now() - started) / 1000 }));
  process.exit(code);
}

const SIZES = SMOKE ? [1000, 10_000] : [100_000, 1_000_000];
const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-bench-replay-'));
try {
  const results = SIZES.map((frames) => {
    const file = join(dir, `in-${frames}.pcap`);
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    for (let i = 0; i < frames; i++) {
      const inner = innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp', sport: 1024 + (i % 5000), dport: 53, payloadSize: 100 });
      const f = vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 1 + (i % 300), inner }).frame;
      w.write({ tsSec: 1_700_000_000 + Math.floor(i / 1000), tsFrac: i % 1000, caplen: f.length, origLen: f.length, data: f });
    }
    w.close();
    const r = spawnSync(process.execPath, [import.meta.filename, '--child', file, join(dir, `out-${frames}.pcap`)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`replay of ${frames} frames failed: ${r.stderr}`);
    const m = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { maxRssMB: number; seconds: number };
    const summary = JSON.parse(r.stdout) as { frames: number; decapsulated: number };
    if (summary.frames !== frames || summary.decapsulated !== frames) throw new Error(`replay summary wrong: ${r.stdout.slice(0, 200)}`);
    return { frames, fileMB: statSync(file).size / 2 ** 20, ...m };
  });
  const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
  const ratio = large.maxRssMB / small.maxRssMB;
  report('replay-memory', [
    {
      name: `peak RSS, ${large.frames} vs ${small.frames} frames`,
      measured: ratio,
      unit: 'ratio',
      target: '~1 (bounded)',
      met: ratio <= 1.15,
      context: `${large.maxRssMB.toFixed(0)} MB vs ${small.maxRssMB.toFixed(0)} MB for ${large.fileMB.toFixed(0)} vs ${small.fileMB.toFixed(0)} MB captures`,
    },
    {
      name: `replay speed, ${large.frames} frames`,
      measured: large.frames / large.seconds,
      unit: 'frames/s',
      context: `${large.seconds.toFixed(1)} s, read + BPF_PROG_TEST_RUN + write per frame`,
    },
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

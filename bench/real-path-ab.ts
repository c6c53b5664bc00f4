// A/B of decap builds in the real receive path: each attached in turn (generic) to the datapath testbed, the same capture replayed, bpf_stats read.
// Usage: sudo node bench/real-path-ab.ts [--rounds N] [--loops N] [--cpu N] OBJECT[:notrack]...
//   OBJECT: a decap object this tree's loader can load: build/decap.bpf.o, or one built from a variant of bpf/.
// Every round attaches the trivial XDP_PASS program, the floor (bpf/floor.bpf.c) and each build, replays the
// mirrored capture (bench/receive-path.ts) with tcpreplay pinned to one CPU (so the softirq runs there too), and
// reads the kernel's run_time_ns / run_cnt (kernel.bpf_stats_enabled on for the run, restored after). Prints per
// program the median and min ns per run, and its work over trivial against the floor's (medians). On a nested
// VM the same build varies by tens of ns between runs: use 10 or more rounds to tell 20 ns apart.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inNs, Testbed } from '../src/testbed/testbed.ts';
import { REPO_ROOT } from '../test/lib/env.ts';
import { median } from './lib.ts';
import { programRunStats, writeMirroredVxlanCapture } from './receive-path.ts';

function usage(problem: string): never {
  console.error(`real-path-ab: ${problem}; usage: node bench/real-path-ab.ts [--rounds N] [--loops N] [--cpu N] OBJECT[:notrack]...`);
  process.exit(2);
}

let parsed: ReturnType<
  typeof parseArgs<{
    allowPositionals: true;
    options: { rounds: { type: 'string'; default: string }; loops: { type: 'string'; default: string }; cpu: { type: 'string'; default: string } };
  }>
>;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '10' },
      loops: { type: 'string', default: '600' },
      cpu: { type: 'string', default: String(availableParallelism() - 1) },
    },
  });
} catch (e) {
  usage((e as Error).message);
}
const positiveInt = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
};
const ROUNDS = positiveInt('rounds', parsed.values.rounds, 1);
const LOOPS = positiveInt('loops', parsed.values.loops, 1);
const CPU = positiveInt('cpu', parsed.values.cpu, 0);
if (CPU >= availableParallelism()) usage(`--cpu ${CPU} is not one of this machine's CPUs (0-${availableParallelism() - 1})`);
if (parsed.positionals.length === 0) usage('name at least one decap object, e.g. build/decap.bpf.o');
const builds = parsed.positionals.map((arg) => {
  const [path, mode = 'track'] = arg.split(':') as [string, string?];
  if (mode !== 'track' && mode !== 'notrack') usage(`"${arg}": the suffix after ":" is notrack (or track, the default)`);
  if (!existsSync(path)) usage(`"${path}" does not exist (build it with make -C bpf, or give a path to a .bpf.o)`);
  return { label: arg, path: resolve(path), mode };
});
if (process.getuid?.() !== 0) usage('attaching XDP programs needs root: run it with sudo');

const statsBefore = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
const bed = Testbed.create('rpab');
try {
  const capture = writeMirroredVxlanCapture(bed);

  /** Replays the capture LOOPS times against whatever is attached; returns ns per run of program `id`. */
  const nsPerRun = (id: number): number => {
    const before = programRunStats(id);
    const r = spawnSync(
      'ip',
      ['netns', 'exec', bed.src, 'taskset', '-c', String(CPU), 'tcpreplay', '-q', '--topspeed', '-K', `--loop=${LOOPS}`, '-i', bed.srcIf, capture],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`tcpreplay on ${bed.srcIf}: ${r.stderr.trim()}`);
    const after = programRunStats(id);
    if (after.runs === before.runs) throw new Error(`program ${id} on ${bed.capIf} never ran: is kernel.bpf_stats_enabled 1?`);
    return (after.ns - before.ns) / (after.runs - before.runs);
  };

  /** A child that attaches a program in the capture namespace, prints its id and detaches when stdin closes. */
  async function withChild(script: string, args: string[]): Promise<number> {
    const child = spawn('ip', ['netns', 'exec', bed.cap, process.execPath, join(REPO_ROOT, 'bench', script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const id = await new Promise<number>((res, rej) => {
        child.stdout.once('data', (d: Buffer) => res(Number(d.toString().trim())));
        child.once('exit', (code) => rej(new Error(`${script} ${args.join(' ')} exited ${code} before attaching`)));
      });
      return nsPerRun(id);
    } finally {
      child.stdin.end();
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
  }

  function trivial(): number {
    inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'obj', join(REPO_ROOT, 'build', 'pass.bpf.o'), 'sec', 'xdp.frags']);
    try {
      const link = JSON.parse(inNs(bed.cap, 'ip', ['-j', '-d', 'link', 'show', bed.capIf])) as Array<{ xdp?: { prog?: { id: number } } }>;
      return nsPerRun(link[0]?.xdp?.prog?.id ?? 0);
    } finally {
      inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'off']);
    }
  }

  const runs: Array<[string, () => number | Promise<number>]> = [
    ['trivial XDP_PASS', trivial],
    ['floor', () => withChild('attach-baseline.ts', ['xdp_floor', bed.capIf])],
    ...builds.map((b): [string, () => Promise<number>] => [b.label, () => withChild('attach-decap.ts', [b.path, bed.capIf, b.mode])]),
  ];
  const samples = new Map<string, number[]>(runs.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of runs) samples.get(name)!.push(await run());
  }
  const trivialNs = median(samples.get('trivial XDP_PASS')!);
  const floorWork = median(samples.get('floor')!) - trivialNs;
  console.log(`receive path, ns per run (bpf_stats), ${ROUNDS} rounds of ${LOOPS} x the capture, tcpreplay on CPU ${CPU}`);
  for (const [name, xs] of samples) {
    const m = median(xs);
    const work =
      name === 'trivial XDP_PASS' ? '' : `  work ${(m - trivialNs).toFixed(0)} ns = ${((m - trivialNs) / Math.max(floorWork, 0.5)).toFixed(2)}x the floor's`;
    console.log(
      `${name.padEnd(40)} median ${m.toFixed(0).padStart(4)}  min ${Math.min(...xs)
        .toFixed(0)
        .padStart(4)}${work}   runs: ${xs.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
} finally {
  bed.destroy();
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsBefore);
}

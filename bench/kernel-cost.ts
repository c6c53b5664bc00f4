// Kernel cost: ns per packet of the decap program under BPF_PROG_TEST_RUN, as a ratio to a trivial XDP_PASS
// program measured in the same run. Every repeat sees the full encapsulated frame (bench build that restores
// the head); the counters after each timed run prove every repeat was decapsulated (or skipped) as expected.
import { BpfObject } from '../src/ffi/bpf-object.ts';
import { DecapProgram, DEFAULT_DATAPLANE, bpfObjectPath } from '../src/program/decap-program.ts';
import { ETHERTYPE, IPPROTO, ethernet, geneveFrame, innerFrame, ipv4, tcp, vxlanFrame } from '../src/testbed/packets.ts';
import { median, report, SMOKE, type BenchRow } from './lib.ts';

const REPEAT = SMOKE ? 1000 : 2_000_000;
const ROUNDS = SMOKE ? 1 : 7;

const inner = innerFrame({ src: '192.168.1.10', dst: '192.168.1.20', protocol: 'tcp', sport: 33000, dport: 443, payloadSize: 400 });
const FRAMES = {
  'vxlan (existing flow)': { frame: vxlanFrame({ outerSrc: '10.1.0.1', outerDst: '10.1.0.2', vni: 100, inner }).frame, outcome: 'decapsulated', object: 'decap-bench' },
  'vxlan (new flow each packet)': { frame: vxlanFrame({ outerSrc: '10.1.0.1', outerDst: '10.1.0.2', vni: 101, inner }).frame, outcome: 'decapsulated', object: 'decap-bench-newflow' },
  'geneve (8 B options)': { frame: geneveFrame({ outerSrc: '10.1.0.1', outerDst: '10.1.0.2', vni: 7000, inner, options: Buffer.alloc(8, 1) }).frame, outcome: 'decapsulated', object: 'decap-bench' },
  'non-tunnel (TCP)': { frame: ethernet({ etherType: ETHERTYPE.ipv4, payload: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO.tcp, payload: tcp({ sport: 1, dport: 443, payload: Buffer.alloc(400) }) }) }), outcome: 'not_tunnel', object: 'decap-bench' },
} as const;

const TARGETS: Record<string, number> = { 'vxlan (existing flow)': 1.5, 'non-tunnel (TCP)': 1.1 };

function loadDecap(name: string): DecapProgram {
  process.env['XDP_DECAP_BPF_OBJECT'] = bpfObjectPath(name);
  try {
    return DecapProgram.load(DEFAULT_DATAPLANE, { vniCapacity: 1024, flowCapacity: 65536 });
  } finally {
    delete process.env['XDP_DECAP_BPF_OBJECT'];
  }
}

const trivialObject = BpfObject.open(bpfObjectPath('pass'));
trivialObject.load();
const trivial = trivialObject.program('xdp_pass');
const programs = new Map<string, DecapProgram>();
for (const { object } of Object.values(FRAMES)) if (!programs.has(object)) programs.set(object, loadDecap(object));

const samples = new Map<string, number[]>();
const trivialSamples = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  // Interleaved: each case is timed next to the trivial program on the same frame, round after round.
  for (const [name, c] of Object.entries(FRAMES)) {
    const prog = programs.get(c.object)!;
    const before = prog.readCounters().outcomes.filter((o) => o.outcome === c.outcome).reduce((s, o) => s + o.packets, 0);
    const r = prog.program.testRun(c.frame, { repeat: REPEAT });
    const after = prog.readCounters().outcomes.filter((o) => o.outcome === c.outcome).reduce((s, o) => s + o.packets, 0);
    if (r.retval !== 2) throw new Error(`${name}: verdict ${r.retval}, expected XDP_PASS`);
    if (after - before !== REPEAT) throw new Error(`${name}: ${after - before} of ${REPEAT} repeats counted as ${c.outcome}`);
    if (!r.dataOut.equals(c.frame)) throw new Error(`${name}: the bench build must leave the frame as it found it`);
    (samples.get(name) ?? samples.set(name, []).get(name)!).push(r.durationNs);
    const t = trivial.testRun(c.frame, { repeat: REPEAT });
    (trivialSamples.get(name) ?? trivialSamples.set(name, []).get(name)!).push(t.durationNs);
  }
}

// One plain (non-bench) run proves the real object decapsulates this frame to the inner one.
const real = DecapProgram.load();
if (!real.program.testRun(FRAMES['vxlan (existing flow)'].frame).dataOut.equals(inner)) throw new Error('real program did not decapsulate');
real.close();

const rows: BenchRow[] = [];
for (const name of Object.keys(FRAMES)) {
  const ns = median(samples.get(name)!);
  const base = median(trivialSamples.get(name)!);
  const ratio = ns / Math.max(base, 1);
  const target = TARGETS[name];
  rows.push({ name: `${name}: decap / trivial`, measured: ratio, unit: 'ratio', target: target ? `<= ${target}` : undefined, met: target ? ratio <= target : undefined, context: `${ns} ns vs ${base} ns per packet, median of ${ROUNDS} x ${REPEAT}` });
}
report('kernel-cost', rows, { repeat: REPEAT, rounds: ROUNDS });
for (const p of programs.values()) p.close();
trivialObject.close();

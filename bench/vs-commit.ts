// A/B of the kernel program against its bench build at another commit: same frames, same run, interleaved.
// Usage: node bench/vs-commit.ts COMMIT (e.g. 11b967a, the program before tunnel types were a table).
// Prints min and median ns per packet of each build, flow tracking on and off, for VXLAN, Geneve, GRE and ERSPAN frames;
// "min" is the steadier figure on a shared machine (the slower runs are other work taking the CPU).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfObject } from '../src/ffi/bpf-object.ts';
import { bpfObjectPath, DEFAULT_DATAPLANE, DecapProgram } from '../src/program/decap-program.ts';
import { erspanFrame, geneveFrame, greFrame, innerFrame, vxlanFrame } from '../src/testbed/packets.ts';
import { REPO_ROOT } from '../test/lib/env.ts';

const commit = process.argv[2];
if (!commit) {
  console.error('usage: node bench/vs-commit.ts COMMIT');
  process.exit(2);
}
const REPEAT = 1_000_000;
const ROUNDS = 21;
const inner = innerFrame({ src: '192.168.1.10', dst: '192.168.1.20', protocol: 'tcp', sport: 33000, dport: 443, payloadSize: 400 });
const outer = { outerSrc: '10.1.0.1', outerDst: '10.1.0.2' };
const frames = {
  vxlan: vxlanFrame({ ...outer, vni: 100, inner }).frame,
  geneve: geneveFrame({ ...outer, vni: 7000, inner, options: Buffer.alloc(8, 1) }).frame,
  gre: greFrame({ ...outer, key: 77, seq: 1, inner }).frame,
  erspan: erspanFrame({ ...outer, erspanType: 2, sessionId: 300, inner }).frame,
};

/** The bench build (head restored after each repeat) of bpf/ at `rev`, compiled into a temporary directory. */
function buildAt(rev: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-vs-'));
  // Every source of bpf/ at that commit: the headers have been split and renamed over time.
  const files = execFileSync('git', ['-C', REPO_ROOT, 'ls-tree', '--name-only', `${rev}:bpf`], { encoding: 'utf8' })
    .trim()
    .split('\n');
  for (const f of files.filter((name) => name.endsWith('.h') || name === 'decap.bpf.c')) {
    writeFileSync(join(dir, f), execFileSync('git', ['-C', REPO_ROOT, 'show', `${rev}:bpf/${f}`]));
  }
  const arch = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-I/usr/include/${arch}-linux-gnu`,
    '-DBENCH_RESTORE_HEAD',
    '-c',
    join(dir, 'decap.bpf.c'),
    '-o',
    join(dir, 'old.bpf.o'),
  ]);
  return dir;
}

/** The other commit's program, its settings written by hand: VXLAN 4789, Geneve 6081, flow tracking as asked. */
function loadOther(path: string, track: boolean): BpfObject {
  const o = BpfObject.open(path);
  o.load();
  const k = Buffer.alloc(4);
  const v = Buffer.alloc(4);
  for (const [port, type] of [
    [4789, 1],
    [6081, 2],
  ] as const) {
    k.writeUInt32LE(port);
    v.writeUInt32LE(type);
    o.map('tunnel_ports').update(k, v);
  }
  // GRE (0x6558) and ERSPAN (0x88BE, 0x22EB), where the other build knows them (gre_protocols, decap_config.gre).
  let gre = false;
  try {
    const protocols = o.map('gre_protocols');
    for (const [proto, type] of [
      [0x6558, 4],
      [0x88be, 5],
      [0x22eb, 5],
    ] as const) {
      k.writeUInt32LE(proto);
      v.writeUInt32LE(type);
      protocols.update(k, v);
    }
    gre = true;
  } catch {
    // a build before GRE: its GRE and ERSPAN rows show what a non-tunnel costs there
  }
  // decap_config: track_flows at offset 8, flow_sync_ms at 20 in every version that has a flow cache, gre at 24.
  const cfgMap = o.map('decap_cfg');
  const cfg = Buffer.alloc(cfgMap.userValueSize);
  cfg.writeUInt32LE(track ? 1 : 0, 8);
  if (cfg.length >= 24) cfg.writeUInt32LE(1000, 20);
  if (cfg.length >= 28 && gre) cfg.writeUInt32LE(1, 24);
  k.writeUInt32LE(0);
  cfgMap.update(k, cfg);
  return o;
}

const dir = buildAt(commit);
try {
  const runs: Array<[string, (f: Buffer) => number]> = [];
  for (const track of [true, false]) {
    const other = loadOther(join(dir, 'old.bpf.o'), track).program('xdp_decap');
    runs.push([`${commit} ${track ? 'flows on' : 'flows off'}`, (f) => other.testRun(f, { repeat: REPEAT }).durationNs]);
    const now = DecapProgram.load({ ...DEFAULT_DATAPLANE, trackFlows: track }, { vniCapacity: 1024, flowCapacity: 65536 }, bpfObjectPath('decap-bench'));
    runs.push([`this tree ${track ? 'flows on' : 'flows off'}`, (f) => now.program.testRun(f, { repeat: REPEAT }).durationNs]);
  }
  const samples = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of runs) {
      for (const [kind, frame] of Object.entries(frames)) {
        const key = `${kind.padEnd(7)} ${name}`;
        (samples.get(key) ?? samples.set(key, []).get(key)!).push(run(frame));
      }
    }
  }
  for (const [key, v] of [...samples].sort(([a], [b]) => a.localeCompare(b))) {
    v.sort((a, b) => a - b);
    console.log(`${key.padEnd(36)} min ${v[0]} ns, median ${v[v.length >> 1]} ns per packet`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

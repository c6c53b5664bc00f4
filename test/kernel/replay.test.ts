// `xdp-decap replay` end to end: a capture written by tcpdump of real VXLAN traffic, checked against tshark's decoding.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BpfError } from '../../src/ffi/errors.ts';
import { PcapReader, PcapWriter } from '../../src/replay/pcap.ts';
import { startCapture } from '../../src/testbed/capture.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { CLI, runCli } from '../lib/cli.ts';
import { IS_ROOT, requireRoot, requireTool, which } from '../lib/env.ts';
import { pcapng } from '../lib/pcapng.ts';
import { ProgramUnderTest } from '../lib/program.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (BPF, namespaces); runs in CI' : false;

function readAll(file: string) {
  const r = PcapReader.open(file);
  const out = [];
  try {
    for (let rec = r.next(); rec; rec = r.next()) out.push(rec);
  } finally {
    r.close();
  }
  return out;
}

/** tshark's own decoding: one row per frame, tab-separated fields. */
function tshark(file: string, fields: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.split('\t'));
}

describe('xdp-decap replay on a real tcpdump capture', { skip: SKIP }, () => {
  let dir: string;
  let capture: string;
  let bed: Testbed | undefined;

  before(async () => {
    if (!IS_ROOT) return;
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-replay-'));
    capture = join(dir, 'mirror.pcap');
    bed = Testbed.create('replay');
    const a = bed.addVxlan(100);
    const b = bed.addVxlan(200);
    const tap = await startCapture(bed.src, bed.srcIf, capture);
    bed.ping(a, 12, 56);
    bed.ping(b, 7, 1200);
    spawnSync('ip', ['netns', 'exec', bed.src, 'ping', '-q', '-c', '5', '-i', '0.01', '-W', '0.1', bed.capIp]);
    await tap.stop();
  });
  after(() => {
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('summary (--json) matches tshark; OUT has one frame per input frame, decapsulated or untouched, timestamps kept', (t) => {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'tshark')) return;
    const out = join(dir, 'out.pcap');
    const r = runCli(['replay', capture, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);

    // tshark also decodes the VXLAN header quoted inside ICMP errors (port unreachable from the capture host):
    // those frames are ICMP, not tunnel traffic, and must pass untouched.
    const rows = tshark(capture, ['frame.len', 'vxlan.vni', 'ip.proto']).map(
      ([len, vni, outerProto]) => [len, outerProto === '17' ? vni : ''] as [string, string],
    );
    const vxlanRows = rows.filter(([, vni]) => vni);
    assert.ok(vxlanRows.length >= 19, 'all 19 pings crossed the tunnels');
    assert.equal(summary.frames, rows.length);
    assert.equal(summary.decapsulated, vxlanRows.length);
    assert.deepEqual(Object.keys(summary).sort(), ['decapsulated', 'frames', 'skipped', 'vnis']);
    assert.equal(summary.skipped.not_tunnel, rows.length - vxlanRows.length, 'plain pings and replies pass as not_tunnel');
    for (const vni of [100, 200]) {
      const mine = vxlanRows.filter(([, v]) => Number(v) === vni);
      const row = summary.vnis.find((x: { vni: number }) => x.vni === vni);
      assert.deepEqual(row, {
        vni,
        type: 'vxlan',
        packets: mine.length,
        bytes: mine.reduce((s, [len]) => s + Number(len) - 50, 0),
        overheadBytes: 50 * mine.length,
        flows: 1,
      });
    }

    const input = readAll(capture);
    const output = readAll(out);
    assert.equal(output.length, input.length, 'one output frame per input frame');
    input.forEach((inRec, i) => {
      const outRec = output[i]!;
      assert.equal(outRec.tsSec, inRec.tsSec);
      assert.equal(outRec.tsFrac, inRec.tsFrac);
      if (rows[i]![1]) assert.ok(outRec.data.equals(inRec.data.subarray(50)), `frame ${i + 1}: the inner frame`);
      else assert.ok(outRec.data.equals(inRec.data), `frame ${i + 1}: untouched`);
    });
    // tshark reads OUT as ordinary traffic: the inner ICMP between the tunnel's inner addresses, no VXLAN left.
    const decoded = tshark(out, ['ip.src', 'ip.dst', 'udp.dstport']).filter((_, i) => rows[i]![1]);
    assert.ok(
      decoded.every(([src, , dport]) => src?.startsWith('192.168.') && !dport),
      'decapsulated frames decode as inner ICMP',
    );
  });

  test('text summary names totals, skip reasons and VNIs', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const r = runCli(['replay', capture, '--out', join(dir, 'out2.pcap')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^frames \d+ {2}decapsulated \d+ {2}skipped \d+/);
    assert.match(r.stdout, /not_tunnel/);
    assert.match(r.stdout, /\n100 +vxlan/);
  });

  test('--config applies ports and excludes', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const cfg = join(dir, 'exclude.yaml');
    writeFileSync(cfg, 'excludePrefixes: ["10.200.0.1/32"]\n');
    const r = runCli(['replay', capture, '--out', join(dir, 'out3.pcap'), '--config', cfg, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.decapsulated, 0);
    assert.ok(s.skipped.excluded > 0);
    assert.deepEqual(s.vnis, []);
  });

  test('jumbo frames are decapsulated; frames beyond the test-run limit are reported and written unchanged', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const file = join(dir, 'jumbo.pcap');
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    const inner = innerFrame({ src: '172.16.0.1', dst: '172.16.0.2', protocol: 'udp', payloadSize: 9000 });
    const jumbo = vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 9, inner });
    // Larger than any IP packet: what a capture taken above GRO can hold; the kernel's test-run refuses it.
    const huge = Buffer.concat([jumbo.frame, Buffer.alloc(200000, 1)]);
    for (const [i, f] of [jumbo.frame, huge, Buffer.alloc(10)].entries()) w.write({ tsSec: i, tsFrac: 0, caplen: f.length, origLen: f.length, data: f });
    w.close();
    const out = join(dir, 'jumbo-out.pcap');
    const r = runCli(['replay', file, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.frames, 3);
    assert.equal(s.decapsulated, 1);
    assert.equal(s.skipped.test_run_refused, 2);
    assert.match(r.stderr, /frame 2: \d+ bytes: BPF_PROG_TEST_RUN refused it/);
    assert.match(r.stderr, /frame 3: 10 bytes: shorter than an Ethernet header/);
    const recs = readAll(out);
    assert.equal(recs.length, 3);
    assert.ok(recs[0]!.data.equals(inner));
    assert.ok(recs[1]!.data.equals(huge));
  });

  test('bad input: exit 2, one line naming the file and the problem, nothing written', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const notCapture = join(dir, 'notes.txt');
    writeFileSync(notCapture, 'these are not packets\n');
    const truncated = join(dir, 'truncated.pcap');
    copyFileSync(capture, truncated);
    truncateSync(truncated, statSync(capture).size - 7);
    const sll = join(dir, 'sll.pcap');
    const w = PcapWriter.open(sll, { linkType: 113, precision: 'micro' });
    w.write({ tsSec: 0, tsFrac: 0, caplen: 20, origLen: 20, data: Buffer.alloc(20) });
    w.close();
    const badConfig = join(dir, 'bad.yaml');
    writeFileSync(badConfig, 'vxlanPorts: [99999]\n');
    const cases: Array<[string[], RegExp]> = [
      [[notCapture], /notes\.txt: not a pcap or pcapng capture/],
      [[truncated], /truncated\.pcap: truncated capture/],
      [[sll], /sll\.pcap: link type 113 \(LINUX_SLL\) is not Ethernet/],
      [[join(dir, 'missing.pcap')], /missing\.pcap: no such file/],
      [[capture, '--config', badConfig], /bad\.yaml: vxlanPorts\[0\]: .*65535/],
      [[capture, '--config', join(dir, 'nope.yaml')], /nope\.yaml: cannot read the config file: no such file/],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, `never-${readdirSync(dir).length}.pcap`);
      const r = runCli(['replay', ...args, '--out', out]);
      assert.equal(r.status, 2, `${args.join(' ')}: exit 2 (${r.stderr})`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.ok(!existsSync(out), 'nothing written');
      assert.ok(!readdirSync(dir).some((f) => f.endsWith('.partial')), 'no partial file left');
    }
    const usage = runCli(['replay', capture]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /needs --out/);
  });

  /** The CLI never reports one of these cases as its own bug (exit 70) or with a stack trace. */
  function assertUserError(r: { status: number | null; stderr: string }, message: RegExp, what: string): void {
    assert.equal(r.status, 2, `${what}: exit 2 (${r.stderr})`);
    assert.match(r.stderr, message, what);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\.partial|internal error|\n\s+at /, `${what}: names the user's path, no stack`);
  }

  test('--out: the input itself, a device node, a FIFO, a directory and a symlink are refused and left as they were', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const work = mkdtempSync(join(dir, 'out-'));
    const input = join(work, 'in.pcap');
    copyFileSync(capture, input);
    const before = readFileSync(input);
    const hardLink = join(work, 'same-inode.pcap');
    spawnSync('ln', [input, hardLink]);
    const device = join(work, 'null-device');
    assert.equal(spawnSync('mknod', [device, 'c', '1', '3']).status, 0, 'mknod');
    const fifo = join(work, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    const sub = join(work, 'subdir');
    mkdirSync(sub);
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const link = join(work, 'link.pcap');
    symlinkSync(victim, link);
    const cases: Array<[string, RegExp]> = [
      [input, /in\.pcap: is the input capture itself; replay would destroy what it reads/],
      [hardLink, /same-inode\.pcap: is the input capture itself/],
      [device, /null-device: is a device node, not a file; give a file path \(--out - writes to stdout\)/],
      [fifo, /fifo: is a FIFO, not a file/],
      [sub, /subdir: is a directory; give a file name in it/],
      [link, /link\.pcap: is a symbolic link; give the path of the file itself/],
      [join(work, 'missing', 'out.pcap'), /missing\/out\.pcap: the directory \S+missing does not exist; give a writable directory/],
    ];
    for (const [out, message] of cases) assertUserError(runCli(['replay', input, '--out', out]), message, out);
    assert.ok(readFileSync(input).equals(before), 'the input is intact');
    assert.ok(lstatSync(device).isCharacterDevice(), 'the device node is still a device node');
    assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.deepEqual(
      readdirSync(work).filter((f) => f.includes('.partial')),
      [],
      'no temporary file left',
    );
  });

  test('a symlink planted where the temporary file used to go (.OUT.PID.partial) is not followed', (t) => {
    if (!requireRoot(t, 'replay')) return;
    const work = mkdtempSync(join(dir, 'plant-'));
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    // The shell plants the link for its own pid, then execs replay under that same pid.
    const r = spawnSync(
      'sh',
      ['-c', 'ln -s "$1" "$2/.out.pcap.$$.partial" && exec "$3" "$4" replay "$5" --out "$2/out.pcap"', 'plant', victim, work, process.execPath, CLI, capture],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the victim is untouched');
    const planted = readdirSync(work).filter((f) => f.endsWith('.partial'));
    assert.equal(planted.length, 1, 'the planted link is still there, and no temporary file is left');
    assert.equal(readlinkSync(join(work, planted[0]!)), victim);
    assert.equal(readAll(join(work, 'out.pcap')).length, readAll(capture).length, 'the output is a whole capture');
  });

  test('stdin and stdout: tcpdump -w - | replay - --out x.pcap, replay - --out - | tshark -r -, and a FIFO, each read once', async (t) => {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'tshark')) return;
    const work = mkdtempSync(join(dir, 'pipe-'));
    const fromFile = runCli(['replay', capture, '--out', join(work, 'file.pcap'), '--json']);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    const expected = readFileSync(join(work, 'file.pcap'));

    const viaStdin = spawnSync(
      'sh',
      ['-c', 'cat "$1" | "$2" "$3" replay - --out "$4" --json', 'pipe', capture, process.execPath, CLI, join(work, 'stdin.pcap')],
      { encoding: 'utf8', timeout: 60000 },
    );
    assert.equal(viaStdin.status, 0, viaStdin.stderr);
    assert.deepEqual(JSON.parse(viaStdin.stdout), JSON.parse(fromFile.stdout), 'same summary as from the file');
    assert.ok(readFileSync(join(work, 'stdin.pcap')).equals(expected), 'same output as from the file');

    const both = spawnSync(
      'sh',
      ['-c', 'cat "$1" | "$2" "$3" replay - --out - --json | tshark -r - -T fields -e frame.len', 'pipe', capture, process.execPath, CLI],
      { encoding: 'utf8', timeout: 60000 },
    );
    assert.equal(both.status, 0, both.stderr);
    const lengths = readAll(join(work, 'file.pcap')).map((r) => String(r.origLen));
    assert.deepEqual(both.stdout.trim().split('\n'), lengths, 'tshark reads the capture from stdout');
    assert.match(both.stderr, /"frames":\d+/, 'the summary goes to stderr when the capture takes stdout');

    // A FIFO whose writer has finished and gone before replay reads: read once, it cannot hang.
    const fifo = join(work, 'in.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const feeder = spawn('sh', ['-c', 'cat "$1" > "$2"', 'feed', capture, fifo], { stdio: 'ignore' });
    const fed = new Promise<number | null>((done) => feeder.on('exit', done));
    const viaFifo = runCli(['replay', fifo, '--out', join(work, 'fifo.pcap'), '--json'], { timeoutMs: 60000 });
    assert.equal(await fed, 0);
    assert.equal(viaFifo.status, 0, `${viaFifo.error ?? ''} ${viaFifo.stderr}`);
    assert.ok(readFileSync(join(work, 'fifo.pcap')).equals(expected), 'same output through a FIFO');
  });

  test('captures tshark reads: out-of-range ts_usec, mixed snaplens, pcapng past 2106 (one line, exit 2)', (t) => {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'mergecap') || !requireTool(t, 'capinfos')) return;
    const work = mkdtempSync(join(dir, 'odd-'));
    const frames = readAll(capture);

    // A microsecond field of 0xFFEA9138 in the first record: replayed, and written back as it was.
    const usec = join(work, 'usec.pcap');
    const bytes = readFileSync(capture);
    bytes.writeUInt32LE(0xffea9138, 24 + 4);
    writeFileSync(usec, bytes);
    assert.equal(spawnSync('capinfos', [usec]).status, 0, 'capinfos reads it');
    const r1 = runCli(['replay', usec, '--out', join(work, 'usec-out.pcap'), '--json']);
    assert.equal(r1.status, 0, r1.stderr);
    assert.equal(JSON.parse(r1.stdout).frames, frames.length);
    assert.equal(readAll(join(work, 'usec-out.pcap'))[0]!.tsFrac, 0xffea9138);

    // Two captures with different snapshot lengths merged into one pcapng (libpcap refuses these).
    const small = join(work, 'small.pcap');
    const w = PcapWriter.open(small, { linkType: 1, precision: 'micro', snaplen: 2000 });
    for (const f of frames) w.write({ ...f, tsSec: f.tsSec + 1 });
    w.close();
    const merged = join(work, 'merged.pcapng');
    assert.equal(spawnSync('mergecap', ['-F', 'pcapng', '-w', merged, capture, small]).status, 0);
    assert.match(spawnSync('capinfos', [merged], { encoding: 'utf8' }).stdout, /Number of interfaces in file: 2/);
    const r2 = runCli(['replay', merged, '--out', join(work, 'merged-out.pcap'), '--json']);
    assert.equal(r2.status, 0, r2.stderr);
    const single = JSON.parse(runCli(['replay', capture, '--out', join(work, 'single.pcap'), '--json']).stdout);
    const both = JSON.parse(r2.stdout);
    assert.equal(both.frames, 2 * single.frames);
    assert.equal(both.decapsulated, 2 * single.decapsulated);

    // A pcapng frame 2^32 + 5 seconds after 1970: a pcap file cannot hold it.
    const late = join(work, 'late.pcapng');
    writeFileSync(
      late,
      pcapng([
        { kind: 'interface' },
        { kind: 'epb', timestamp: 1_700_000_000_000_000n, data: frames[0]!.data },
        { kind: 'epb', timestamp: (2n ** 32n + 5n) * 1_000_000n, data: frames[0]!.data },
      ]),
    );
    assert.equal(spawnSync('capinfos', [late]).status, 0, 'capinfos reads it');
    const out = join(work, 'late-out.pcap');
    assertUserError(
      runCli(['replay', late, '--out', out]),
      /late\.pcapng: frame 2 has timestamp 2106-02-07T06:28:21Z, after 2106-02-07T06:28:15Z, the last second a pcap file can hold; replay writes pcap: shift the times first, by at least 6 seconds: editcap -t -6 IN OUT\n/,
      'past 2106',
    );
    assert.ok(!existsSync(out), 'nothing written');
    assert.deepEqual(
      readdirSync(work).filter((f) => f.includes('.partial')),
      [],
      'no temporary file left',
    );
  });

  test('a pcapng of a little-endian and a big-endian section (cat a.pcapng b.pcapng) replays every frame tshark reads', (t) => {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'tshark') || !requireTool(t, 'editcap')) return;
    const work = mkdtempSync(join(dir, 'sections-'));
    const frames = readAll(capture);
    // The tcpdump capture as editcap writes it as pcapng (this machine's byte order), then the same frames a
    // second later in a big-endian section built byte by byte.
    const little = join(work, 'little.pcapng');
    assert.equal(spawnSync('editcap', ['-F', 'pcapng', capture, little]).status, 0, 'editcap');
    const big = pcapng(
      [
        { kind: 'interface', spec: { tsresol: 9 } },
        ...frames.map((f) => ({ kind: 'epb' as const, timestamp: BigInt(f.tsSec + 1) * 1_000_000_000n + BigInt(f.tsFrac) * 1000n, data: f.data })),
      ],
      false,
    );
    const both = join(work, 'both.pcapng');
    writeFileSync(both, Buffer.concat([readFileSync(little), big]));
    assert.equal(tshark(both, ['frame.len']).length, 2 * frames.length, 'tshark reads every frame of both sections');

    const single = runCli(['replay', capture, '--out', join(work, 'single.pcap'), '--json']);
    assert.equal(single.status, 0, single.stderr);
    const r = runCli(['replay', both, '--out', join(work, 'both.pcap'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const once = JSON.parse(single.stdout);
    const twice = JSON.parse(r.stdout);
    assert.equal(twice.frames, 2 * once.frames);
    assert.equal(twice.decapsulated, 2 * once.decapsulated);
    const expected = readAll(join(work, 'single.pcap'));
    const output = readAll(join(work, 'both.pcap'));
    assert.deepEqual(
      output.map((f) => f.data.toString('hex')),
      [...expected, ...expected].map((f) => f.data.toString('hex')),
      'each section decapsulated as the capture alone',
    );
    assert.deepEqual(
      output.map((f) => [f.tsSec, f.tsFrac]),
      [...expected.map((f) => [f.tsSec, f.tsFrac * 1000]), ...expected.map((f) => [f.tsSec + 1, f.tsFrac * 1000])],
      'timestamps of both sections, in nanoseconds',
    );
  });

  /** The capture's frames over and over: `count` frames, a few MB, so a replay is well under way when stopped. */
  function bigCapture(file: string, count: number): void {
    const frames = readAll(capture);
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    for (let i = 0; i < count; i++) w.write({ ...frames[i % frames.length]!, tsSec: 1_700_000_000 + i });
    w.close();
  }

  /**
   * Runs `replay FIFO --out OUT` as a shell job, as a user's shell would, and reports its status as the shell does.
   * With `fs: 'bindfs'`, OUT's directory is a FUSE mount (bindfs, private to the job's mount namespace) of
   * `backing`: a file system without unnamed files (O_TMPFILE), where replay writes a named temporary file.
   */
  const SIGNAL_JOB = `set -u
work=$1 fs=$2; shift 2
if [ "$fs" = bindfs ]; then
  bindfs -f "$work/backing" "$work/out" & echo $! > "$work/mounter.pid"
  i=0; until mountpoint -q "$work/out"; do i=$((i + 1)); [ $i -gt 200 ] && exit 97; sleep 0.05; done
fi
"$@" & echo $! > "$work/replay.pid"
wait $!; echo $? > "$work/replay.status"
if [ "$fs" = bindfs ]; then
  # The named temporary file goes once replay has gone; give that a moment before the mount does.
  i=0; while ls -A "$work/out" | grep -q partial && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
  umount "$work/out"; wait
fi`;

  /** The file `pid` has open in `dir` (its name, or `#inode (deleted)` for an unnamed one) and its size so far. */
  function fileWrittenIn(pid: number, dir: string): { name: string; size: number } | undefined {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const name = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (name.startsWith(`${dir}/`)) return { name, size: statSync(`/proc/${pid}/fd/${fd}`).size };
      } catch {
        // the descriptor closed while we looked
      }
    }
    return undefined;
  }

  async function waitUntil(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function interruptReplay(big: string, signal: NodeJS.Signals, fs: 'plain' | 'bindfs', existing: boolean): Promise<void> {
    const what = `${signal}, ${fs}, ${existing ? 'replacing a file' : 'a new file'}`;
    const work = mkdtempSync(join(dir, 'signal-'));
    const outDir = join(work, 'out');
    const visible = fs === 'bindfs' ? join(work, 'backing') : outDir; // where the files really land
    mkdirSync(outDir);
    if (fs === 'bindfs') mkdirSync(visible);
    const before = 'the capture replay must not replace\n';
    if (existing) writeFileSync(join(visible, 'out.pcap'), before);
    const fifo = join(work, 'in.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    // The writer sends the capture and keeps the FIFO open: replay works through it, then waits for more.
    const writer = spawn('sh', ['-c', 'exec 3>"$2"; cat "$1" >&3; exec sleep 600', 'feed', big, fifo], { stdio: 'ignore' });
    const argv = [process.execPath, CLI, 'replay', fifo, '--out', join(outDir, 'out.pcap')];
    const job = spawn(
      fs === 'bindfs' ? 'unshare' : 'sh',
      [...(fs === 'bindfs' ? ['--mount', '--propagation', 'private', 'sh'] : []), '-c', SIGNAL_JOB, 'job', work, fs, ...argv],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    job.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const jobDone = new Promise<number | null>((resolve) => job.on('exit', resolve));
    const pidOf = (name: string) => Number(existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : 0);
    try {
      await waitUntil(`${what}: replay started`, () => pidOf('replay.pid') > 0);
      const replay = pidOf('replay.pid');
      // Stopped well into the capture: at least 1 MiB of frames written to its file.
      let written: { name: string; size: number } | undefined;
      await waitUntil(`${what}: replay wrote 1 MiB (${stderr})`, () => {
        written = fileWrittenIn(replay, outDir);
        return (written?.size ?? 0) >= 1 << 20;
      });
      if (fs === 'bindfs') assert.match(written!.name, /\/\.out\.pcap\.[0-9a-f]{16}\.partial$/, `${what}: a named temporary file`);
      process.kill(replay, signal);
      assert.equal(await jobDone, 0, `${what}: the job ran (${stderr})`);
      assert.equal(readFileSync(join(work, 'replay.status'), 'utf8').trim(), String(128 + osConstants.signals[signal]), `${what}: the shell's status`);
      assert.deepEqual(readdirSync(visible), existing ? ['out.pcap'] : [], `${what}: no temporary file left, nothing created`);
      if (existing) assert.equal(readFileSync(join(visible, 'out.pcap'), 'utf8'), before, `${what}: the file is as it was`);
    } finally {
      writer.kill('SIGKILL');
      for (const pidFile of ['replay.pid', 'mounter.pid']) {
        try {
          if (pidOf(pidFile) > 0) process.kill(pidOf(pidFile), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      job.kill('SIGKILL');
    }
  }

  test('SIGINT, SIGTERM and SIGHUP stop replay with the signal, leave no temporary file and create or replace nothing', async (t) => {
    if (!requireRoot(t, 'replay') || !requireTool(t, 'mkfifo')) return;
    const big = join(dir, 'big.pcap');
    bigCapture(big, 40_000);
    for (const [signal, existing] of [
      ['SIGINT', false],
      ['SIGTERM', true],
      ['SIGHUP', false],
    ] as const) {
      await interruptReplay(big, signal, 'plain', existing);
    }
    // A file system without unnamed files (FUSE): replay writes a named temporary file, which must go too.
    if (!which('bindfs')) {
      t.diagnostic('bindfs not installed: the named temporary file (FUSE, NFS, vfat) is not checked');
      return;
    }
    for (const [signal, existing] of [
      ['SIGINT', true],
      ['SIGTERM', false],
      ['SIGHUP', true],
    ] as const) {
      await interruptReplay(big, signal, 'bindfs', existing);
    }
    // Not interrupted, the named file becomes --out there, and its helper removes nothing.
    const work = mkdtempSync(join(dir, 'bindfs-'));
    mkdirSync(join(work, 'out'));
    mkdirSync(join(work, 'backing'));
    writeFileSync(join(work, 'backing', 'out.pcap'), 'an older capture\n');
    const argv = [process.execPath, CLI, 'replay', capture, '--out', join(work, 'out', 'out.pcap')];
    const job = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', SIGNAL_JOB, 'job', work, 'bindfs', ...argv], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(job.status, 0, job.stderr);
    assert.equal(readFileSync(join(work, 'replay.status'), 'utf8').trim(), '0');
    await new Promise((resolve) => setTimeout(resolve, 500)); // the helper's turn: it must leave --out, and there is nothing else
    assert.deepEqual(readdirSync(join(work, 'backing')), ['out.pcap']);
    const expected = join(work, 'expected.pcap');
    assert.equal(runCli(['replay', capture, '--out', expected]).status, 0);
    assert.ok(readFileSync(join(work, 'backing', 'out.pcap')).equals(readFileSync(expected)), 'the whole capture, in place');
  });

  test('frames at the kernel test-run limit are decapsulated; one byte more is written unchanged, counted and named', (t) => {
    if (!requireRoot(t, 'replay')) return;
    // The limit, found by bisection on the real program: the largest frame BPF_PROG_TEST_RUN takes.
    const program = new ProgramUnderTest();
    let limit: number;
    try {
      const runs = (size: number): boolean => {
        try {
          program.program.program.testRun(Buffer.alloc(size));
          return true;
        } catch (err) {
          if (err instanceof BpfError && err.code === 'ENOMEM') return false;
          throw err;
        }
      };
      let taken = 14;
      let refused = 262_144;
      assert.ok(runs(taken) && !runs(refused), 'a 14-byte frame runs, a 256 KiB one is refused');
      while (refused - taken > 1) {
        const size = Math.floor((taken + refused) / 2);
        if (runs(size)) taken = size;
        else refused = size;
      }
      limit = taken;
    } finally {
      program.close();
    }
    const pageSize = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout);
    if (pageSize === 4096) assert.equal(limit, 73_152, 'the limit the README states for 4 KiB pages (a 3,520-byte head and 17 pages)');
    t.diagnostic(`this kernel's XDP test-run limit: ${limit} bytes`);

    const inner = innerFrame({ src: '172.16.0.1', dst: '172.16.0.2', protocol: 'udp', payloadSize: 9000 });
    const jumbo = vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 9, inner }).frame;
    // Capture bytes past the IP packet, as a capture above GRO holds: the program strips the outer headers only.
    const padded = (size: number) => Buffer.concat([jumbo, Buffer.alloc(size - jumbo.length, 0xab)]);
    const atLimit = padded(limit);
    const above = padded(limit + 1);
    const file = join(dir, 'limit.pcap');
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    for (const [i, data] of [atLimit, above].entries()) w.write({ tsSec: i, tsFrac: 0, data });
    w.close();
    const out = join(dir, 'limit-out.pcap');
    const r = runCli(['replay', file, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.frames, 2);
    assert.equal(s.decapsulated, 1);
    assert.equal(s.skipped.test_run_refused, 1);
    assert.equal(
      r.stderr,
      `${file}: frame 2: ${limit + 1} bytes: BPF_PROG_TEST_RUN refused it (ENOMEM); larger than this kernel's XDP test-run limit (a page and its fragments); written unchanged\n`,
    );
    const [first, second] = readAll(out);
    assert.ok(first!.data.equals(atLimit.subarray(50)), 'the frame at the limit, decapsulated: the outer 50 bytes gone');
    assert.ok(second!.data.equals(above), 'the frame above it, unchanged');
    assert.equal(second!.origLen, limit + 1);

    // Past 262,144 bytes (libpcap's and Wireshark's most) the capture itself is refused: a pcap file written by
    // hand, as no writer here makes one.
    const huge = Buffer.alloc(24 + 16 + 262_145, 0xab);
    huge.writeUInt32LE(0xa1b2c3d4, 0);
    huge.writeUInt16LE(2, 4);
    huge.writeUInt16LE(4, 6);
    huge.writeUInt32LE(262_145, 16);
    huge.writeUInt32LE(1, 20);
    huge.writeUInt32LE(262_145, 24 + 8);
    huge.writeUInt32LE(262_145, 24 + 12);
    const hugeFile = join(dir, 'huge.pcap');
    writeFileSync(hugeFile, huge);
    const refused = runCli(['replay', hugeFile, '--out', join(dir, 'huge-out.pcap')]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^xdp-decap replay: \S+huge\.pcap: frame 1: captured length 262145 is more than 262144 bytes, the most a capture frame holds; the file is damaged/,
    );
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(join(dir, 'huge-out.pcap')), 'nothing written');
  });
});

// `xdp-decap demo`, the README's main job: counts match in a short run, and nothing of it is left after it ends,
// is interrupted, or is killed.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runCli, startCli } from '../lib/cli.ts';
import { IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (namespaces, BPF); runs in CI' : false;

/** Namespaces, XDP programs and processes the demo with `pid` could have left behind. */
function leftovers(pid: number): string[] {
  const found: string[] = [];
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith('xd-demo-') && n.includes(`-${pid}-`));
  found.push(...ns.map((n) => `namespace ${n}`));
  const procs = spawnSync('pgrep', ['-af', 'otlp-sink|traffic\\.(ts|js)|cli\\.(ts|js) run|tcpdump -i cap0|otelcol-xdp-decap --config /tmp/xdp-decap-demo-'], {
    encoding: 'utf8',
  }).stdout.trim();
  // Only this checkout's processes: another checkout's tests on the same machine are not the demo's leftovers.
  if (procs)
    found.push(
      ...procs
        .split('\n')
        .filter(ofThisCheckout)
        .map((p) => `process ${p}`),
    );
  const progs = spawnSync('bpftool', ['prog', 'show'], { encoding: 'utf8' }).stdout ?? '';
  if (/xdp +name xdp_decap/.test(progs) && spawnSync('bpftool', ['net'], { encoding: 'utf8' }).stdout.includes('xdp_decap'))
    found.push('an attached xdp_decap program');
  return found;
}

/** A `pgrep -af` line whose process runs from this checkout (its command line or working directory is here). */
function ofThisCheckout(line: string): boolean {
  if (line.includes(REPO_ROOT)) return true;
  try {
    return readlinkSync(`/proc/${line.split(' ')[0]}/cwd`).startsWith(REPO_ROOT);
  } catch {
    return false; // gone meanwhile
  }
}

async function eventually(check: () => string[], timeoutMs = 8000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  let last = check();
  while (last.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    last = check();
  }
  return last;
}

describe('xdp-decap demo', { skip: SKIP }, () => {
  test('short run: per-VNI counts equal what was sent (from the OTLP export), then nothing is left', async (t) => {
    if (!requireRoot(t, 'the demo') || !requireTool(t, 'tcpreplay')) return;
    const r = runCli(['demo', '--duration', '2', '--vnis', '2', '--json'], { timeoutMs: 180000 });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.ok, true);
    assert.equal(s.countedFrom, 'otlp');
    assert.ok(s.otlp.exportsReceived > 0);
    assert.deepEqual(
      s.vnis.map((v: { vni: number; type: string }) => `${v.type}/${v.vni}`),
      ['vxlan/100', 'vxlan/200', 'geneve/5000', 'erspan/300'],
    );
    for (const v of s.vnis) {
      assert.ok(v.sentFrames > 0, `VNI ${v.vni} sent frames`);
      assert.equal(v.packets, v.sentFrames, `VNI ${v.vni} packets`);
      assert.equal(v.bytes, v.sentBytes, `VNI ${v.vni} bytes`);
      assert.ok(v.match);
    }
    assert.equal(s.skipped.not_tunnel, s.plainFramesSent);
    assert.ok(
      s.tap.before.every((f: { dst: string; protocol: string }) => f.protocol !== 'UDP' || f.dst.endsWith(':4789')),
      'before: UDP only to the VTEP',
    );
    assert.ok(
      s.tap.after.some((f: { src: string }) => f.src.startsWith('192.168.1.1')),
      'after: inner conversations',
    );
    // The ERSPAN port mirror: the tap after XDP sees the mirrored TCP conversation, never the GRE carrier.
    const mirrored = s.tap.after.filter((f: { src: string; dst: string }) => f.src.startsWith('172.16.60.1') && f.dst.startsWith('172.16.60.2'));
    assert.ok(
      mirrored.length > 0 && mirrored.every((f: { protocol: string }) => f.protocol === 'TCP'),
      `after: the ERSPAN mirror's inner TCP conversation: ${JSON.stringify(s.tap.after)}`,
    );
    assert.ok(!s.tap.after.some((f: { protocol: string }) => /GRE|47/.test(f.protocol)), 'after: no GRE left on the tap');
    assert.match(r.stderr, /building the testbed/);
    assert.deepEqual(await eventually(() => leftovers(r.pid!)), []);
  });

  test('--collector: the same story through the real Collector and its xdp_decap receiver; config printed; nothing left', async (t) => {
    if (!requireRoot(t, 'the demo') || !requireTool(t, 'tcpreplay')) return;
    const r = runCli(['demo', '--duration', '2', '--vnis', '2', '--collector', '--json'], { timeoutMs: 30 * 60 * 1000 });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.ok, true);
    assert.equal(s.host, 'collector');
    assert.equal(s.countedFrom, 'otlp');
    assert.ok(s.otlp.exportsReceived > 0, 'the Collector forwarded exports');
    assert.deepEqual(
      s.vnis.map((v: { vni: number; type: string }) => `${v.type}/${v.vni}`),
      ['vxlan/100', 'vxlan/200', 'geneve/5000', 'erspan/300'],
    );
    for (const v of s.vnis) {
      assert.ok(v.sentFrames > 0 && v.packets === v.sentFrames && v.bytes === v.sentBytes, `VNI ${v.vni}: ${JSON.stringify(v)}`);
    }
    assert.match(
      r.stderr,
      /the Collector config \(.*otelcol\.yaml\):\n\s+# xdp-decap demo[\s\S]*xdp_decap:\n\s+interfaces: \[\{ name: cap0/,
      'the config it used is printed',
    );
    assert.match(r.stderr, /stopping the Collector \(SIGTERM/);
    assert.deepEqual(await eventually(() => leftovers(r.pid!)), []);
  });

  test('Ctrl-C (SIGINT) mid-way removes everything; exit 130', async (t) => {
    if (!requireRoot(t, 'the demo')) return;
    const demo = startCli(['demo', '--duration', '30', '--vnis', '1']);
    await demo.waitFor(/AFTER: the same tap/, 60000);
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 130, demo.output());
    assert.match(demo.output(), /SIGINT: demo stopped; its testbed was removed/);
    assert.deepEqual(await eventually(() => leftovers(demo.child.pid!)), []);
  });

  test('kill -9 mid-way: the janitor removes namespaces, processes and the XDP program', async (t) => {
    if (!requireRoot(t, 'the demo')) return;
    const demo = startCli(['demo', '--duration', '30', '--vnis', '1']);
    await demo.waitFor(/AFTER: the same tap/, 60000);
    assert.ok(leftovers(demo.child.pid!).length > 0, 'the demo had a testbed up');
    demo.child.kill('SIGKILL');
    await demo.exited;
    assert.deepEqual(await eventually(() => leftovers(demo.child.pid!)), []);
  });

  test('a missing requirement: one line saying what and how to fix it, exit 2, nothing made', (t) => {
    if (!requireRoot(t, 'the demo')) return;
    const r = runCli(['demo'], { env: { XDP_DECAP_BPF_OBJECT: '/nonexistent/decap.bpf.o' } });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /XDP_DECAP_BPF_OBJECT=\/nonexistent\/decap\.bpf\.o: no such file/);
    assert.deepEqual(leftovers(r.pid!), []);
  });
});

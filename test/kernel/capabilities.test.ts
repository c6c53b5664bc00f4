// The documented capabilities for real: replay, status, reconcile and detach as an unprivileged user under setpriv.

import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPLAY_HELP } from '../../src/commands/replay.ts';
import { permissionHint } from '../../src/ffi/capabilities.ts';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { Testbed } from '../../src/testbed/testbed.ts';
import { type CliProcess, runCli, startCli } from '../lib/cli.ts';
import { IN_CI, IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { manifestCapabilities, nobody, runCliAs } from '../lib/privilege.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (to drop to an unprivileged user with setpriv, BPF, namespaces); runs in CI' : false;
const CAPS = manifestCapabilities();
const FRAMES = 6;

test('replay --help, the README and the load error name every capability plugin.json lists', () => {
  assert.deepEqual(CAPS, ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const replaySection = readme.slice(readme.indexOf('Runs every frame of a pcap'), readme.indexOf('## Host it in an agent'));
  const loadHint = permissionHint(['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
  for (const [where, text] of [
    ['replay --help', REPLAY_HELP],
    ['README replay', replaySection],
    ["the load error's hint", loadHint],
  ] as const) {
    for (const cap of CAPS) assert.ok(text.includes(cap), `${where} names ${cap}: ${text.slice(-300)}`);
  }
});

describe('under exactly the documented capabilities, as an unprivileged user (setpriv)', { skip: SKIP }, () => {
  let dir: string;
  let capture: string;
  let bed: Testbed | undefined;
  let run: CliProcess | undefined;
  const user = nobody();

  before(async () => {
    if (!IS_ROOT) return;
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-caps-'));
    chownSync(dir, user.uid, user.gid); // the unprivileged user writes replay's output here
    capture = join(dir, 'mirror.pcap');
    const writer = PcapWriter.open(capture, { linkType: 1, precision: 'micro' });
    for (let i = 0; i < FRAMES; i++) {
      const inner = innerFrame({ src: '192.168.7.1', dst: '192.168.7.2', protocol: 'udp', sport: 40000, dport: 53 });
      writer.write({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: vxlanFrame({ outerSrc: '10.9.0.1', outerDst: '10.9.0.2', vni: 4242, inner }).frame });
    }
    writer.close();
    bed = Testbed.create('caps');
    run = startCli(['run', '--interface', bed.capIf], { ns: bed.cap, env: { OTEL_METRIC_EXPORT_INTERVAL: '600000' } });
  });

  after(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('replay works as nobody with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON only, and counts every frame', (t) => {
    if (!requireRoot(t, 'replay under capabilities') || !requireTool(t, 'setpriv')) return;
    const out = join(dir, 'out.pcap');
    const r = runCliAs(['replay', capture, '--out', out, '--json'], { user, capabilities: CAPS });
    assert.equal(r.status, 0, `replay under ${CAPS.join(', ')}: ${r.stderr}`);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.frames, FRAMES);
    assert.equal(summary.decapsulated, FRAMES);
    assert.deepEqual(
      summary.vnis.map((v: { vni: number; packets: number }) => [v.vni, v.packets]),
      [[4242, FRAMES]],
    );
    assert.ok(existsSync(out));
  });

  test('without CAP_NET_ADMIN (the old "CAP_BPF + CAP_PERFMON") the load is refused: one line naming all three, exit 2, nothing written', (t) => {
    if (!requireRoot(t, 'replay under capabilities') || !requireTool(t, 'setpriv')) return;
    const out = join(dir, 'refused.pcap');
    const r = runCliAs(['replay', capture, '--out', out], { user, capabilities: CAPS.filter((c) => c !== 'CAP_NET_ADMIN') });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.equal(
      lines[0],
      'xdp-decap replay: loading the decap program: EPERM (operation not permitted): this process has CAP_BPF and CAP_PERFMON but not CAP_NET_ADMIN, and loading an XDP program needs all three: run it as root (sudo) or grant the missing one',
    );
    assert.equal(lines[0]!.match(/CAP_NET_ADMIN/g)?.length, 1, 'the capabilities are named once');
    assert.doesNotMatch(lines[0]!, /bpf\.o/, 'no object file the user did not name');
    assert.equal(existsSync(out), false);
  });

  test('status, reconcile and detach under those capabilities say what they lack (CAP_SYS_ADMIN), exit 2, never "no"; as root the same program is xdp-decap', async (t) => {
    if (!requireRoot(t, 'status under capabilities') || !requireTool(t, 'setpriv') || !requireTool(t, 'nsenter')) return;
    await run!.waitFor(/attached in generic mode/);
    const asUser = (args: string[]) => runCliAs(args, { user, capabilities: CAPS, ns: bed!.cap });

    const st = asUser(['status']);
    assert.equal(st.status, 2, `status: ${st.stdout}${st.stderr}`);
    const row = st.stdout.split('\n').find((l) => l.startsWith(`${bed!.capIf} `)) ?? '';
    assert.match(row, /generic +\d+ +unknown +unknown$/, `what is known is shown, what is not says unknown: ${st.stdout}`);
    assert.doesNotMatch(row, /\bno$/);
    const why = st.stderr.trimEnd().split('\n');
    assert.equal(why.length, 1, st.stderr);
    assert.match(
      why[0]!,
      new RegExp(
        `^xdp-decap status: cannot tell whether the XDP program on ${bed!.capIf} \\(program id \\d+\\) is xdp-decap's or read its counters: this process lacks CAP_SYS_ADMIN.*run it as root`,
      ),
    );

    const json = asUser(['status', '--json']);
    assert.equal(json.status, 2);
    const sj = JSON.parse(json.stdout);
    const iface = sj.interfaces.find((i: { name: string }) => i.name === bed!.capIf);
    assert.deepEqual([iface.mode, iface.programName, iface.decap], ['generic', null, null]);
    assert.match(sj.unreadable, /CAP_SYS_ADMIN/);

    const rec = asUser(['reconcile', '--nfdump', join(REPO_ROOT, 'test', 'fixtures', 'reconcile', 'nfcapd.202611230600')]);
    assert.equal(rec.status, 2, rec.stderr);
    assert.match(rec.stderr, /^xdp-decap reconcile: cannot tell whether the XDP program on .*CAP_SYS_ADMIN/);
    assert.doesNotMatch(rec.stderr, /no xdp-decap program is attached/);

    const det = asUser(['detach', '--interface', bed!.capIf]);
    assert.equal(det.status, 2, det.stderr);
    assert.match(det.stderr, /lacks CAP_SYS_ADMIN.*nothing was detached/);

    // Root sees the same attachment as xdp-decap's, still attached after the refused detach.
    const root = runCli(['status', '--interface', bed!.capIf, '--json'], { ns: bed!.cap });
    assert.equal(root.status, 0, root.stderr);
    const rj = JSON.parse(root.stdout);
    assert.deepEqual([rj.interfaces[0].programName, rj.interfaces[0].decap, rj.unreadable], ['xdp_decap', true, undefined]);
  });

  test('status --interface nosuch: one line saying the interface does not exist, exit 2 (as root and under the capabilities)', (t) => {
    if (!requireRoot(t, 'status in a namespace') || !requireTool(t, 'setpriv')) return;
    for (const r of [
      runCli(['status', '--interface', 'nosuch'], { ns: bed!.cap }),
      runCliAs(['status', '--interface', 'nosuch', '--interface', bed!.capIf], { user, capabilities: CAPS, ns: bed!.cap }),
    ]) {
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^xdp-decap status: interface nosuch does not exist in this network namespace \\(here: .*${bed!.capIf}.*\\)\\n$`));
    }
    const rec = runCli(['reconcile', '--nfdump', join(REPO_ROOT, 'test', 'fixtures', 'reconcile', 'nfcapd.202611230600'), '--interface', 'nosuch'], {
      ns: bed!.cap,
    });
    assert.equal(rec.status, 2);
    assert.match(rec.stderr, /^xdp-decap reconcile: --interface nosuch: no such interface in this network namespace/);
  });
});

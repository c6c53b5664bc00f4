// The Debian package in a clean Debian 12 root: Depends complete, runs (version, replay, demo), unit verifies,
// an upgrade keeps the edited config, purge leaves nothing; and lintian is clean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { geneveFrame, innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { cachedDebianRoot, DebianRoot, must } from '../lib/debian-root.ts';
import { IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';

const SKIP = !IS_ROOT && !process.env['CI'] ? 'needs root (debootstrap, chroot, mounts, BPF); runs in CI' : false;
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PREVIOUS = `${VERSION}~upgradetest1`;
/** What the demo and `systemd-analyze` need; downloaded into the cached root, installed only after xdp-decap. */
const TEST_TOOLS = ['iproute2', 'iputils-ping', 'tcpdump', 'tcpreplay', 'systemd'];

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** Whether a path exists, a symlink counting as itself: units' symlinks point at absolute paths inside the root. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('the xdp-decap Debian package in a clean Debian 12 root', { skip: SKIP }, () => {
  let scratch: string;
  let debs: { previous: string; current: string };
  let root: DebianRoot | undefined;
  const timings: string[] = [];

  before(() => {
    if (!IS_ROOT) return;
    scratch = mkdtempSync('/var/tmp/xdp-decap-deb-');
    let t0 = Date.now();
    const cached = cachedDebianRoot();
    timings.push(`clean root ready (cached or debootstrap) ${seconds(t0)} s`);
    t0 = Date.now();
    // The same tree built twice: this version as shipped (xz), and an older one to upgrade from (gzip -1, faster).
    const current = must('bash', ['scripts/package.sh', '--out', join(scratch, 'current')], 1_200_000).trim();
    timings.push(`package ${seconds(t0)} s, ${(readFileSync(current).length / 1e6).toFixed(1)} MB`);
    t0 = Date.now();
    const previous = must('bash', ['scripts/package.sh', '--out', join(scratch, 'previous'), '--version', PREVIOUS, '--no-build', '--fast'], 1_200_000).trim();
    timings.push(`package (older version, --no-build --fast) ${seconds(t0)} s`);
    debs = { previous, current };
    root = DebianRoot.create(cached);
    mkdirSync(root.path('tmp/debs'));
    copyFileSync(previous, root.path(`tmp/debs/xdp-decap_${PREVIOUS}_amd64.deb`));
    copyFileSync(current, root.path(`tmp/debs/xdp-decap_${VERSION}_amd64.deb`));
  });

  after((t) => {
    try {
      root?.destroy();
      if (root) assert.deepEqual(root.processes(), [], 'no process left in the root');
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      for (const line of timings) (t as unknown as { diagnostic?: (s: string) => void }).diagnostic?.(line);
      console.log(`# deb.test timings: ${timings.join('; ')}`);
    }
  });

  test('the clean root has none of the run-time libraries: the package\'s Depends must bring them', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    for (const pkg of ['libbpf1', 'libpcap0.8', 'procps']) {
      assert.notEqual(root!.run('dpkg-query', ['-W', '-f=${Status}', pkg]).stdout, 'install ok installed', `${pkg} is already in the clean root`);
    }
    assert.notEqual(root!.run('sh', ['-c', 'command -v node']).status, 0, 'no host node in the clean root');
  });

  test('apt-get install ./xdp-decap_*.deb: Depends complete, system user made, unit installed but not enabled', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    root!.ok('apt-get', ['update', '-qq']);
    const t0 = Date.now();
    root!.ok('apt-get', ['install', '-y', '-qq', '--no-install-recommends', `/tmp/debs/xdp-decap_${PREVIOUS}_amd64.deb`], { timeoutMs: 600_000 });
    timings.push(`apt-get install in the clean root ${seconds(t0)} s`);
    for (const pkg of ['libbpf1', 'libpcap0.8', 'adduser']) assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Status}', pkg]), 'install ok installed', pkg);
    const [name, , uid, , , home, shell] = root!.ok('getent', ['passwd', 'xdp-decap']).trim().split(':');
    assert.equal(name, 'xdp-decap');
    assert.ok(Number(uid) < 1000, `a system uid, got ${uid}`);
    assert.equal(home, '/nonexistent');
    assert.match(shell!, /nologin|false/);
    assert.ok(existsSync(root!.path('lib/systemd/system/xdp-decap.service')));
    assert.ok(!present(root!.path('etc/systemd/system/multi-user.target.wants/xdp-decap.service')), 'not enabled on install');
    assert.match(readFileSync(root!.path('lib/systemd/system/xdp-decap.service'), 'utf8'), /^ExecStart=\/usr\/bin\/xdp-decap run --config \/etc\/xdp-decap\/config\.yaml$/m);
    assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Conffiles}', 'xdp-decap']).trim().split(' ')[0], '/etc/xdp-decap/config.yaml');
  });

  test('xdp-decap --version from the installed paths: the package version, the root\'s libbpf, this kernel', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const lines = root!.ok('xdp-decap', ['--version']).trim().split('\n');
    assert.equal(lines[0], `xdp-decap ${PREVIOUS}`);
    const libbpfVersion = root!.ok('dpkg-query', ['-W', '-f=${Version}', 'libbpf1']).replace(/^\d+:/, '');
    assert.match(lines[1]!, /^libbpf \d+\.\d+/);
    assert.ok(libbpfVersion.startsWith(lines[1]!.slice('libbpf '.length)), `${lines[1]} is the root's libbpf1 ${libbpfVersion}`);
    assert.ok(lines[2]!.startsWith(`kernel Linux ${release()} `), lines[2]);
    assert.match(lines[3]!, /^node 24\./, 'the package\'s own Node 24');
    assert.deepEqual(root!.ok('xdp-decap', ['-V']).trim().split('\n'), lines);
  });

  test('xdp-decap replay of a capture, inside the clean root', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const inner = (n: number) => innerFrame({ src: `192.168.${n}.1`, dst: `192.168.${n}.2`, protocol: 'udp', sport: 40000 + n, payloadSize: 64 });
    const frames = [
      ...[1, 2, 3].map(() => vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 100, inner: inner(1) })),
      ...[1, 2].map(() => geneveFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 5000, inner: inner(2) })),
      { frame: inner(3), inner: inner(3), overhead: 0 },
    ];
    const writer = PcapWriter.open(root!.path('tmp/mirror.pcap'), { linkType: 1, precision: 'micro' });
    frames.forEach((f, i) => writer.write({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: f.frame }));
    writer.close();
    const summary = JSON.parse(root!.ok('xdp-decap', ['replay', '/tmp/mirror.pcap', '--out', '/tmp/out.pcap', '--json']));
    assert.equal(summary.frames, 6);
    assert.equal(summary.decapsulated, 5);
    assert.equal(summary.skipped.not_tunnel, 1);
    const byVni = Object.fromEntries(summary.vnis.map((v: { vni: number; type: string; packets: number; bytes: number }) => [v.vni, [v.type, v.packets, v.bytes]]));
    assert.deepEqual(byVni, { 100: ['vxlan', 3, 3 * inner(1).length], 5000: ['geneve', 2, 2 * inner(2).length] });
    assert.ok(existsSync(root!.path('tmp/out.pcap')));
  });

  test('upgrade to this version keeps an edited /etc/xdp-decap/config.yaml', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const config = root!.path('etc/xdp-decap/config.yaml');
    const edited = readFileSync(config, 'utf8').replace('vxlanPorts: [4789]', 'vxlanPorts: [4789, 8472]') + '# edited by the operator\n';
    assert.notEqual(edited, readFileSync(config, 'utf8'));
    writeFileSync(config, edited);
    root!.ok('apt-get', ['install', '-y', '-qq', '--no-install-recommends', `/tmp/debs/xdp-decap_${VERSION}_amd64.deb`], { timeoutMs: 600_000 });
    assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Version}', 'xdp-decap']), VERSION);
    assert.equal(readFileSync(config, 'utf8'), edited, 'the operator\'s edits survive the upgrade');
    assert.ok(!existsSync(`${config}.dpkg-new`) && !existsSync(`${config}.dpkg-dist`));
    assert.equal(root!.ok('xdp-decap', ['--version']).split('\n')[0], `xdp-decap ${VERSION}`);
    // The edited config is the one a `run` would use: it validates.
    assert.match(root!.ok('xdp-decap', ['replay', '/tmp/mirror.pcap', '--out', '/tmp/out2.pcap', '--config', '/etc/xdp-decap/config.yaml', '--json']), /"decapsulated": ?5/);
  });

  test('systemd-analyze verify of the installed unit (systemd installed afterwards, not a Depends)', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    root!.ok('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...TEST_TOOLS], { timeoutMs: 600_000 });
    const r = root!.run('systemd-analyze', ['verify', '--man=no', '/lib/systemd/system/xdp-decap.service']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('xdp-decap.service')).join('\n'), '', 'no complaint about the unit');
  });

  test('xdp-decap demo --duration 3 from the installed paths (demo tools installed separately)', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const t0 = Date.now();
    const r = root!.run('xdp-decap', ['demo', '--duration', '3', '--vnis', '2', '--json'], { timeoutMs: 240_000 });
    timings.push(`demo in the clean root ${seconds(t0)} s`);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const s = JSON.parse(r.stdout);
    assert.equal(s.ok, true);
    assert.equal(s.countedFrom, 'otlp');
    assert.equal(root!.ok('ip', ['netns', 'list']).trim(), '', 'the demo removed its namespaces');
  });

  test('dpkg --purge leaves no file, user, group or unit behind, even after the operator enabled the unit', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    root!.ok('systemctl', ['enable', 'xdp-decap.service']);
    assert.ok(present(root!.path('etc/systemd/system/multi-user.target.wants/xdp-decap.service')), 'enabled by the operator');
    const owned = root!.ok('dpkg-query', ['-L', 'xdp-decap']).trim().split('\n');
    root!.ok('dpkg', ['--purge', 'xdp-decap']);
    assert.notEqual(root!.run('dpkg-query', ['-W', 'xdp-decap']).status, 0, 'dpkg forgot the package');
    assert.notEqual(root!.run('getent', ['passwd', 'xdp-decap']).status, 0, 'user removed');
    assert.notEqual(root!.run('getent', ['group', 'xdp-decap']).status, 0, 'group removed');
    // Files the package owned are gone (shared directories such as /usr/bin stay, as they should).
    const left = owned.filter((p) => p.includes('xdp-decap') && present(root!.path(p)));
    assert.deepEqual(left, []);
    // And nothing named after it anywhere in the root (units' symlinks, helper state, conffile backups).
    const named = root!.ok('find', ['/', '-xdev', '(', '-path', '/tmp', '-o', '-path', '/var/cache/apt', '-o', '-path', '/var/log', ')', '-prune', '-o', '-name', '*xdp-decap*', '-print']).trim();
    assert.equal(named, '', 'nothing named xdp-decap left');
    const enabled = readdirSync(root!.path('var/lib/systemd/deb-systemd-helper-enabled'), { recursive: true }).map(String).filter((f) => f.includes('xdp-decap'));
    assert.deepEqual(enabled, []);
  });

  test('lintian: no error or warning beyond the explained overrides', (t) => {
    if (!requireRoot(t, 'the package test') || !requireTool(t, 'lintian')) return;
    const t0 = Date.now();
    const out = must('lintian', ['--fail-on', 'error,warning', '--no-tag-display-limit', debs.current], 900_000);
    timings.push(`lintian ${seconds(t0)} s`);
    assert.equal(out.split('\n').filter((l) => /^[EW]: /.test(l)).join('\n'), '');
  });
});

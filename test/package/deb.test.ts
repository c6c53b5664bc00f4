// The Debian packages in a clean Debian 12 root: Depends complete, xdp-decap runs (version, replay), its shipped
// config is refused until it names an interface, its manual lists its commands, the Collector package validates,
// units verify, an upgrade keeps the edited configs; then, booted on Debian 12's own kernel under qemu, the
// installed demo and the installed Collector attach and count (installed-live.ts); purge leaves nothing; an
// xdp-decap account that existed before is refused (a login account) or adopted (a system one) and left by purge;
// and lintian is clean.

import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { geneveFrame, innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { cachedDebianRoot, DebianRoot, must } from '../lib/debian-root.ts';
import { IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { manifestCapabilities, setprivArgv } from '../lib/privilege.ts';
import { unitSettings } from './installed-live.ts';

const SKIP = !IS_ROOT && !process.env.CI ? 'needs root (debootstrap, chroot, mounts, BPF); runs in CI' : false;
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PREVIOUS = `${VERSION}~upgradetest1`;
/** What the demo and `systemd-analyze` need; downloaded into the cached root, installed only after xdp-decap. */
const TEST_TOOLS = ['iproute2', 'iputils-ping', 'tcpdump', 'tcpreplay', 'systemd'];
/** The packages `scripts/package.sh` builds, installed together (otelcol-xdp-decap Depends on xdp-decap (= version)). */
const PACKAGES = ['xdp-decap', 'otelcol-xdp-decap'] as const;
const debsOf = (version: string) => PACKAGES.map((p) => `/tmp/debs/${p}_${version}_amd64.deb`);
/** What the Collector's unit gives it and, through exec, its daemon: plugin.json's capabilities, as ambient ones. */
const CAPABILITIES = manifestCapabilities();

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** The account the packages run as (made by xdp-decap's postinst), and where postinst notes what it made. */
const ACCOUNT = 'xdp-decap';
const CREATED_ACCOUNTS = 'var/lib/xdp-decap/created-accounts';

/** What the package made of the account: postinst's list ("user", "group"), empty when it made nothing. */
function createdAccounts(root: DebianRoot): string[] {
  const file = root.path(CREATED_ACCOUNTS);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').sort() : [];
}

/** Paths in the root named after the packages (outside /tmp, apt's cache and the logs), sorted, one a line. */
function namedAfterPackages(root: DebianRoot): string {
  const found = root.ok('find', [
    '/',
    '-xdev',
    '(',
    '-path',
    '/tmp',
    '-o',
    '-path',
    '/var/cache/apt',
    '-o',
    '-path',
    '/var/log',
    ')',
    '-prune',
    '-o',
    '-name',
    '*xdp-decap*',
    '-print',
  ]);
  return found.trim().split('\n').filter(Boolean).sort().join('\n');
}

/**
 * Everything of the xdp-decap account a purge could touch: its passwd, shadow and group entries, what is named
 * after the packages, and every file under /home (owner, mode, size).
 */
function accountState(root: DebianRoot): string {
  const entries = root.ok('sh', ['-c', `getent passwd ${ACCOUNT}; getent shadow ${ACCOUNT}; getent group ${ACCOUNT}; getent gshadow ${ACCOUNT}; true`]);
  const home = root.ok('find', ['/home', '-printf', '%p %u:%g %m %s\n']);
  return `${entries}${namedAfterPackages(root)}\n${home.split('\n').sort().join('\n')}`;
}

/** Whether a path exists, a symlink counting as itself: units' symlinks point at absolute paths inside the root. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('the xdp-decap and otelcol-xdp-decap Debian packages in a clean Debian 12 root', { skip: SKIP }, () => {
  let scratch: string;
  let debs: { previous: string[]; current: string[] };
  let root: DebianRoot | undefined;
  /** The cached clean root: the account tests each start from a copy of it of their own. */
  let cached: string;
  const timings: string[] = [];

  before(() => {
    if (!IS_ROOT) return;
    scratch = mkdtempSync('/var/tmp/xdp-decap-deb-');
    let t0 = Date.now();
    cached = cachedDebianRoot();
    timings.push(`clean root ready (cached or debootstrap) ${seconds(t0)} s`);
    t0 = Date.now();
    // The same tree built twice: this version as shipped (xz), and an older one to upgrade from (gzip -1, faster).
    // Both packages, one path a line, xdp-decap first.
    const current = must('bash', ['scripts/package.sh', '--out', join(scratch, 'current')], 1_200_000)
      .trim()
      .split('\n');
    timings.push(`package ${seconds(t0)} s, ${current.map((f) => `${(readFileSync(f).length / 1e6).toFixed(1)} MB`).join(' + ')}`);
    t0 = Date.now();
    const previous = must('bash', ['scripts/package.sh', '--out', join(scratch, 'previous'), '--version', PREVIOUS, '--no-build', '--fast'], 1_200_000)
      .trim()
      .split('\n');
    assert.deepEqual(
      [current, previous].map((l) => l.length),
      [2, 2],
      'package.sh prints the paths of both packages',
    );
    timings.push(`package (older version, --no-build --fast) ${seconds(t0)} s`);
    debs = { previous, current };
    root = DebianRoot.create(cached);
    mkdirSync(root.path('tmp/debs'));
    for (const [i, inside] of debsOf(PREVIOUS).entries()) copyFileSync(previous[i]!, root!.path(inside));
    for (const [i, inside] of debsOf(VERSION).entries()) copyFileSync(current[i]!, root!.path(inside));
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

  test('build-collector.sh takes the daemon paths from the environment only as plain absolute paths (one line, exit 2)', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    for (const [name, value, why] of [
      ['XDP_DECAP_DAEMON_NODE', 'node_modules/.bin/node', /^build-collector: XDP_DECAP_DAEMON_NODE: 'node_modules\/\.bin\/node' is not an absolute path; /],
      ['XDP_DECAP_DAEMON_SCRIPT', '/opt/x d/cli.js', /^build-collector: XDP_DECAP_DAEMON_SCRIPT: '\/opt\/x d\/cli\.js' contains white space or quotes; /],
    ] as const) {
      const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'build-collector.sh')], { encoding: 'utf8', env: { ...process.env, [name]: value } });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test("the clean root has none of the run-time libraries: the package's Depends must bring them", (t) => {
    if (!requireRoot(t, 'the package test')) return;
    for (const pkg of ['libbpf1', 'procps']) {
      assert.notEqual(root!.run('dpkg-query', ['-W', '-f=${Status}', pkg]).stdout, 'install ok installed', `${pkg} is already in the clean root`);
    }
    assert.notEqual(root!.run('sh', ['-c', 'command -v node']).status, 0, 'no host node in the clean root');
  });

  test('apt-get install ./xdp-decap_*.deb ./otelcol-xdp-decap_*.deb: Depends complete, system user made, units installed but not enabled', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    root!.ok('apt-get', ['update', '-qq']);
    const t0 = Date.now();
    root!.ok('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debsOf(PREVIOUS)], { timeoutMs: 600_000 });
    timings.push(`apt-get install in the clean root ${seconds(t0)} s`);
    for (const pkg of ['libbpf1', 'adduser']) assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Status}', pkg]), 'install ok installed', pkg);
    const [name, , uid, , , home, shell] = root!.ok('getent', ['passwd', 'xdp-decap']).trim().split(':');
    assert.equal(name, 'xdp-decap');
    assert.ok(Number(uid) < 1000, `a system uid, got ${uid}`);
    assert.equal(home, '/nonexistent');
    assert.match(shell!, /nologin|false/);
    assert.deepEqual(createdAccounts(root!), ['group', 'user'], 'postinst noted that it made both (purge removes them)');
    assert.ok(existsSync(root!.path('lib/systemd/system/xdp-decap.service')));
    assert.ok(!present(root!.path('etc/systemd/system/multi-user.target.wants/xdp-decap.service')), 'not enabled on install');
    assert.match(
      readFileSync(root!.path('lib/systemd/system/xdp-decap.service'), 'utf8'),
      /^ExecStart=\/usr\/bin\/xdp-decap run --config \/etc\/xdp-decap\/config\.yaml$/m,
    );
    assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Conffiles}', 'xdp-decap']).trim().split(' ')[0], '/etc/xdp-decap/config.yaml');
    // The Collector package: runs the daemon of exactly this xdp-decap; Go links statically, so nothing else.
    assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Depends}', 'otelcol-xdp-decap']), `xdp-decap (= ${PREVIOUS})`);
    assert.ok(existsSync(root!.path('lib/systemd/system/otelcol-xdp-decap.service')));
    assert.ok(!present(root!.path('etc/systemd/system/multi-user.target.wants/otelcol-xdp-decap.service')), 'not enabled on install');
    assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Conffiles}', 'otelcol-xdp-decap']).trim().split(' ')[0], '/etc/otelcol-xdp-decap/config.yaml');
  });

  test("xdp-decap --version from the installed paths: the package version, the root's libbpf, this kernel", (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const lines = root!.ok('xdp-decap', ['--version']).trim().split('\n');
    assert.equal(lines[0], `xdp-decap ${PREVIOUS}`);
    const libbpfVersion = root!.ok('dpkg-query', ['-W', '-f=${Version}', 'libbpf1']).replace(/^\d+:/, '');
    assert.match(lines[1]!, /^libbpf \d+\.\d+/);
    assert.ok(libbpfVersion.startsWith(lines[1]!.slice('libbpf '.length)), `${lines[1]} is the root's libbpf1 ${libbpfVersion}`);
    assert.ok(lines[2]!.startsWith(`kernel Linux ${release()} `), lines[2]);
    assert.match(lines[3]!, /^node 24\./, "the package's own Node 24");
    assert.deepEqual(root!.ok('xdp-decap', ['-V']).trim().split('\n'), lines);
  });

  test('the shipped /etc/xdp-decap/config.yaml names no interface: validate and the unit refuse it in one line; the edit its comment shows is accepted', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const shipped = readFileSync(root!.path('etc/xdp-decap/config.yaml'), 'utf8');
    assert.equal(shipped, readFileSync(join(REPO_ROOT, 'examples', 'config.yaml'), 'utf8'), 'examples/config.yaml as it is');
    const refusal = /^xdp-decap (validate|run): \/etc\/xdp-decap\/config\.yaml: interfaces: nothing to attach: list the capture interfaces/;
    const refused = root!.run('xdp-decap', ['validate', '--config', '/etc/xdp-decap/config.yaml']);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr.trimEnd().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, refusal);
    // The unit's ExecStart as the unit runs it (its user and capabilities): it stops at once with the same line,
    // which systemctl status and the journal show, instead of waiting for an interface.
    const unit = unitSettings(root!, 'xdp-decap.service');
    const [, , uid, gid] = root!
      .ok('getent', ['passwd', unit.get('User')!])
      .trim()
      .split(':');
    const capabilities = unit.get('AmbientCapabilities')!.split(' ');
    const t0 = Date.now();
    const started = root!.run(
      'setpriv',
      [
        ...setprivArgv({
          user: { name: unit.get('User')!, uid: Number(uid), gid: Number(gid), home: '/nonexistent' },
          capabilities,
          boundingSet: unit.get('CapabilityBoundingSet')!.split(' '),
          noNewPrivileges: unit.get('NoNewPrivileges') === 'yes',
        }).slice(1),
        ...unit.get('ExecStart')!.split(' '),
      ],
      { timeoutMs: 60_000 },
    );
    timings.push(`the unit's ExecStart refuses the shipped config in ${seconds(t0)} s`);
    assert.equal(started.signal, null, 'it exits by itself');
    assert.equal(started.status, 2, `${started.stdout}\n${started.stderr}`);
    assert.equal(started.stderr.trimEnd().split('\n').length, 1, started.stderr);
    assert.match(started.stderr, refusal);
    // What the comment offers: the one-line form in place of `interfaces: []`, or the block uncommented instead of it.
    assert.equal(shipped.match(/^interfaces: \[\]$/gm)?.length, 1, 'one interfaces line to edit');
    const oneLine = /`(interfaces: \[\{ name: [^`]+\}\])`/.exec(shipped)?.[1];
    assert.ok(oneLine, 'the comment shows a one-line interfaces setting');
    const block = [...shipped.matchAll(/^# (interfaces:\n(?:# {3}.*\n)+)/gm)].map((m) => m[1]!.replace(/^# {3}/gm, '  '));
    assert.equal(block.length, 1, 'the comment shows an interfaces block');
    for (const [name, edited, attaches] of [
      ['one-line', shipped.replace(/^interfaces: \[\]$/m, oneLine), 'ens1f0 (generic)'],
      ['block', shipped.replace(/^# interfaces:\n(?:# {3}.*\n)+interfaces: \[\]\n/m, block[0]!), 'ens1f0 (generic), ens1f1 (generic)'],
    ] as const) {
      assert.notEqual(edited, shipped, name);
      writeFileSync(root!.path(`tmp/config-${name}.yaml`), edited);
      assert.equal(
        root!.ok('xdp-decap', ['validate', '--config', `/tmp/config-${name}.yaml`]).trim(),
        `/tmp/config-${name}.yaml: valid: attaches to ${attaches}`,
        name,
      );
    }
  });

  test('the manual page lists the commands of xdp-decap --help, in its order, and the kernel it needs', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const page = gunzipSync(readFileSync(root!.path('usr/share/man/man1/xdp-decap.1.gz'))).toString('utf8');
    const section = (name: string) => page.slice(page.indexOf(`.SH ${name}\n`), page.indexOf('\n.SH ', page.indexOf(`.SH ${name}\n`) + 1));
    // Each entry: `.TP`, then `.B name` (or `.BR \-\-version ", " \-V`).
    const documented = [...section('COMMANDS').matchAll(/^\.TP\n\.BR? (\S+)/gm)].map((m) => m[1]!.replaceAll('\\-', '-'));
    const help = root!.ok('xdp-decap', ['--help']);
    const commands = help
      .slice(help.indexOf('Commands:\n'))
      .split('\n')
      .slice(1)
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => l.trim().split(/\s+/)[0]!);
    assert.ok(commands.includes('validate'), help);
    assert.deepEqual(documented, commands);
    assert.match(section('REQUIREMENTS'), /Linux 6\.1 or newer/);
  });

  test('xdp-decap replay of a capture, inside the clean root (which has no libpcap: replay reads captures itself)', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    assert.notEqual(
      root!.run('dpkg-query', ['-W', '-f=${Status}', 'libpcap0.8']).stdout,
      'install ok installed',
      'nothing the package depends on brought libpcap',
    );
    const inner = (n: number) => innerFrame({ src: `192.168.${n}.1`, dst: `192.168.${n}.2`, protocol: 'udp', sport: 40000 + n, payloadSize: 64 });
    const frames = [
      ...[1, 2, 3].map(() => vxlanFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 100, inner: inner(1) })),
      ...[1, 2].map(() => geneveFrame({ outerSrc: '10.0.0.1', outerDst: '10.0.0.2', vni: 5000, inner: inner(2) })),
      { frame: inner(3), inner: inner(3), overhead: 0 },
    ];
    const writer = PcapWriter.open(root!.path('tmp/mirror.pcap'), { linkType: 1, precision: 'micro' });
    for (const [i, f] of frames.entries()) writer.write({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: f.frame });
    writer.close();
    const summary = JSON.parse(root!.ok('xdp-decap', ['replay', '/tmp/mirror.pcap', '--out', '/tmp/out.pcap', '--json']));
    assert.equal(summary.frames, 6);
    assert.equal(summary.decapsulated, 5);
    assert.equal(summary.skipped.not_tunnel, 1);
    const byVni = Object.fromEntries(
      summary.vnis.map((v: { vni: number; type: string; packets: number; bytes: number }) => [v.vni, [v.type, v.packets, v.bytes]]),
    );
    assert.deepEqual(byVni, { 100: ['vxlan', 3, 3 * inner(1).length], 5000: ['geneve', 2, 2 * inner(2).length] });
    assert.ok(existsSync(root!.path('tmp/out.pcap')));
  });

  test('upgrade of both to this version keeps the edited /etc/xdp-decap/config.yaml and /etc/otelcol-xdp-decap/config.yaml', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const config = root!.path('etc/xdp-decap/config.yaml');
    const edited = `${readFileSync(config, 'utf8')
      .replace('vxlanPorts: [4789]', 'vxlanPorts: [4789, 8472]')
      .replace(/^interfaces: \[\]$/m, 'interfaces: [{ name: ens1f0 }]')}# edited by the operator\n`;
    assert.notEqual(edited, readFileSync(config, 'utf8'));
    writeFileSync(config, edited);
    const otelConfig = root!.path('etc/otelcol-xdp-decap/config.yaml');
    const otelEdited = readFileSync(otelConfig, 'utf8').replace('vxlan_ports: [4789]', 'vxlan_ports: [4789, 8472]');
    assert.notEqual(otelEdited, readFileSync(otelConfig, 'utf8'));
    writeFileSync(otelConfig, otelEdited);
    root!.ok('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debsOf(VERSION)], { timeoutMs: 600_000 });
    for (const pkg of PACKAGES) assert.equal(root!.ok('dpkg-query', ['-W', '-f=${Version}', pkg]), VERSION, pkg);
    assert.equal(readFileSync(config, 'utf8'), edited, "the operator's edits survive the upgrade");
    assert.equal(readFileSync(otelConfig, 'utf8'), otelEdited, "the operator's edits of the Collector config survive the upgrade");
    for (const f of [config, otelConfig]) assert.ok(!existsSync(`${f}.dpkg-new`) && !existsSync(`${f}.dpkg-dist`), f);
    assert.equal(root!.ok('xdp-decap', ['--version']).split('\n')[0], `xdp-decap ${VERSION}`);
    // The edited config is the one a `run` would use: it validates.
    assert.equal(
      root!.ok('xdp-decap', ['validate', '--config', '/etc/xdp-decap/config.yaml']).trim(),
      '/etc/xdp-decap/config.yaml: valid: attaches to ens1f0 (generic)',
    );
    assert.match(
      root!.ok('xdp-decap', ['replay', '/tmp/mirror.pcap', '--out', '/tmp/out2.pcap', '--config', '/etc/xdp-decap/config.yaml', '--json']),
      /"decapsulated": ?5/,
    );
  });

  test('otelcol-xdp-decap validate: the installed config is refused until an interface is given, then passes; a bad receiver setting is refused with one line naming the key', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const t0 = Date.now();
    const unset = root!.run('otelcol-xdp-decap', ['validate', '--config', '/etc/otelcol-xdp-decap/config.yaml']);
    assert.notEqual(unset.status, 0, 'no interface yet: refused');
    assert.match(unset.stderr.split('\n')[0]!, /^Error: receivers::xdp_decap: interfaces\[0\]\.name: .*that variable is unset or empty/, unset.stderr);
    const ok = root!.run('env', ['XDP_DECAP_INTERFACE=cap0', 'otelcol-xdp-decap', 'validate', '--config', '/etc/otelcol-xdp-decap/config.yaml']);
    assert.equal(ok.status, 0, ok.stderr);
    writeFileSync(root!.path('tmp/bad-receiver.yaml'), 'receivers:\n  xdp_decap:\n    interfaces: [{ name: cap0, mode: turbo }]\n');
    const bad = root!.run('otelcol-xdp-decap', ['validate', '--config', '/etc/otelcol-xdp-decap/config.yaml', '--config', '/tmp/bad-receiver.yaml']);
    assert.notEqual(bad.status, 0);
    // The installed daemon's validator answers (/usr/lib/xdp-decap), under the receiver's key.
    assert.equal(
      bad.stderr.split('\n')[0],
      'Error: receivers::xdp_decap: interfaces[0].mode: Invalid option: expected one of "generic"|"native"|"auto"',
      bad.stderr,
    );
    timings.push(`otelcol-xdp-decap validate x3 ${seconds(t0)} s`);
    // The daemon's path is the package's, fixed in the binary: nothing points back at the build's checkout.
    const binary = readFileSync(root!.path('usr/bin/otelcol-xdp-decap'));
    assert.ok(binary.includes('/usr/lib/xdp-decap/node/bin/node') && binary.includes('/usr/lib/xdp-decap/dist/src/cli.js'), 'the installed daemon paths');
    assert.ok(!binary.includes(`${REPO_ROOT}/dist/src/cli.js`), "not the checkout's daemon");
  });

  test('systemd-analyze verify of the installed unit (systemd installed afterwards, not a Depends)', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    root!.ok('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...TEST_TOOLS], { timeoutMs: 600_000 });
    for (const unit of ['xdp-decap.service', 'otelcol-xdp-decap.service']) {
      const r = root!.run('systemd-analyze', ['verify', '--man=no', `/lib/systemd/system/${unit}`]);
      assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
      assert.equal(
        r.stderr
          .split('\n')
          .filter((l) => l.includes(unit))
          .join('\n'),
        '',
        `no complaint about ${unit}`,
      );
    }
    // The Collector's unit: the same user, exactly plugin.json's capabilities, ambient so its daemon inherits them.
    const otel = unitSettings(root!, 'otelcol-xdp-decap.service');
    const plain = unitSettings(root!, 'xdp-decap.service');
    assert.equal(otel.get('ExecStart'), '/usr/bin/otelcol-xdp-decap --config /etc/otelcol-xdp-decap/config.yaml');
    for (const key of ['User', 'Group', 'CapabilityBoundingSet', 'AmbientCapabilities', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp']) {
      assert.equal(otel.get(key), plain.get(key), `${key}= as in xdp-decap.service`);
    }
    assert.deepEqual(otel.get('AmbientCapabilities')!.split(' ').sort(), [...CAPABILITIES].sort());
  });

  test("on Debian 12's own kernel (6.1, booted under qemu): the installed demo runs, the installed Collector under its unit's settings attaches its daemon and counts per VNI", (t) => {
    if (!requireRoot(t, 'the package test') || !requireTool(t, 'qemu-system-x86_64') || !requireTool(t, 'curl')) return;
    // The guest sees this root as the host left it (installed, upgraded), copy-on-write: nothing it does comes back.
    const t0 = Date.now();
    const kernel = must('bash', ['scripts/vm/fetch-kernel.sh', 'bookworm'], 600_000).trim();
    const results = mkdtempSync('/var/tmp/xdp-decap-deb-vm-');
    try {
      const job = join(results, 'job-source.sh');
      writeFileSync(job, `cd ${REPO_ROOT} && exec node_modules/.bin/node test/package/installed-live.ts ${root!.dir}\n`);
      // The guest mounts its own /proc, /sys, bpffs, /dev and /run into the root: it sees none of this host's.
      root!.suspend();
      let boot: SpawnSyncReturns<string>;
      try {
        boot = spawnSync('bash', ['scripts/vm/boot.sh', kernel, job, join(results, 'vm')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 1_500_000 });
      } finally {
        root!.resume();
      }
      const log = existsSync(join(results, 'vm', 'job.log')) ? readFileSync(join(results, 'vm', 'job.log'), 'utf8') : boot.stderr;
      const report = log
        .trimEnd()
        .split('\n')
        .reverse()
        .map((l) => {
          try {
            return JSON.parse(l) as { ok: boolean; timings: string[]; error?: string };
          } catch {
            return undefined;
          }
        })
        .find(Boolean);
      timings.push(...(report?.timings ?? []).map((line) => `6.1 guest: ${line}`), `6.1 guest in all ${seconds(t0)} s`);
      assert.equal(boot.status, 0, `the guest's job failed:\n${report?.error ?? log.slice(-4000)}`);
      assert.equal(report?.ok, true);
      assert.match(report.timings[0]!, /^kernel 6\.1\./, "ran on Debian 12's kernel");
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });

  test('dpkg --purge of both leaves no file, user, group or unit behind, even after the operator enabled the units', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    for (const pkg of PACKAGES) {
      root!.ok('systemctl', ['enable', `${pkg}.service`]);
      assert.ok(present(root!.path(`etc/systemd/system/multi-user.target.wants/${pkg}.service`)), `${pkg} enabled by the operator`);
    }
    const owned = PACKAGES.flatMap((pkg) => root!.ok('dpkg-query', ['-L', pkg]).trim().split('\n'));
    root!.ok('dpkg', ['--purge', ...PACKAGES]);
    for (const pkg of PACKAGES) assert.notEqual(root!.run('dpkg-query', ['-W', pkg]).status, 0, `dpkg forgot ${pkg}`);
    assert.notEqual(root!.run('getent', ['passwd', 'xdp-decap']).status, 0, 'user removed');
    assert.notEqual(root!.run('getent', ['group', 'xdp-decap']).status, 0, 'group removed');
    // Files the package owned are gone (shared directories such as /usr/bin stay, as they should).
    const left = owned.filter((p) => p.includes('xdp-decap') && present(root!.path(p)));
    assert.deepEqual(left, []);
    // And nothing named after them anywhere in the root (units' symlinks, helper state, conffile backups, postinst's list).
    assert.equal(namedAfterPackages(root!), '', 'nothing named xdp-decap left');
    const enabled = readdirSync(root!.path('var/lib/systemd/deb-systemd-helper-enabled'), { recursive: true })
      .map(String)
      .filter((f) => f.includes('xdp-decap'));
    assert.deepEqual(enabled, []);
  });

  /**
   * A fresh copy of the clean root with both packages of this version in /tmp/debs and `prepare` run in it (an
   * xdp-decap account made before the package), then `check` on it; always torn down.
   */
  function inFreshRoot(prepare: string[], check: (fresh: DebianRoot) => void): void {
    const fresh = DebianRoot.create(cached);
    try {
      mkdirSync(fresh.path('tmp/debs'));
      for (const [i, inside] of debsOf(VERSION).entries()) copyFileSync(debs.current[i]!, fresh.path(inside));
      fresh.ok('apt-get', ['update', '-qq']);
      fresh.ok(prepare[0]!, prepare.slice(1));
      check(fresh);
    } finally {
      fresh.destroy();
      assert.deepEqual(fresh.processes(), [], 'no process left in the fresh root');
    }
  }

  /** `apt-get install` of both packages in `fresh`: its exit status and everything it printed. */
  const installBoth = (fresh: DebianRoot) => {
    const r = fresh.run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debsOf(VERSION)], { timeoutMs: 600_000 });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  };

  /** `dpkg --purge` of both: it must succeed; what it printed. */
  const purgeBoth = (fresh: DebianRoot) => {
    const r = fresh.run('dpkg', ['--purge', ...PACKAGES]);
    assert.equal(r.status, 0, `dpkg --purge exits 0:\n${r.stdout}\n${r.stderr}`);
    for (const pkg of PACKAGES) assert.notEqual(fresh.run('dpkg-query', ['-W', pkg]).status, 0, `dpkg forgot ${pkg}`);
    return `${r.stdout}\n${r.stderr}`;
  };

  test('a login account named xdp-decap already there: install refuses it in one line naming it and the fix; purge exits 0 and leaves it as it was; renamed as the line says, install goes through', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const t0 = Date.now();
    inFreshRoot(['useradd', '-m', '-s', '/bin/bash', '-u', '1500', ACCOUNT], (fresh) => {
      writeFileSync(fresh.path(`home/${ACCOUNT}/notes.txt`), 'the login user owns this\n');
      const before = accountState(fresh);
      const refused = installBoth(fresh);
      assert.notEqual(refused.status, 0, 'apt-get reports the failure');
      const lines = refused.output.split('\n').filter((l) => l.startsWith('xdp-decap: '));
      assert.equal(lines.length, 1, refused.output);
      assert.match(
        lines[0]!,
        /^xdp-decap: the user xdp-decap already exists as a login account \(uid 1500, home \/home\/xdp-decap, shell \/bin\/bash\), not a system account/,
      );
      assert.match(
        lines[0]!,
        /remove it \(deluser xdp-decap\) or rename it \(usermod -l NEWNAME xdp-decap && groupmod -n NEWNAME xdp-decap\), then run dpkg --configure -a$/,
      );
      assert.match(refused.output, /installed xdp-decap package post-installation script subprocess returned error exit status 1/);
      assert.equal(fresh.ok('dpkg-query', ['-W', '-f=${Status}', 'xdp-decap']), 'install ok half-configured');
      assert.deepEqual(createdAccounts(fresh), [], 'postinst made nothing');
      const purged = purgeBoth(fresh);
      assert.match(purged, /^xdp-decap: left the user xdp-decap \(uid 1500\): it existed before this package$/m);
      assert.match(purged, /^xdp-decap: left the group xdp-decap \(gid 1500\): it existed before this package$/m);
      assert.equal(accountState(fresh), before, 'the login account, its group and its home as they were, and nothing else named xdp-decap');

      // The fix the line gives: rename the account; then the package installs and makes its own system account.
      const again = installBoth(fresh);
      assert.notEqual(again.status, 0, again.output);
      fresh.ok('usermod', ['-l', 'former-xdp', ACCOUNT]);
      fresh.ok('groupmod', ['-n', 'former-xdp', ACCOUNT]);
      const renamed = fresh.ok('getent', ['passwd', 'former-xdp']);
      fresh.ok('dpkg', ['--configure', '-a']);
      assert.equal(fresh.ok('dpkg-query', ['-W', '-f=${Status}', 'xdp-decap']), 'install ok installed');
      const [, , uid, , , home] = fresh.ok('getent', ['passwd', ACCOUNT]).trim().split(':');
      assert.ok(Number(uid) < 1000 && home === '/nonexistent', `a system account of its own: uid ${uid}, home ${home}`);
      assert.deepEqual(createdAccounts(fresh), ['group', 'user']);
      const purgedAgain = purgeBoth(fresh);
      assert.doesNotMatch(purgedAgain, /left the|could not remove/);
      assert.notEqual(fresh.run('getent', ['passwd', ACCOUNT]).status, 0, 'its user removed');
      assert.notEqual(fresh.run('getent', ['group', ACCOUNT]).status, 0, 'its group removed');
      assert.equal(fresh.ok('getent', ['passwd', 'former-xdp']), renamed, 'the renamed login account untouched');
      assert.equal(readFileSync(fresh.path(`home/${ACCOUNT}/notes.txt`), 'utf8'), 'the login user owns this\n');
      assert.equal(namedAfterPackages(fresh), '/home/xdp-decap', "only the login account's home is named so");
    });
    timings.push(`login account case (install refused, purge, rename, configure, purge) ${seconds(t0)} s`);
  });

  test('a system account named xdp-decap already there (as the unit comment makes it): adopted; purge exits 0 and leaves it', (t) => {
    if (!requireRoot(t, 'the package test')) return;
    const t0 = Date.now();
    inFreshRoot(['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ACCOUNT], (fresh) => {
      const before = accountState(fresh);
      const entry = fresh.ok('getent', ['passwd', ACCOUNT]).trim();
      const installed = installBoth(fresh);
      assert.equal(installed.status, 0, installed.output);
      assert.match(
        installed.output,
        new RegExp(`^xdp-decap: using the existing system user xdp-decap \\(uid ${entry.split(':')[2]}\\); purge will leave it$`, 'm'),
      );
      assert.equal(fresh.ok('getent', ['passwd', ACCOUNT]).trim(), entry, 'adopted as it is');
      assert.deepEqual(createdAccounts(fresh), [], 'postinst made nothing');
      const purged = purgeBoth(fresh);
      assert.match(purged, /^xdp-decap: left the user xdp-decap \(uid \d+\): it existed before this package$/m);
      assert.match(purged, /^xdp-decap: left the group xdp-decap \(gid \d+\): it existed before this package$/m);
      assert.equal(accountState(fresh), before, 'the system account and its group as they were, and nothing named xdp-decap');
    });
    timings.push(`system account case (adopted, purge) ${seconds(t0)} s`);
  });

  test('lintian, both packages: no error or warning beyond the explained overrides', (t) => {
    if (!requireRoot(t, 'the package test') || !requireTool(t, 'lintian')) return;
    const t0 = Date.now();
    const out = must('lintian', ['--fail-on', 'error,warning', '--no-tag-display-limit', ...debs.current], 900_000);
    timings.push(`lintian ${seconds(t0)} s`);
    assert.equal(
      out
        .split('\n')
        .filter((l) => /^[EW]: /.test(l))
        .join('\n'),
      '',
    );
  });
});

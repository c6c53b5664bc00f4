// The systemd unit as shipped: its own settings parsed, `systemd-analyze verify`, and `run` under them on a testbed with real counts.

import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { latestValue } from '../../src/demo/otlp-json.ts';
import { IN_CI, IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { LiveBed } from '../lib/live-bed.ts';
import { manifestCapabilities, processCapabilities, serviceEnv, setprivArgv, spawnArgv, systemUser } from '../lib/privilege.ts';

const UNIT_FILE = join(REPO_ROOT, 'examples', 'systemd', 'xdp-decap.service');
/** Where the unit expects the package installed; a package or operator changes only this prefix (and the config path). */
const INSTALL_PREFIX = '/opt/xdp-decap';
const SANDBOX = join(REPO_ROOT, 'test', 'lib', 'unit-sandbox.sh');
const SKIP = !IS_ROOT && !IN_CI ? 'needs root (setpriv, mount namespace, XDP on a testbed); runs in CI' : false;
const PINGS = 10;

type Unit = Map<string, Map<string, string[]>>;

/** systemd's unit syntax, as much as this unit uses: sections, `Key=value` (repeatable), `#`/`;` comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `unit line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

const unit = parseUnit(readFileSync(UNIT_FILE, 'utf8'));
const service = unit.get('Service') ?? new Map<string, string[]>();
/** The last value of a [Service] key (systemd's rule for single-valued keys). */
const setting = (key: string): string | undefined => service.get(key)?.at(-1);
const words = (key: string): string[] => (service.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
const yes = (key: string): boolean => ['yes', 'true', '1', 'on'].includes(setting(key) ?? '');

test('the unit runs as a dedicated system user with exactly the capabilities plugin.json lists, and is hardened', () => {
  const caps = manifestCapabilities();
  assert.equal(setting('User'), 'xdp-decap', 'a dedicated system user, not root');
  assert.equal(setting('Group'), 'xdp-decap');
  assert.deepEqual(words('AmbientCapabilities').sort(), [...caps].sort(), 'AmbientCapabilities = plugin.json requirements.capabilities');
  assert.deepEqual(words('CapabilityBoundingSet').sort(), [...caps].sort(), 'CapabilityBoundingSet = plugin.json requirements.capabilities');
  assert.ok(yes('NoNewPrivileges'));
  assert.equal(setting('ProtectSystem'), 'strict');
  assert.equal(service.get('ReadWritePaths'), undefined, 'run writes nothing');
  for (const key of [
    'ProtectHome',
    'PrivateTmp',
    'ProtectKernelModules',
    'ProtectKernelTunables',
    'ProtectControlGroups',
    'LockPersonality',
    'RestrictNamespaces',
    'RestrictRealtime',
    'RestrictSUIDSGID',
    'ProtectClock',
    'ProtectHostname',
  ]) {
    assert.ok(yes(key), `${key}=yes`);
  }
  assert.deepEqual(words('RestrictAddressFamilies').sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  const exec = (setting('ExecStart') ?? '').split(/\s+/);
  assert.deepEqual(exec.slice(2, 4), ['run', '--config'], `ExecStart runs \`run --config FILE\`: ${exec.join(' ')}`);
  assert.ok(exec[0]!.startsWith(`${INSTALL_PREFIX}/`) && exec[1]!.startsWith(`${INSTALL_PREFIX}/`), 'paths under one install prefix, easy to change');
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.match(readme, /xdp-decap\.service`: runs as the system user `xdp-decap` with exactly/);
});

test('systemd-analyze verify accepts the unit without a warning (install prefix pointed at this checkout)', (t) => {
  if (!requireTool(t, 'systemd-analyze')) return;
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-unit-'));
  try {
    // verify checks that ExecStart's programs exist: point the install prefix at this checkout, nothing else changes.
    const file = join(dir, 'xdp-decap.service');
    writeFileSync(file, readFileSync(UNIT_FILE, 'utf8').replaceAll(INSTALL_PREFIX, REPO_ROOT));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    assert.ok(r.error === undefined, `systemd-analyze could not run here: ${r.error?.message}`);
    assert.equal(r.status, 0, `systemd-analyze verify failed (${r.status}): ${r.stderr}`);
    assert.equal(r.stderr.trim(), '', `systemd-analyze verify warns: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `socket(AF_X, ...)` families and the calls the unit's seccomp settings would refuse, from an `strace -f` log. */
function seccompFindings(log: string): { families: string[]; refused: string[] } {
  const families = new Set<string>();
  const refused: string[] = [];
  for (const line of log.split('\n')) {
    const socket = /\bsocket\((AF_\w+)/.exec(line);
    if (socket) families.add(socket[1]!);
    // LockPersonality: only personality(0xffffffff) (a query) is allowed. RestrictNamespaces: no CLONE_NEW*, unshare, setns.
    if (/\bpersonality\((?!0xffffffff)/.test(line)) refused.push(line);
    if (
      /\b(unshare|setns|sethostname|setdomainname|clock_settime|settimeofday|clock_adjtime|adjtimex|init_module|finit_module|sched_setscheduler)\(/.test(line)
    )
      refused.push(line);
    if (/\bclone3?\(.*CLONE_NEW/.test(line)) refused.push(line);
  }
  return { families: [...families].sort(), refused };
}

describe("xdp-decap run under the unit's own settings on a testbed", { skip: SKIP }, () => {
  let live: LiveBed;
  let child: ChildProcess | undefined;
  let configDir: string | undefined;
  let out = '';
  let traceFile: string | undefined;

  before(async () => {
    if (!IS_ROOT) return;
    live = await LiveBed.create('unit');
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    live?.destroy();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
    if (traceFile) rmSync(traceFile, { force: true });
  });

  test("as the unit's user with its capabilities, no new privileges, read-only system, private /tmp: attaches and counts exactly; seccomp settings would not refuse anything it does", async (t) => {
    if (
      !requireRoot(t, 'run under the unit') ||
      !requireTool(t, 'setpriv') ||
      !requireTool(t, 'unshare') ||
      !requireTool(t, 'nsenter') ||
      !requireTool(t, 'strace')
    )
      return;
    const bed = live.bed;
    const tunnel = bed.addVxlan(100);
    const user = systemUser(setting('User')!);
    // The config must be where the unit's sandbox can read it: not in /tmp, which PrivateTmp replaces.
    configDir = `/run/xdp-decap-unit-test-${process.pid}`;
    mkdirSync(configDir, { mode: 0o755 });
    const config = join(configDir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ interfaces: [{ name: bed.capIf }], metrics: { endpoint: live.endpoint, encoding: 'json', exportIntervalSeconds: 1 } }),
      { mode: 0o644 },
    );

    // ExecStart and WorkingDirectory as the unit says: the sandbox shows this checkout at the install prefix.
    const [node, cli, ...args] = setting('ExecStart')!.split(/\s+/);
    args[args.indexOf('--config') + 1] = config;
    const environment = Object.fromEntries((service.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    // strace writes where the sandbox leaves a writable, shared file system (/dev/shm); its own /tmp is private.
    traceFile = `/dev/shm/xdp-decap-unit-test-${process.pid}.strace`;
    const privileges = setprivArgv({
      user,
      capabilities: words('AmbientCapabilities'),
      boundingSet: words('CapabilityBoundingSet'),
      noNewPrivileges: yes('NoNewPrivileges'),
    });
    const argv = [
      'nsenter',
      `--net=/var/run/netns/${bed.cap}`,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      SANDBOX,
      '--install',
      REPO_ROOT,
      INSTALL_PREFIX,
      '--chdir',
      setting('WorkingDirectory')!,
      setting('UMask') ?? '0022',
      yes('PrivateTmp') ? 'yes' : 'no',
      setting('ProtectHome') === 'yes' ? 'yes' : 'no',
      '--',
      'strace',
      '-f',
      '-qq',
      '-o',
      traceFile,
      '-e',
      'trace=socket,personality,unshare,setns,clone,clone3,sethostname,setdomainname,clock_settime,settimeofday,clock_adjtime,adjtimex,init_module,finit_module,sched_setscheduler',
      '--',
      ...privileges,
      node!,
      cli!,
      ...args,
    ];
    child = spawnArgv(argv, serviceEnv(user, environment), ['ignore', 'pipe', 'pipe'], '/');
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const until = Date.now() + 30000;
    while (!/attached in generic mode/.test(out)) {
      if (Date.now() > until || child.exitCode !== null) {
        await new Promise((r) => setTimeout(r, 200)); // the last of its output
        assert.fail(`run under the unit never attached (exit ${child.exitCode}):\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // The process strace started: setpriv exec'd node in it.
    const nodePid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    const caps = processCapabilities(nodePid);
    const status = readFileSync(`/proc/${nodePid}/status`, 'utf8');
    assert.equal(caps.uid, user.uid, `runs as ${user.name} (uid ${user.uid})`);
    assert.match(status, new RegExp(`^Gid:\\s+${user.gid}\\s+${user.gid}\\s`, 'm'));
    assert.match(status, /^Groups:\s*$/m, 'no supplementary groups');
    assert.deepEqual(caps.effective, [...manifestCapabilities()].sort(), 'effective capabilities = plugin.json');
    assert.deepEqual(caps.bounding, words('CapabilityBoundingSet').sort());
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(readFileSync(`/proc/${nodePid}/mountinfo`, 'utf8'), / \/ \/ ro[, ]/, 'the root file system is read-only for it');

    const before = bed.txCounters(tunnel.device);
    bed.ping(tunnel, PINGS);
    const sent = bed.txCounters(tunnel.device);
    assert.equal(sent.packets - before.packets, PINGS, 'the kernel sent exactly the pings');
    const where = { 'decap.tunnel.id': 100, 'decap.tunnel.type': 'vxlan', 'network.interface.name': bed.capIf };
    const exports = await live.waitForExports((e) => latestValue(e, 'decap.tunnel.packet.count', where) === PINGS, 20000);
    // A VXLAN device counts IP bytes; the inner frame xdp-decap counts adds its 14-byte Ethernet header.
    assert.equal(latestValue(exports, 'decap.tunnel.io', where), sent.bytes - before.bytes + 14 * PINGS, 'inner bytes counted = what the VXLAN device sent');
    assert.equal(latestValue(exports, 'decap.tunnel.overhead', where), 50 * PINGS);

    process.kill(nodePid, 'SIGTERM'); // what systemd's KillSignal=SIGTERM sends to the main process
    const code = await exited;
    assert.equal(code, 0, `SIGTERM: clean exit under the unit's settings:\n${out}`);
    assert.doesNotMatch(out, /EPERM|EACCES|read-only file system|unexpected error/i, out);

    const { families, refused } = seccompFindings(readFileSync(traceFile, 'utf8'));
    t.diagnostic(`run under the unit: uid ${caps.uid}, capabilities ${caps.effective.join(' ')}, socket families ${families.join(' ')}`);
    assert.ok(families.includes('AF_NETLINK') && families.includes('AF_INET'), `the trace saw run's sockets: ${families.join(', ')}`);
    const allowed = new Set(words('RestrictAddressFamilies'));
    assert.deepEqual(
      families.filter((f) => !allowed.has(f)),
      [],
      `RestrictAddressFamilies would refuse these sockets: ${families.join(', ')}`,
    );
    assert.deepEqual(
      refused,
      [],
      "no call the unit's seccomp settings (LockPersonality, RestrictNamespaces, ProtectClock, ProtectHostname, ProtectKernelModules, RestrictRealtime) refuse",
    );
  });
});

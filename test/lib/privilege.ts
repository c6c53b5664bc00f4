// Runs the real CLI as an unprivileged user with exactly chosen capabilities (setpriv), as systemd or an operator would.
import { type ChildProcess, type SpawnSyncReturns, type StdioOptions, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from './cli.ts';
import { REPO_ROOT } from './env.ts';

/** The capabilities plugin.json says xdp-decap needs (requirements.capabilities), e.g. ["CAP_BPF", ...]. */
export function manifestCapabilities(): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'plugin.json'), 'utf8')) as { requirements: { capabilities: string[] } };
  return manifest.requirements.capabilities;
}

export interface Identity {
  uid: number;
  gid: number;
  /** What systemd would put in HOME for this user. */
  home: string;
  name: string;
}

function getent(db: 'passwd' | 'group', key: string): string[] | undefined {
  const r = spawnSync('getent', [db, key], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(':') : undefined;
}

/**
 * The system user `name` if this machine has it (the Debian package creates it), else a free system uid and gid
 * standing in for it: the kernel checks numbers, not names, so nothing needs adding to /etc/passwd for a test.
 */
export function systemUser(name: string): Identity {
  const pw = getent('passwd', name);
  if (pw) return { name, uid: Number(pw[2]), gid: Number(pw[3]), home: pw[5] ?? '/nonexistent' };
  for (let id = 999; id > 100; id--) {
    if (!getent('passwd', String(id)) && !getent('group', String(id))) return { name, uid: id, gid: id, home: '/nonexistent' };
  }
  throw new Error(`no free system uid/gid for a stand-in of user ${name}`);
}

/** `nobody`: an ordinary unprivileged user. */
export function nobody(): Identity {
  const pw = getent('passwd', 'nobody');
  return { name: 'nobody', uid: pw ? Number(pw[2]) : 65534, gid: pw ? Number(pw[3]) : 65534, home: '/nonexistent' };
}

export interface PrivilegeOptions {
  user: Identity;
  /** Capabilities as plugin.json and systemd spell them: CAP_BPF, ... */
  capabilities: readonly string[];
  /** The bounding set; by default the same as `capabilities` (nothing else can ever be regained). */
  boundingSet?: readonly string[];
  noNewPrivileges?: boolean;
}

const setprivName = (cap: string) => cap.replace(/^CAP_/i, '').toLowerCase();

/** setpriv's argv: drop to the user, no supplementary groups, exactly these capabilities (ambient, so they survive exec). */
export function setprivArgv(o: PrivilegeOptions): string[] {
  const list = (caps: readonly string[], sign: string) => caps.map((c) => `${sign}${setprivName(c)}`).join(',');
  const caps = o.capabilities.length > 0 ? list(o.capabilities, '+') : '';
  const bounding = ['-all', ...(o.boundingSet ?? o.capabilities).map((c) => `+${setprivName(c)}`)].join(',');
  return [
    'setpriv',
    `--reuid=${o.user.uid}`,
    `--regid=${o.user.gid}`,
    '--clear-groups',
    ...(caps ? [`--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`] : ['--inh-caps=-all']),
    `--bounding-set=${bounding}`,
    ...(o.noNewPrivileges ? ['--no-new-privs'] : []),
    '--',
  ];
}

/** The environment systemd gives a service of this user: its own variables only, nothing of root's. */
export function serviceEnv(user: Identity, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: 'C.UTF-8',
    ...extra,
  };
}

/** The command line that runs `xdp-decap ARGS` under `o`, inside network namespace `ns` (via nsenter: keeps /sys). */
export function cliArgvAs(args: readonly string[], o: PrivilegeOptions & { ns?: string }): string[] {
  const ns = o.ns ? ['nsenter', `--net=/var/run/netns/${o.ns}`] : [];
  return [...ns, ...setprivArgv(o), process.execPath, CLI, ...args];
}

/** `xdp-decap ARGS` to completion under `o`. */
export function runCliAs(
  args: readonly string[],
  o: PrivilegeOptions & { ns?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): SpawnSyncReturns<string> {
  const [cmd, ...rest] = cliArgvAs(args, o);
  return spawnSync(cmd!, rest, { encoding: 'utf8', env: o.env ?? serviceEnv(o.user), timeout: o.timeoutMs ?? 120000, cwd: '/' });
}

/** A long-running process from a prepared argv (e.g. setpriv's, see setprivArgv), with a clean environment. */
export function spawnArgv(argv: readonly string[], env: NodeJS.ProcessEnv, stdio: StdioOptions = ['ignore', 'pipe', 'pipe'], cwd = '/'): ChildProcess {
  const [cmd, ...rest] = argv;
  return spawn(cmd!, rest, { stdio, env, cwd });
}

/** The capability sets of a running process, as names (from /proc/PID/status). */
export function processCapabilities(pid: number): { effective: string[]; bounding: string[]; ambient: string[]; uid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? '0'}`);
  const names = (mask: bigint) =>
    Object.entries(CAP_BITS)
      .filter(([, bit]) => (mask >> BigInt(bit)) & 1n)
      .map(([n]) => n)
      .sort();
  const uid = Number(/^Uid:\s*(\d+)/m.exec(status)?.[1]);
  return { effective: names(field('CapEff')), bounding: names(field('CapBnd')), ambient: names(field('CapAmb')), uid };
}

/** Bits of the capabilities the tests name (linux/capability.h). */
const CAP_BITS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_SYS_MODULE: 16,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_RESOURCE: 24,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

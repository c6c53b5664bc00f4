// A throwaway copy of the cached clean Debian 12 root (an overlay over it) with /proc, /sys, bpffs, /dev and /run
// mounted, commands run in it by chroot, and a teardown that kills its processes and unmounts everything.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './env.ts';

/** Runs a host command; throws with its output if it fails. */
export function must(cmd: string, args: string[], timeoutMs = 600_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The cached clean root from scripts/debian-root.sh (made on first use, about a minute on a quiet machine). */
export function cachedDebianRoot(): string {
  return must('bash', ['scripts/debian-root.sh'], 1_200_000).trim();
}

export class DebianRoot {
  /** The root commands see: an overlay whose lower layer is the cache, which therefore stays clean. */
  readonly dir: string;
  /** The scratch directory create() made (removed by destroy()); undefined for a root enter() was given. */
  private readonly scratch: string | undefined;

  private constructor(dir: string, scratch: string | undefined) {
    this.dir = dir;
    this.scratch = scratch;
  }

  /** Mounts an overlay over `cached` in a new scratch directory (under /var/tmp: same disk as the cache). */
  static create(cached: string): DebianRoot {
    const scratch = mkdtempSync('/var/tmp/xdp-decap-debroot-');
    const root = new DebianRoot(join(scratch, 'merged'), scratch);
    try {
      for (const d of ['upper', 'work', 'merged']) mkdirSync(join(scratch, d));
      must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${cached},upperdir=${join(scratch, 'upper')},workdir=${join(scratch, 'work')}`, root.dir]);
      root.mountKernelFileSystems();
    } catch (err) {
      root.destroy();
      throw err;
    }
    return root;
  }

  /**
   * A root made elsewhere, used where it is (a test VM's copy-on-write view of a root the host prepared): its
   * kernel file systems are mounted here, and destroy() unmounts them and leaves the files.
   */
  static enter(dir: string): DebianRoot {
    const root = new DebianRoot(dir, undefined);
    try {
      // A plain directory (a VM's copy-on-write view) is no mount point, and `ip netns exec` inside the root
      // fails making "/" a slave mount: bound onto itself, it is one (destroy() unmounts it with the rest).
      must('mount', ['--bind', dir, dir]);
      root.mountKernelFileSystems();
    } catch (err) {
      root.destroy();
      throw err;
    }
    return root;
  }

  /**
   * Unmounts the kernel file systems under the root and leaves its files mounted: what a test VM should see of it
   * (its own kernel mounts its own /proc, /sys and /dev there). resume() mounts them again.
   */
  suspend(): void {
    for (const m of this.mounts()) if (m !== this.dir) must('umount', [m]);
  }

  resume(): void {
    this.mountKernelFileSystems();
  }

  private mountKernelFileSystems(): void {
    must('mount', ['-t', 'proc', 'proc', join(this.dir, 'proc')]);
    must('mount', ['-t', 'sysfs', 'sysfs', join(this.dir, 'sys')]);
    // A bpffs of its own: pins made inside never reach the host's /sys/fs/bpf.
    must('mount', ['-t', 'bpf', 'bpf', join(this.dir, 'sys', 'fs', 'bpf')]);
    must('mount', ['--bind', '/dev', join(this.dir, 'dev')]);
    // `ip netns add` bind-mounts under /run/netns: a tmpfs keeps those mounts inside this root.
    must('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', join(this.dir, 'run')]);
  }

  /** `chroot DIR CMD ARGS...` with a clean, Debian-like environment. */
  run(cmd: string, args: string[] = [], options: { timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
    return spawnSync('chroot', [this.dir, cmd, ...args], {
      encoding: 'utf8',
      input: options.input,
      timeout: options.timeoutMs ?? 300_000,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: '/root',
        LANG: 'C.UTF-8',
        DEBIAN_FRONTEND: 'noninteractive',
        TERM: 'dumb',
      },
    });
  }

  /** Like run(), but throws with the output unless the command exits 0. */
  ok(cmd: string, args: string[] = [], options: { timeoutMs?: number; input?: string } = {}): string {
    const r = this.run(cmd, args, options);
    if (r.status !== 0) throw new Error(`in the clean root: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** Host path of a path inside the root. */
  path(inside: string): string {
    return join(this.dir, inside);
  }

  /** PIDs of processes whose root directory is this root (chroot processes and their children). */
  processes(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const root = readlinkSync(`/proc/${entry}/root`);
        if (root === this.dir || root.startsWith(`${this.dir}/`)) pids.push(Number(entry));
      } catch {
        // gone, or a kernel thread
      }
    }
    return pids;
  }

  /** Mount points at or under this root, deepest first. */
  mounts(): string[] {
    const points = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .map((p) => p.replace(/\\040/g, ' '))
      .filter((p) => p === this.dir || p.startsWith(`${this.dir}/`));
    return [...new Set(points)].sort((a, b) => b.length - a.length);
  }

  /** Kills what still runs in the root, unmounts everything, removes the scratch directory create() made. Idempotent. */
  destroy(): void {
    for (let round = 0; round < 20; round++) {
      const pids = this.processes();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('sleep', ['0.1']);
    }
    for (let round = 0; round < 5; round++) {
      const mounts = this.mounts();
      if (mounts.length === 0) break;
      for (const m of mounts) spawnSync('umount', [m]).status === 0 || spawnSync('umount', ['-l', m]);
    }
    if (this.mounts().length > 0) throw new Error(`could not unmount ${this.mounts().join(', ')}`);
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
  }
}

// Runs the real CLI (from source, on Node 24) as a child process and captures what it prints.
import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './env.ts';

export const CLI = join(REPO_ROOT, 'src', 'cli.ts');

/** `xdp-decap ARGS...` to completion; optionally inside network namespace `ns`. */
export function runCli(
  args: string[],
  options: { ns?: string; nsenter?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): SpawnSyncReturns<string> {
  const argv = [process.execPath, CLI, ...args];
  // `nsenter` keeps the root namespace's /sys (and so its bpffs pins); `ip netns exec` remounts /sys.
  const [cmd, ...rest] = options.ns
    ? ['ip', 'netns', 'exec', options.ns, ...argv]
    : options.nsenter
      ? ['nsenter', `--net=/var/run/netns/${options.nsenter}`, ...argv]
      : argv;
  return spawnSync(cmd!, rest, { encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120000, input: options.input });
}

/** A long-running CLI process (e.g. `run`) with its combined output collected in `output()`. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches `pattern` (rejects after `timeoutMs` or if the process exits first). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

export function startCli(args: string[], options: { ns?: string; env?: NodeJS.ProcessEnv } = {}): CliProcess {
  const argv = [process.execPath, CLI, ...args];
  const [cmd, ...rest] = options.ns ? ['ip', 'netns', 'exec', options.ns, ...argv] : argv;
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`)), timeoutMs);
        void exited.then((code) => {
          if (!pattern.test(out)) {
            clearTimeout(timer);
            reject(new Error(`process exited (${code}) before ${pattern}; output:\n${out}`));
          }
        });
        waiters.push(check);
        check();
      });
    },
  };
}

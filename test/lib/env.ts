// Test environment helpers: repo paths, root detection, tools on PATH; root tests skip outside CI, never in it.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function which(tool: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function findCompiler(): string | undefined {
  return which('cc') ?? which('gcc') ?? which('clang');
}

export const IS_ROOT = process.getuid?.() === 0;
export const IN_CI = Boolean(process.env.CI);

/**
 * For tests that need root (BPF, namespaces): outside CI they skip with a message saying why;
 * in CI a missing privilege is a failure, so a root test can never pass by not running.
 * Returns true when the test may go on.
 */
export function requireRoot(t: TestContext, what: string): boolean {
  if (IS_ROOT) return true;
  if (IN_CI) throw new Error(`${what} needs root, and CI must run it: run the test command as root`);
  t.skip(`${what} needs root (BPF and network namespaces); run as root, or see CI where it runs`);
  return false;
}

/** Same rule for a tool the test script installs (tcpdump, tshark, ...). */
export function requireTool(t: TestContext, tool: string): boolean {
  if (which(tool)) return true;
  if (IN_CI) throw new Error(`${tool} is missing in CI: scripts/test.sh must install it`);
  t.skip(`${tool} not installed; scripts/test.sh installs it`);
  return false;
}

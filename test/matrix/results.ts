// Reads what scripts/vm/kernel-suite.sh left for one kernel of the matrix: exit status, verifier report, test totals, replay.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VerifierReport } from './verifier-report.ts';

export interface TestTotals {
  pass: number;
  fail: number;
  skipped: number;
  todo: number;
  cancelled: number;
}

export interface KernelResult {
  /** The matrix's name for it: host, 6.1, 6.12. */
  name: string;
  dir: string;
  /** Passed tests per top-level test or suite of the kernel tests (kernel-tests.tap), by name. */
  passedBySuite: Map<string, number>;
  /** The suite's exit status (undefined: the guest never finished it). */
  exitStatus: number | undefined;
  /** Wall time of the whole kernel, boot included. */
  seconds: number | undefined;
  verifier: VerifierReport | undefined;
  tests: TestTotals | undefined;
  /** The replay's JSON summary and the sha256 of the capture it wrote. */
  replay: { summary: unknown; sha256: string } | undefined;
  /** Seconds per suite step. */
  timings: Record<string, number>;
  /** The kernel's lines about processes a core-dumping signal killed (crashes.txt). */
  crashes: string[];
  /** The same for a first run scripts/vm/boot.sh ran again because of them. */
  firstRunCrashes: string[];
}

const read = (dir: string, file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : undefined);

function jsonOf<T>(text: string | undefined): T | undefined {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

export function readKernelResult(results: string, name: string): KernelResult {
  const dir = join(results, name);
  const rc = read(dir, 'job.rc')?.trim();
  const seconds = read(dir, 'seconds')?.trim();
  const summary = read(dir, 'kernel-tests.summary')?.trim();
  const tests = summary
    ? (Object.fromEntries(
        summary
          .split(',')
          .map((kv) => kv.split(' '))
          .map(([k, v]) => [k, Number(v)]),
      ) as unknown as TestTotals)
    : undefined;
  const replayJson = jsonOf<unknown>(read(dir, 'replay.json'));
  const pcap = join(dir, 'replay.pcap');
  return {
    name,
    dir,
    passedBySuite: passedBySuite(read(dir, 'kernel-tests.tap') ?? ''),
    exitStatus: rc ? Number(rc) : undefined,
    seconds: seconds ? Number(seconds) : undefined,
    verifier: jsonOf<VerifierReport>(read(dir, 'verifier.json')),
    tests,
    replay: replayJson && existsSync(pcap) ? { summary: replayJson, sha256: createHash('sha256').update(readFileSync(pcap)).digest('hex') } : undefined,
    crashes: (read(dir, 'crashes.txt') ?? '').split('\n').filter(Boolean),
    firstRunCrashes: (read(dir, 'crashes.txt.first-run') ?? '').split('\n').filter(Boolean),
    timings: Object.fromEntries(
      (read(dir, 'timings') ?? '')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
        .map(([k, v]) => [k, Number(v)]),
    ),
  };
}

/**
 * Node's TAP: `# Subtest: NAME` opens a test, whose `ok`/`not ok` line closes it at the same indentation; a leaf
 * test's result line follows its Subtest line directly. Counts the passed leaves under each top-level name.
 */
export function passedBySuite(tap: string): Map<string, number> {
  const counts = new Map<string, number>();
  const lines = tap.split('\n');
  let top = '';
  for (let i = 0; i < lines.length; i++) {
    const sub = /^( *)# Subtest: (.*)$/.exec(lines[i]!);
    if (!sub) continue;
    if (sub[1] === '') top = sub[2]!;
    const next = lines[i + 1] ?? '';
    if (next.startsWith(`${sub[1]}ok `) && !/# SKIP/.test(next)) counts.set(top, (counts.get(top) ?? 0) + 1);
  }
  return counts;
}

/** The last lines of the guest's output and of its failing tests: what a CI log needs when a kernel fails. */
export function failureContext(r: KernelResult, lines = 40): string {
  const tap = read(r.dir, 'kernel-tests.tap') ?? '';
  const failing = tap
    .split('\n')
    .filter((l) => /^\s*not ok /.test(l) && !/# (TODO|SKIP)/.test(l))
    .slice(0, 20);
  const log = (read(r.dir, 'job.log') ?? read(r.dir, 'console.log') ?? '').trimEnd().split('\n').slice(-lines);
  const crashes = (read(r.dir, 'crashes.txt') ?? '').trim();
  return [
    `${r.name}: exit ${r.exitStatus ?? 'none'}; results in ${r.dir}`,
    ...failing,
    ...(crashes ? ['--- processes the kernel killed ---', crashes] : []),
    '--- last output ---',
    ...log,
  ].join('\n');
}

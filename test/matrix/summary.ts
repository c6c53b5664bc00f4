// Prints the kernel matrix as a table: per kernel, the build loaded, verifier cost per build, test totals, replay, time.
import { readKernelResult } from './results.ts';

const [results, ...kernels] = process.argv.slice(2);
if (!results || kernels.length === 0) {
  console.error('usage: summary.ts RESULTS_DIR KERNEL...');
  process.exit(2);
}
const rows = kernels.map((k) => readKernelResult(results, k));
const host = rows.find((r) => r.name === 'host');
const table: string[][] = [['kernel', 'release', 'daemon loads', 'build: verifier insns, time (load ms)', 'kernel tests', 'replay', 'seconds']];
for (const r of rows) {
  const v = r.verifier;
  const builds = (v?.builds ?? []).map((b) =>
    b.loaded
      ? `${b.object.replace('.bpf.o', '')}: ${b.processedInsns ?? '?'} insns, ${((b.verificationMicros ?? 0) / 1000).toFixed(0)} ms (${b.loadMillis})`
      : `${b.object.replace('.bpf.o', '')}: refused (${b.errno})`,
  );
  const choice = v ? ('object' in v.choice ? v.choice.object : 'none') : '?';
  const t = r.tests;
  const tests = t ? `${t.pass} pass, ${t.fail} fail, ${t.skipped} skip` : 'no result';
  const replay = r.replay
    ? host?.replay && r !== host
      ? r.replay.sha256 === host.replay.sha256
        ? 'same as host'
        : 'DIFFERS'
      : r.replay.sha256.slice(0, 12)
    : 'none';
  table.push([r.name, v?.kernel ?? '?', choice, builds.join('; ') || '?', tests, replay, String(r.seconds ?? '?')]);
}
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table)
  console.log(
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );

// Shared bench plumbing: median of interleaved rounds, a table printer, and the JSON result file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../src/replay/summary-table.ts';

export const RESULTS_DIR = join(import.meta.dirname, 'results');

/** Smoke mode (CI): tiny sizes, same code paths, so the benchmarks never rot. */
export const SMOKE = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface BenchRow {
  name: string;
  measured: number;
  unit: string;
  target?: string;
  met?: boolean;
  context?: string;
}

/** Prints the rows as a table and writes them (with `meta`) to bench/results/NAME.json. */
export function report(name: string, rows: BenchRow[], meta: Record<string, unknown> = {}): void {
  console.log(`\n${name}${SMOKE ? ' (smoke run: figures are not meaningful)' : ''}`);
  console.log(
    formatTable(
      ['measure', 'value', 'unit', 'target', 'met', 'context'],
      rows.map((r) => [
        r.name,
        Number.isInteger(r.measured) ? r.measured : r.measured.toFixed(3),
        r.unit,
        r.target ?? '',
        r.met === undefined ? '' : r.met ? 'yes' : 'NO',
        r.context ?? '',
      ]),
    ),
  );
  if (SMOKE) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${name}.json`),
    `${JSON.stringify({ name, date: new Date().toISOString(), kernel: process.env.BENCH_KERNEL ?? '', ...meta, rows }, null, 2)}\n`,
  );
}

// Regenerates the metrics tables of docs/metrics.md and README.md from plugin.json (`--write`), or checks them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceMetricsBlock } from '../src/metrics/metrics-doc.ts';

const root = join(import.meta.dirname, '..');
const files = [join(root, 'docs', 'metrics.md'), join(root, 'README.md')];
let stale = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const next = replaceMetricsBlock(text);
  if (next === text) continue;
  if (process.argv.includes('--write')) writeFileSync(file, next);
  else {
    console.error(`${file}: metrics table is out of date with plugin.json; run node scripts/gen-metrics-doc.ts --write`);
    stale++;
  }
}
process.exit(stale ? 1 : 0);

// Renders docs/metrics.md, the README's metrics table and the receiver's metadata.yaml metrics and documentation.md from plugin.json: prints it, `--write` writes, `--check` checks.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { METRICS_DOC_BEGIN, renderMetricsDoc, renderReceiverDocumentation, replaceMetricsBlock, replaceReceiverMetadata } from '../src/metrics/metrics-doc.ts';

const USAGE = `usage: node scripts/gen-metrics-doc.ts [--write | --check]

  (no option)  print docs/metrics.md as plugin.json renders it
  --write      write docs/metrics.md and the README's generated metrics table
  --check      exit 1 if either is out of date with plugin.json
`;

function parseOptions(): { write?: boolean; check?: boolean; help?: boolean } {
  try {
    return parseArgs({ options: { write: { type: 'boolean' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
}

const values = parseOptions();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (values.write && values.check) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const root = join(import.meta.dirname, '..');
const docPath = join(root, 'docs', 'metrics.md');
const readmePath = join(root, 'README.md');

/** Each generated file with its current text and what it should be. */
const targets: Array<{ path: string; current: string; expected: string }> = [
  { path: docPath, current: existsSync(docPath) ? readFileSync(docPath, 'utf8') : '', expected: renderMetricsDoc() },
];
const receiverDir = join(root, 'collector', 'xdpdecapreceiver');
const metadataPath = join(receiverDir, 'metadata.yaml');
const receiverDocPath = join(receiverDir, 'documentation.md');
if (existsSync(metadataPath)) {
  const metadata = readFileSync(metadataPath, 'utf8');
  targets.push({ path: metadataPath, current: metadata, expected: replaceReceiverMetadata(metadata) });
  targets.push({ path: receiverDocPath, current: existsSync(receiverDocPath) ? readFileSync(receiverDocPath, 'utf8') : '', expected: renderReceiverDocumentation() });
}
if (existsSync(readmePath)) {
  const readme = readFileSync(readmePath, 'utf8');
  if (readme.includes(METRICS_DOC_BEGIN)) targets.push({ path: readmePath, current: readme, expected: replaceMetricsBlock(readme) });
}

if (values.write) {
  for (const t of targets) {
    if (t.current === t.expected) continue;
    writeFileSync(t.path, t.expected);
    process.stdout.write(`wrote ${relative(root, t.path)}\n`);
  }
} else if (values.check) {
  const stale = targets.filter((t) => t.current !== t.expected);
  for (const t of stale) process.stderr.write(`${relative(root, t.path)} is out of date with plugin.json: run node scripts/gen-metrics-doc.ts --write\n`);
  process.exit(stale.length > 0 ? 1 : 0);
} else {
  process.stdout.write(renderMetricsDoc());
}

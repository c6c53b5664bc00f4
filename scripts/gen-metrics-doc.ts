// Renders docs/metrics.md, the README's metrics table and the receiver's metadata.yaml metrics from plugin.json (mdatagen makes documentation.md from it): prints, `--write` writes, `--check` checks.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_DOC_BEGIN, renderMetricsDoc, replaceMetricsBlock, replaceReceiverMetadata } from '../src/metrics/metrics-doc.ts';
import { type GeneratedFile, runGenerator } from './lib/generated-files.ts';

const root = join(import.meta.dirname, '..');
const receiverDir = join(root, 'collector', 'xdpdecapreceiver');

/** Each generated file with what plugin.json renders for it (the README and metadata.yaml only between their markers). */
function files(): GeneratedFile[] {
  const list: GeneratedFile[] = [{ path: join(root, 'docs', 'metrics.md'), expected: renderMetricsDoc() }];
  const metadataPath = join(receiverDir, 'metadata.yaml');
  if (existsSync(metadataPath)) {
    list.push({ path: metadataPath, expected: replaceReceiverMetadata(readFileSync(metadataPath, 'utf8')) });
  }
  const readmePath = join(root, 'README.md');
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
  if (readme.includes(METRICS_DOC_BEGIN)) list.push({ path: readmePath, expected: replaceMetricsBlock(readme) });
  return list;
}

runGenerator({
  usage: `usage: node scripts/gen-metrics-doc.ts [--write | --check]

  (no option)  print docs/metrics.md as plugin.json renders it
  --write      write docs/metrics.md, the README's generated metrics table, and the receiver's metadata.yaml
               metrics (then collector/xdpdecapreceiver: go generate, for its documentation.md)
  --check      exit 1 if any of them is out of date with plugin.json
`,
  root,
  source: 'plugin.json',
  fix: 'node scripts/gen-metrics-doc.ts --write',
  files,
  print: renderMetricsDoc,
});

// Renders examples/grafana/xdp-decap.json from dashboards/xdp-decap.ts: prints it, `--write` writes, `--check` checks.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DASHBOARD_JSON, renderDashboardJson } from '../dashboards/xdp-decap.ts';

const USAGE = `usage: node scripts/gen-dashboard.ts [--write | --check] [--out FILE]

  (no option)  print the dashboard JSON that dashboards/xdp-decap.ts builds
  --write      write it to ${DASHBOARD_JSON} (npm run gen:dashboard)
  --check      exit 1 if ${DASHBOARD_JSON} is out of date with the source
  --out FILE   the file --write writes and --check checks (default ${DASHBOARD_JSON})
`;

function parseOptions(): { write?: boolean; check?: boolean; out?: string; help?: boolean } {
  try {
    return parseArgs({ options: { write: { type: 'boolean' }, check: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
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
const path = values.out !== undefined ? resolve(values.out) : join(root, DASHBOARD_JSON);
const expected = renderDashboardJson();
const current = existsSync(path) ? readFileSync(path, 'utf8') : '';

if (values.write) {
  if (current !== expected) {
    writeFileSync(path, expected);
    process.stdout.write(`wrote ${relative(root, path)}\n`);
  }
} else if (values.check) {
  if (current !== expected) {
    process.stderr.write(`${relative(root, path)} is out of date with dashboards/xdp-decap.ts: run npm run gen:dashboard\n`);
    process.exit(1);
  }
} else {
  process.stdout.write(expected);
}

// Renders examples/grafana/xdp-decap.json from dashboards/xdp-decap.ts: prints it, `--write` writes, `--check` checks.
import { join, resolve } from 'node:path';
import { DASHBOARD_JSON, renderDashboardJson } from '../dashboards/xdp-decap.ts';
import { runGenerator } from './lib/generated-files.ts';

const root = join(import.meta.dirname, '..');
runGenerator({
  usage: `usage: node scripts/gen-dashboard.ts [--write | --check] [--out FILE]

  (no option)  print the dashboard JSON that dashboards/xdp-decap.ts builds
  --write      write it to ${DASHBOARD_JSON} (npm run gen:dashboard)
  --check      exit 1 if ${DASHBOARD_JSON} is out of date with the source
  --out FILE   the file --write writes and --check checks (default ${DASHBOARD_JSON})
`,
  root,
  source: 'dashboards/xdp-decap.ts',
  fix: 'npm run gen:dashboard',
  takesOut: true,
  files: (out) => [{ path: out !== undefined ? resolve(out) : join(root, DASHBOARD_JSON), expected: renderDashboardJson() }],
  print: renderDashboardJson,
});

// The Grafana dashboard and Prometheus example: generated from its source, valid, described, only real metric names, every query parses; and the Prometheus test harness works.

import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROM_LABEL, PROM_METRIC, prometheusLabelName, prometheusMetricName } from '../../dashboards/prometheus-names.ts';
import { DASHBOARD_JSON, GRAFANA_VERSION, renderDashboardJson } from '../../dashboards/xdp-decap.ts';
import packageJson from '../../package.json' with { type: 'json' };
import manifest from '../../plugin.json' with { type: 'json' };
import { ATTR, METRIC } from '../../src/metrics/names.ts';
import {
  DASHBOARD_PATH,
  dashboardPanels,
  dashboardVariables,
  extractQueries,
  type GrafanaPanel,
  labelValuesToPromQL,
  loadDashboard,
  metricNamesIn,
  substituteVariables,
  variableQueryText,
} from '../lib/dashboard-queries.ts';
import { IN_CI, REPO_ROOT, requireTool, which } from '../lib/env.ts';
import { EXAMPLE_PROMETHEUS_CONFIG, freeLocalPort, Prometheus, prometheusArgv, writeTestPrometheusConfig } from '../lib/prometheus.ts';

const NETFLOW_METRICS = ['netflow_bytes_total', 'netflow_packets_total'];
const dashboard = loadDashboard();
const queries = extractQueries(dashboard);

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-dashboard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the committed dashboard JSON is exactly what dashboards/xdp-decap.ts generates', () => {
  assert.equal(join(REPO_ROOT, DASHBOARD_JSON), DASHBOARD_PATH);
  const committed = readFileSync(DASHBOARD_PATH, 'utf8');
  const generated = renderDashboardJson();
  if (committed !== generated) {
    const a = committed.split('\n');
    const b = generated.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    assert.fail(
      `${DASHBOARD_JSON} differs from what dashboards/xdp-decap.ts generates (first at line ${line + 1}: ${JSON.stringify(a[line])} vs ${JSON.stringify(b[line])}): run npm run gen:dashboard`,
    );
  }
  assert.match(JSON.parse(committed).$comment, /^Generated from dashboards\/xdp-decap\.ts by `npm run gen:dashboard`: do not edit\./);
});

test('scripts/gen-dashboard.ts: --check fails on a stale file and names the fix, --write repairs it', (t) => {
  const dir = scratch(t);
  const file = join(dir, 'xdp-decap.json');
  const script = join(REPO_ROOT, 'scripts', 'gen-dashboard.ts');
  const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args, '--out', file], { encoding: 'utf8' });
  writeFileSync(file, renderDashboardJson().replace('"Bytes per VNI"', '"Bytes per VNI (edited by hand)"'));
  const stale = run('--check');
  assert.equal(stale.status, 1, `${stale.stdout}${stale.stderr}`);
  assert.match(stale.stderr, /is out of date with dashboards\/xdp-decap\.ts: run npm run gen:dashboard/);
  const write = run('--write');
  assert.equal(write.status, 0, write.stderr);
  assert.equal(readFileSync(file, 'utf8'), renderDashboardJson());
  assert.equal(run('--check').status, 0, 'up to date after --write');
  assert.equal(run('--write', '--check').status, 2, 'contradictory options are a usage error');
});

test('the dashboard names its metrics and labels through plugin.json, and says which Grafana it is for', () => {
  assert.deepEqual(PROM_METRIC, {
    tunnelPackets: 'decap_tunnel_packet_count_total',
    tunnelBytes: 'decap_tunnel_io_bytes_total',
    tunnelOverhead: 'decap_tunnel_overhead_bytes_total',
    tunnelFlows: 'decap_tunnel_flow_count_total',
    tunnelFlowsActive: 'decap_tunnel_flow_active',
    skippedPackets: 'decap_skipped_packet_count_total',
    mapUpdatesLost: 'decap_map_update_lost_total',
  });
  assert.deepEqual(Object.keys(PROM_METRIC), Object.keys(METRIC));
  assert.deepEqual(PROM_LABEL, {
    tunnelType: 'decap_tunnel_type',
    tunnelVni: 'decap_tunnel_id',
    interfaceName: 'network_interface_name',
    reason: 'decap_skip_reason',
    map: 'decap_map_name',
    overflow: 'otel_metric_overflow',
  });
  assert.deepEqual(Object.keys(PROM_LABEL), Object.keys(ATTR));
  assert.equal(prometheusLabelName('1st.label-x'), 'key_1st_label_x');
  // Every label the queries group, match or legend by is one of plugin.json's attributes (or NetFlow's transport label).
  const labels = new Set([...Object.values(PROM_LABEL), 'network_transport']);
  for (const q of queries) {
    const used = [...q.raw.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?:=~|!=|!~|=)\s*"/g), ...q.raw.matchAll(/\{\{([a-z_][a-z0-9_]*)\}\}/g)].map((m) => m[1]!);
    for (const by of q.raw.matchAll(/\bby \(([^)]*)\)/g)) used.push(...by[1]!.split(',').map((l) => l.trim()));
    for (const label of used) assert.ok(labels.has(label), `${q.where} uses label ${label}, which is not a plugin.json attribute: ${q.raw}`);
  }
  // The SDK line in package.json generates this Grafana's schema; __requires says so to whoever imports the file.
  const sdk = packageJson.devDependencies['@grafana/grafana-foundation-sdk'];
  assert.ok(
    sdk.startsWith(`~${GRAFANA_VERSION}-cogv`),
    `package.json pins @grafana/grafana-foundation-sdk ${sdk}; dashboards/xdp-decap.ts says Grafana ${GRAFANA_VERSION}`,
  );
  const requires = (JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { __requires: Array<{ id: string; version: string }> }).__requires;
  assert.equal(requires.find((r) => r.id === 'grafana')?.version, GRAFANA_VERSION);
  assert.deepEqual(
    requires.filter((r) => r.id !== 'grafana' && r.id !== 'prometheus').map((r) => r.id),
    [...new Set(dashboardPanels(dashboard).map((p) => p.type))].sort(),
  );
});

test('the panels tile the 24-column grid: inside it, no two overlapping, rows full width', () => {
  const placed: GrafanaPanel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  for (const p of placed) {
    assert.ok(p.gridPos, `panel "${p.title}" has a position`);
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24, `panel "${p.title}" fits the grid: ${JSON.stringify(p.gridPos)}`);
    if (p.type === 'row') assert.deepEqual({ x, w, h }, { x: 0, w: 24, h: 1 }, `row "${p.title}"`);
  }
  for (const [i, a] of placed.entries()) {
    for (const b of placed.slice(i + 1)) {
      const [ga, gb] = [a.gridPos!, b.gridPos!];
      const overlap = ga.x < gb.x + gb.w && gb.x < ga.x + ga.w && ga.y < gb.y + gb.h && gb.y < ga.y + ga.h;
      assert.ok(!overlap, `panels "${a.title}" ${JSON.stringify(ga)} and "${b.title}" ${JSON.stringify(gb)} overlap`);
    }
  }
});

test('the dashboard is tidy JSON for Grafana: schema version, a Prometheus data source variable, interface and VNI variables', () => {
  const text = readFileSync(DASHBOARD_PATH, 'utf8');
  assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, 'formatted with 2-space indent and a final newline');
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
  const vars = new Map(dashboardVariables(dashboard).map((v) => [v.name, v]));
  const ds = vars.get('datasource');
  assert.ok(ds && ds.type === 'datasource' && ds.query === 'prometheus', 'a datasource variable of type prometheus');
  for (const name of ['interface', 'vni']) {
    const v = vars.get(name);
    assert.ok(v, `variable $${name}`);
    assert.equal(v.type, 'query');
    assert.match(variableQueryText(v), /^label_values\(/, `$${name} comes from label_values`);
    assert.ok(v.includeAll && v.multi, `$${name} allows All and several values`);
  }
  for (const p of dashboardPanels(dashboard)) {
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel "${p.title}" uses the data source variable`);
    for (const t of p.targets ?? []) assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel "${p.title}" target ${t.refId}`);
  }
  const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('every panel has a title, a description and at least one target with an expression; rates use $__rate_interval', () => {
  const panels = dashboardPanels(dashboard);
  assert.ok(panels.length >= 8, `${panels.length} panels`);
  assert.ok(
    dashboard.panels.some((p) => p.type === 'row' && (p.panels ?? []).length > 0),
    'a collapsed row keeps panels inside it (the extraction must find them)',
  );
  for (const p of panels) {
    assert.ok(p.title?.trim(), `panel id ${p.id} has a title`);
    assert.ok((p.description ?? '').trim().length >= 40, `panel "${p.title}" has a description`);
    assert.ok((p.targets ?? []).length >= 1, `panel "${p.title}" has a target`);
    for (const t of p.targets ?? []) {
      assert.ok(t.expr?.trim(), `panel "${p.title}" target ${t.refId} has an expression`);
      for (const window of t.expr!.matchAll(/\[([^\]]*)\]/g)) {
        assert.ok(
          ['$__rate_interval', '$__range'].includes(window[1]!),
          `panel "${p.title}": range [${window[1]}] should be [$__rate_interval] (or [$__range] for totals over the range)`,
        );
      }
    }
  }
  const titles = panels.map((p) => p.title ?? '');
  for (const expected of [
    /bytes per vni/i,
    /packets per vni/i,
    /top .*vnis by bytes/i,
    /active flows per vni/i,
    /new flows per vni/i,
    /untouched, by reason/i,
    /map updates lost/i,
    /netflow vs decap: l3 bytes/i,
  ]) {
    assert.ok(
      titles.some((t) => expected.test(t)),
      `a panel matching ${expected}: ${titles.join(' | ')}`,
    );
  }
});

test('OpenTelemetry names become the Prometheus names the collector exports', () => {
  const byName = new Map(manifest.metrics.map((m) => [m.name, prometheusMetricName(m)]));
  assert.deepEqual(Object.fromEntries(byName), {
    'decap.tunnel.packet.count': 'decap_tunnel_packet_count_total',
    'decap.tunnel.io': 'decap_tunnel_io_bytes_total',
    'decap.tunnel.overhead': 'decap_tunnel_overhead_bytes_total',
    'decap.tunnel.flow.count': 'decap_tunnel_flow_count_total',
    'decap.tunnel.flow.active': 'decap_tunnel_flow_active',
    'decap.skipped.packet.count': 'decap_skipped_packet_count_total',
    'decap.map.update.lost': 'decap_map_update_lost_total',
  });
  assert.equal(prometheusMetricName({ name: 'x.duration', unit: 's', kind: 'gauge', monotonic: false }), 'x_duration_seconds');
  assert.equal(prometheusMetricName({ name: 'x.utilization', unit: '1', kind: 'gauge', monotonic: false }), 'x_utilization_ratio');
});

test('every metric a query reads is declared in plugin.json or is a NetFlow sum, and every plugin.json metric is on a panel', () => {
  const declared = manifest.metrics.map((m) => prometheusMetricName(m));
  const allowed = new Set([...declared, ...NETFLOW_METRICS]);
  const onPanels = new Set<string>();
  for (const q of queries) {
    const names = metricNamesIn(q.expr);
    assert.ok(names.length > 0, `${q.where} reads a metric: ${q.expr}`);
    for (const name of names) assert.ok(allowed.has(name), `${q.where} reads ${name}, which is neither in plugin.json nor a NetFlow sum: ${q.expr}`);
    if (q.source === 'panel') for (const n of names) onPanels.add(n);
  }
  for (const name of [...declared, ...NETFLOW_METRICS]) assert.ok(onPanels.has(name), `${name} appears on a panel`);
  // The scan itself: names, not functions, labels, keywords or durations.
  assert.deepEqual(metricNamesIn('sum by (decap_tunnel_id) (rate(a_total{x=~"b_total"}[1m] offset 5m)) / on (y) group_left b and {__name__="c"}'), [
    'a_total',
    'b',
    'c',
  ]);
});

test('the extracted queries have every variable substituted, and unknown variables are named', () => {
  assert.ok(queries.filter((q) => q.source === 'panel').length >= 10);
  assert.deepEqual(
    queries
      .filter((q) => q.source === 'variable')
      .map((q) => q.variable)
      .sort(),
    ['interface', 'vni'],
  );
  for (const q of queries) assert.doesNotMatch(q.expr, /\$|\[\[/, `${q.where} still has a variable: ${q.expr}`);
  const vni = queries.find((q) => q.variable === 'vni')!;
  assert.equal(vni.expr, 'count by (decap_tunnel_id) (decap_tunnel_packet_count_total{network_interface_name=~".+", decap_tunnel_id!=""})');
  assert.equal(labelValuesToPromQL('label_values(up, job)'), 'count by (job) (up{job!=""})');
  assert.equal(labelValuesToPromQL('label_values(up{}, job)'), 'count by (job) (up{job!=""})');
  assert.equal(labelValuesToPromQL('label_values(decap_tunnel_id)'), 'count by (decap_tunnel_id) ({decap_tunnel_id!=""})');

  const expr = 'rate(decap_tunnel_io_bytes_total{network_interface_name=~"$interface", decap_tunnel_id=~"${vni}"}[$__rate_interval])';
  assert.equal(
    substituteVariables(expr, dashboard),
    'rate(decap_tunnel_io_bytes_total{network_interface_name=~".+", decap_tunnel_id=~".*"}[1m])',
    '"All" is the allValue',
  );
  assert.equal(
    substituteVariables(expr, dashboard, { variables: { interface: 'eth0.100', vni: ['100', '200'] }, rateInterval: '30s' }),
    'rate(decap_tunnel_io_bytes_total{network_interface_name=~"eth0\\\\.100", decap_tunnel_id=~"(100|200)"}[30s])',
    'given values are regex-escaped inside the PromQL string, several become an alternation',
  );
  assert.equal(substituteVariables('x[$__range] # $__range_s', dashboard, { range: '6h' }), 'x[6h] # 21600');
  assert.throws(
    () => substituteVariables('rate(x{a=~"$nosuch"}[1m])', dashboard, {}, 'panel "P"'),
    /panel "P": unknown Grafana variable \$nosuch .*known: .*\$interface/s,
  );
  assert.throws(() => substituteVariables('x', dashboard, { variables: { nosuch: 'a' } }), /\$nosuch, which the dashboard does not define/);
  assert.throws(
    () => extractQueries({ ...dashboard, panels: [{ type: 'timeseries', title: 'Bad', id: 99, targets: [{ refId: 'A', expr: 'x{a="$typo"}' }] }] }),
    /panel "Bad" \(id 99\) target A: unknown Grafana variable \$typo/,
  );
});

test('every extracted expression parses (promtool check rules)', (t) => {
  // Debian ships promtool in the prometheus package (scripts/install-deps.sh installs it); in CI a missing tool fails.
  if (!requireTool(t, 'promtool')) return;
  const promtool = which('promtool')!;
  const dir = scratch(t);
  const rules = (exprs: string[]) => ({ groups: [{ name: 'xdp_decap_dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] });
  const check = (exprs: string[]) => {
    const file = join(dir, `rules-${exprs.length}.yml`);
    writeFileSync(file, JSON.stringify(rules(exprs), null, 2)); // JSON is YAML
    return spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
  };
  const r = check(queries.map((q) => q.expr));
  assert.equal(r.status, 0, `promtool check rules:\n${r.stdout}${r.stderr}\n${queries.map((q, i) => `query_${i}: ${q.where}: ${q.expr}`).join('\n')}`);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
  const bad = check(['sum(rate(decap_tunnel_io_bytes_total[1m])']);
  assert.notEqual(bad.status, 0, 'the check catches a parse error');
});

test('the example prometheus.yml and its fast test copy are valid, and differ only in scrape_interval', (t) => {
  const dir = scratch(t);
  const copy = writeTestPrometheusConfig(dir, { scrapeInterval: '1s' });
  const original = readFileSync(EXAMPLE_PROMETHEUS_CONFIG, 'utf8').split('\n');
  const derived = readFileSync(copy, 'utf8').split('\n');
  assert.match(derived[0]!, /^# Test copy of .*prometheus\.yml: scrape_interval 1s/);
  assert.equal(derived.length - 1, original.length);
  const changed = original.flatMap((line, i) => (line === derived[i + 1] ? [] : [`${line} -> ${derived[i + 1]}`]));
  assert.deepEqual(changed, ['  scrape_interval: 15s ->   scrape_interval: 1s']);
  assert.ok(original.some((l) => /honor_labels: true/.test(l)) && original.some((l) => /127\.0\.0\.1:9464/.test(l)));
  if (!requireTool(t, 'promtool')) return;
  const promtool = which('promtool')!;
  for (const file of [EXAMPLE_PROMETHEUS_CONFIG, copy]) {
    const r: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'config', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check config ${file}:\n${r.stdout}${r.stderr}`);
  }
});

test('prometheusArgv puts the command prefix first', () => {
  assert.deepEqual(prometheusArgv({ config: '/c.yml', storageDir: '/d', port: 9091, prefix: ['ip', 'netns', 'exec', 'ns1'] }), [
    'ip',
    'netns',
    'exec',
    'ns1',
    '/usr/bin/prometheus',
    '--config.file=/c.yml',
    '--storage.tsdb.path=/d',
    '--web.listen-address=127.0.0.1:9091',
  ]);
});

test('the Prometheus harness runs a real server with no targets: ready, queries, errors, every dashboard query, stop', async (t) => {
  if (!existsSync('/usr/bin/prometheus')) {
    if (IN_CI) throw new Error('/usr/bin/prometheus is missing in CI: scripts/install-deps.sh must install the prometheus package');
    t.skip('/usr/bin/prometheus not installed (apt-get install prometheus); harness test skipped');
    return;
  }
  const dir = scratch(t);
  const config = join(dir, 'empty.yml');
  writeFileSync(config, '# No targets: only the harness is under test.\nglobal:\n  scrape_interval: 1s\nscrape_configs: []\n');
  const prom = Prometheus.start({ dir, config, port: await freeLocalPort() });
  try {
    await prom.waitReady(60000);
    const one = await prom.query('vector(1)');
    assert.equal(one.length, 1);
    assert.deepEqual(one[0]!.metric, {});
    assert.equal(one[0]!.value![1], '1');
    assert.equal((await prom.waitForSeries('vector(2)', 5000))[0]!.value![1], '2');
    await assert.rejects(prom.query('sum(rate(x[1m])'), (err: Error) => /bad_data/.test(err.message) && err.message.includes('sum(rate(x[1m])'));
    await assert.rejects(prom.waitForSeries('absent_series_xyz', 1500), /no series for absent_series_xyz after 1500 ms .*targets: none/);
    for (const q of queries) {
      const result = await prom.query(q.expr);
      const expected = q.expr.endsWith('or vector(0)') ? ['0'] : [];
      assert.deepEqual(
        result.map((s) => s.value?.[1]),
        expected,
        `${q.where} runs on an empty Prometheus: ${q.expr}`,
      );
    }
  } finally {
    await prom.stop();
  }
  const pid = prom.pid!;
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'no process left behind');
});

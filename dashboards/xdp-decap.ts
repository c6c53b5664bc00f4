// The xdp-decap Grafana dashboard as code (Grafana Foundation SDK builders, Grafana 11.6 schema): `npm run gen:dashboard` writes examples/grafana/xdp-decap.json from it.
import { AnnotationQueryBuilder, type Dashboard, DashboardBuilder, DashboardCursorSync } from '@grafana/grafana-foundation-sdk/dashboard';
import { decapsulatedTrafficRow } from './row-decapsulated-traffic.ts';
import { healthRow } from './row-health.ts';
import { netflowRow } from './row-netflow.ts';
import { tunnelOverheadRow } from './row-tunnel-overhead.ts';
import { datasourceVariable, interfaceVariable, vniVariable } from './variables.ts';

/** Where the generated JSON goes, relative to the repository root. */
export const DASHBOARD_JSON = 'examples/grafana/xdp-decap.json';

/** The Grafana release whose schema the SDK line in package.json (`~11.6.0-cogv…`) generates; the oldest Grafana the JSON is for. */
export const GRAFANA_VERSION = '11.6.0';

/** The dashboard as the SDK builds it (the JSON model of Grafana's schema v1). */
function buildDashboard(): Dashboard {
  const dashboard = new DashboardBuilder('xdp-decap: VXLAN/Geneve decapsulation')
    .uid('xdp-decap')
    .id(null)
    .version(1)
    .description(
      'xdp-decap: per-VNI VXLAN/Geneve decapsulation counters (OTLP via the OpenTelemetry Collector) beside the NetFlow/IPFIX totals of the tap after XDP. Prometheus scrape config: examples/prometheus/prometheus.yml.',
    )
    .tags(['xdp-decap', 'vxlan', 'geneve', 'netflow', 'opentelemetry'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-1h', to: 'now' })
    .timezone('')
    .weekStart('')
    .fiscalYearStartMonth(0)
    .refresh('30s')
    .links([])
    .annotation(
      new AnnotationQueryBuilder()
        .builtIn(1)
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .name('Annotations & Alerts')
        .type('dashboard'),
    )
    .withVariable(datasourceVariable())
    .withVariable(interfaceVariable())
    .withVariable(vniVariable());
  const rowsTopToBottom = [decapsulatedTrafficRow, healthRow, netflowRow, tunnelOverheadRow];
  return rowsTopToBottom.reduce((built, addRow) => addRow(built), dashboard).build();
}

/** The file Grafana imports: the built dashboard with the import metadata Grafana's "Export for sharing externally" adds, 2-space JSON. */
export function renderDashboardJson(): string {
  const dashboard = buildDashboard();
  const panelTypes = [...new Set(flattenPanels(dashboard.panels ?? []).map((p) => p.type))].filter((t) => t !== 'row').sort();
  const file = {
    $comment: `Generated from dashboards/xdp-decap.ts by \`npm run gen:dashboard\`: do not edit. Grafana dashboard for xdp-decap: per-VNI decap counters and the NetFlow comparison, from the Prometheus that scrapes the OpenTelemetry Collector (examples/prometheus/prometheus.yml).`,
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: GRAFANA_VERSION },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...panelTypes.map((id) => ({ type: 'panel', id, name: PANEL_NAMES[id] ?? id, version: '' })),
    ],
    ...dashboard,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

const PANEL_NAMES: Record<string, string> = { bargauge: 'Bar gauge', stat: 'Stat', timeseries: 'Time series' };

interface AnyPanel {
  type: string;
  panels?: AnyPanel[];
}

function flattenPanels(panels: readonly AnyPanel[]): AnyPanel[] {
  return panels.flatMap((p) => [p, ...flattenPanels(p.panels ?? [])]);
}

// The xdp-decap Grafana dashboard as code (Grafana Foundation SDK builders, Grafana 11.6 schema): `npm run gen:dashboard` writes examples/grafana/xdp-decap.json from it.

import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  BarGaugeDisplayMode,
  BarGaugeNamePlacement,
  BarGaugeSizing,
  BarGaugeValueMode,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizOrientation,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  type DataSourceRef,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  QueryVariableBuilder,
  RowBuilder,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  type VariableModel,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { PROM_LABEL as L, PROM_METRIC as M } from './prometheus-names.ts';

/** Where the generated JSON goes, relative to the repository root. */
export const DASHBOARD_JSON = 'examples/grafana/xdp-decap.json';

/** The Grafana release whose schema the SDK line in package.json (`~11.6.0-cogv…`) generates; the oldest Grafana the JSON is for. */
export const GRAFANA_VERSION = '11.6.0';

/** The NetFlow/IPFIX sums the Collector's netflow receiver exports: not xdp-decap's, so not in plugin.json. */
export const NETFLOW = { bytes: 'netflow_bytes_total', packets: 'netflow_packets_total', transportLabel: 'network_transport' } as const;

/** Inner Ethernet header bytes: xdp-decap counts inner frames (L2), NetFlow counts IP bytes (L3). */
const INNER_ETHERNET_HEADER_BYTES = 14;

/** Every panel and query reads the Prometheus picked in the $datasource variable. */
const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

// ---- PromQL, with every metric and label name from plugin.json (through src/metrics/names.ts) ----

const ON_INTERFACES = `${L.interfaceName}=~"$interface"`;
const ON_VNIS = `${L.tunnelVni}=~"$vni"`;
const NOT_OVERFLOW = `${L.overflow}!="true"`;
/** The labels that identify one per-VNI series (plugin.json's cardinality.seriesKey). */
const VNI_SERIES = `${L.interfaceName}, ${L.tunnelType}, ${L.tunnelVni}`;
const VNI_LEGEND = `{{${L.interfaceName}}} {{${L.tunnelType}}} VNI {{${L.tunnelVni}}}`;

const select = (metric: string, ...matchers: string[]): string => (matchers.length > 0 ? `${metric}{${matchers.join(', ')}}` : metric);
const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;
const increase = (selector: string): string => `increase(${selector}[$__range])`;
/** Per-VNI series; the overflow series (no VNI label) is shown as VNI "overflow". */
const perVni = (expr: string): string =>
  `label_replace(sum by (${VNI_SERIES}, ${L.overflow}) (${expr}), "${L.tunnelVni}", "overflow", "${L.overflow}", "true")`;
/** Per-VNI rates of the VNIs that have their own series (the overflow series left out). */
const namedVniRate = (metric: string): string => `sum by (${VNI_SERIES}) (${rate(select(metric, ON_INTERFACES, ON_VNIS, NOT_OVERFLOW))})`;
/** Decapsulated L3 bytes of the selected interfaces (all VNIs: NetFlow has none), over a window function. */
const decapL3Bytes = (over: (selector: string) => string): string =>
  `sum(${over(select(M.tunnelBytes, ON_INTERFACES))}) - ${INNER_ETHERNET_HEADER_BYTES} * sum(${over(select(M.tunnelPackets, ON_INTERFACES))})`;

// ---- Targets and panel defaults shared by the panels ----

function rangeQuery(expr: string, legendFormat: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).editorMode(QueryEditorMode.Code).expr(expr).range().legendFormat(legendFormat).refId(refId);
}

function instantQuery(expr: string, legendFormat: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).editorMode(QueryEditorMode.Code).expr(expr).instant().legendFormat(legendFormat).refId('A');
}

const thresholds = (...steps: Threshold[]): ThresholdsConfigBuilder => new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
const lastNotNull = (): ReduceDataOptionsBuilder => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false);

/** A big number: the last value, in text colour unless `thresholds` says otherwise. */
function bigNumber(graphMode: BigValueGraphMode): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .datasource(PROMETHEUS)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds))
    .thresholds(thresholds({ color: 'text', value: null }))
    .reduceOptions(lastNotNull())
    .colorMode(BigValueColorMode.Value)
    .graphMode(graphMode)
    .justifyMode(BigValueJustifyMode.Auto)
    .orientation(VizOrientation.Auto)
    .textMode(BigValueTextMode.Auto)
    .wideLayout(true)
    .showPercentChange(false);
}

/** Lines with a table legend (mean, max, last) and a shared, sorted tooltip. */
function lines(legendPlacement: LegendPlacement, stacking = StackingMode.None): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .datasource(PROMETHEUS)
    .drawStyle(GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new StackingConfigBuilder().mode(stacking).group('A'))
    .axisLabel('')
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .legend(
      new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(legendPlacement).showLegend(true).calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

/** One series per interface, tunnel type and VNI, the overflow series included. */
const perVniLines = (): timeseries.PanelBuilder => lines(LegendPlacement.Bottom).min(0);

/** Grafana's variable list shows `definition`; the SDK's VariableModel has no such field, so it is added here. */
class LabelValuesVariable implements cog.Builder<VariableModel> {
  readonly #variable: QueryVariableBuilder;
  readonly #query: string;

  /** A Prometheus `label_values(...)` variable: several values or All, refreshed with the time range. */
  constructor(name: string, query: string) {
    this.#query = query;
    this.#variable = new QueryVariableBuilder(name)
      .datasource(PROMETHEUS)
      .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .regex('')
      .multi(true)
      .includeAll(true)
      .current({ selected: true, text: ['All'], value: ['$__all'] })
      .options([])
      .hide(VariableHide.DontHide);
  }

  /** The wrapped builder, for the settings that differ between variables. */
  with(configure: (v: QueryVariableBuilder) => QueryVariableBuilder): this {
    configure(this.#variable);
    return this;
  }

  build(): VariableModel {
    const model: VariableModel & { definition: string } = { ...this.#variable.build(), definition: this.#query };
    return model;
  }
}

// ---- The dashboard ----

/** The dashboard as the SDK builds it (the JSON model of Grafana's schema v1). */
export function buildDashboard(): Dashboard {
  return new DashboardBuilder('xdp-decap: VXLAN/Geneve decapsulation')
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
    .withVariable(
      new DatasourceVariableBuilder('datasource')
        .label('Data source')
        .description('The Prometheus that scrapes the collector (examples/prometheus/prometheus.yml).')
        .type('prometheus')
        .regex('')
        .hide(VariableHide.DontHide)
        .includeAll(false)
        .multi(false),
    )
    .withVariable(
      new LabelValuesVariable('interface', `label_values(${M.tunnelPackets}, ${L.interfaceName})`).with((v) =>
        v
          .label('Interface')
          .description(`Capture interfaces (${L.interfaceName}) that decapsulated traffic.`)
          .sort(VariableSort.AlphabeticalAsc)
          .allValue('.+'),
      ),
    )
    .withVariable(
      new LabelValuesVariable('vni', `label_values(${select(M.tunnelPackets, ON_INTERFACES)}, ${L.tunnelVni})`).with((v) =>
        v
          .label('VNI')
          .description(
            `VXLAN/Geneve VNIs seen on the selected interfaces. "All" also matches the overflow series (no ${L.tunnelVni} label), shown as VNI "overflow".`,
          )
          .sort(VariableSort.NumericalAsc)
          .allValue('.*'),
      ),
    )

    .withRow(new RowBuilder('Decapsulated traffic').id(1))
    .withPanel(
      bigNumber(BigValueGraphMode.Area)
        .id(2)
        .title('Decapsulated throughput')
        .description(
          `Inner frame bytes per second after decapsulation (L2: includes the ${INNER_ETHERNET_HEADER_BYTES}-byte inner Ethernet header), all selected interfaces and VNIs, overflow series included. Source: ${M.tunnelBytes}.`,
        )
        .unit('Bps')
        .height(4)
        .span(6)
        .withTarget(rangeQuery(`sum(${rate(select(M.tunnelBytes, ON_INTERFACES, ON_VNIS))})`, 'bytes/s')),
    )
    .withPanel(
      bigNumber(BigValueGraphMode.Area)
        .id(3)
        .title('Decapsulated packets')
        .description(`Packets per second decapsulated on the selected interfaces and VNIs, overflow series included. Source: ${M.tunnelPackets}.`)
        .unit('pps')
        .height(4)
        .span(6)
        .withTarget(rangeQuery(`sum(${rate(select(M.tunnelPackets, ON_INTERFACES, ON_VNIS))})`, 'packets/s')),
    )
    .withPanel(
      bigNumber(BigValueGraphMode.Area)
        .id(4)
        .title('Active inner flows')
        .description(
          `Inner flows (interface, VNI, 5-tuple) seen within flowIdleTimeoutSeconds, summed over the selected interfaces and VNIs. Source: ${M.tunnelFlowsActive} (a gauge; 0 when trackFlows is false).`,
        )
        .unit('short')
        .height(4)
        .span(6)
        .withTarget(rangeQuery(`sum(${select(M.tunnelFlowsActive, ON_INTERFACES, ON_VNIS)})`, 'active flows')),
    )
    .withPanel(
      bigNumber(BigValueGraphMode.None)
        .id(5)
        .title('VNIs with traffic')
        .description(
          `Distinct (interface, tunnel type, VNI) series whose packet counter moved within the rate window. VNIs summed into an overflow series (beyond metrics.maxVniSeries) are not counted here. Source: ${M.tunnelPackets}.`,
        )
        .unit('short')
        .decimals(0)
        .height(4)
        .span(6)
        .withTarget(rangeQuery(`count(${namedVniRate(M.tunnelPackets)} > 0) or vector(0)`, 'VNIs')),
    )
    .withPanel(
      perVniLines()
        .id(6)
        .title('Bytes per VNI')
        .description(
          `Inner frame bytes per second after decapsulation (what the taps after XDP see: L2, includes the ${INNER_ETHERNET_HEADER_BYTES}-byte inner Ethernet header), per interface, tunnel type and VNI. VNIs beyond metrics.maxVniSeries are summed into one series per interface and tunnel type, shown as VNI "overflow". Source: ${M.tunnelBytes}.`,
        )
        .unit('Bps')
        .height(9)
        .span(12)
        .withTarget(rangeQuery(perVni(rate(select(M.tunnelBytes, ON_INTERFACES, ON_VNIS))), VNI_LEGEND)),
    )
    .withPanel(
      perVniLines()
        .id(7)
        .title('Packets per VNI')
        .description(
          `Packets decapsulated per second, per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Source: ${M.tunnelPackets}.`,
        )
        .unit('pps')
        .height(9)
        .span(12)
        .withTarget(rangeQuery(perVni(rate(select(M.tunnelPackets, ON_INTERFACES, ON_VNIS))), VNI_LEGEND)),
    )
    .withPanel(
      new bargauge.PanelBuilder()
        .id(8)
        .title('Top 10 VNIs by bytes')
        .description(
          `The 10 (interface, tunnel type, VNI) series that carried the most inner frame bytes over the selected time range (increase over $__range, so a VNI that started or stopped inside the range counts only its part). The overflow series (VNIs beyond metrics.maxVniSeries) is left out. Source: ${M.tunnelBytes}.`,
        )
        .datasource(PROMETHEUS)
        .unit('decbytes')
        .min(0)
        .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.ContinuousBlPu))
        .thresholds(thresholds({ color: 'blue', value: null }))
        .displayMode(BarGaugeDisplayMode.Gradient)
        .orientation(VizOrientation.Horizontal)
        .showUnfilled(true)
        .valueMode(BarGaugeValueMode.Color)
        .namePlacement(BarGaugeNamePlacement.Auto)
        .sizing(BarGaugeSizing.Auto)
        .minVizHeight(16)
        .minVizWidth(8)
        .maxVizHeight(300)
        .reduceOptions(lastNotNull())
        .height(9)
        .span(8)
        .withTarget(
          instantQuery(`sort_desc(topk(10, sum by (${VNI_SERIES}) (${increase(select(M.tunnelBytes, ON_INTERFACES, ON_VNIS, NOT_OVERFLOW))})))`, VNI_LEGEND),
        ),
    )
    .withPanel(
      perVniLines()
        .id(9)
        .title('Active flows per VNI')
        .description(
          `Inner flows (interface, VNI, 5-tuple) seen within flowIdleTimeoutSeconds, per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Like a NetFlow exporter's active flow count with an inactive timeout. Source: ${M.tunnelFlowsActive} (gauge).`,
        )
        .unit('short')
        .axisLabel('flows')
        .height(9)
        .span(8)
        .withTarget(rangeQuery(perVni(select(M.tunnelFlowsActive, ON_INTERFACES, ON_VNIS)), VNI_LEGEND)),
    )
    .withPanel(
      perVniLines()
        .id(10)
        .title('New flows per VNI')
        .description(
          `Inner flows per second seen for the first time, or again after the idle timeout (flowIdleTimeoutSeconds), per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Source: ${M.tunnelFlows}.`,
        )
        .unit('short')
        .axisLabel('new flows/s')
        .height(9)
        .span(8)
        .withTarget(rangeQuery(perVni(rate(select(M.tunnelFlows, ON_INTERFACES, ON_VNIS))), VNI_LEGEND)),
    )

    .withRow(new RowBuilder('Health').id(11))
    .withPanel(
      lines(LegendPlacement.Right, StackingMode.Normal)
        .id(12)
        .title('Packets passed untouched, by reason')
        .description(
          `Packets per second xdp-decap did not decapsulate and passed byte for byte (it never drops), per interface and reason: not_tunnel (ordinary traffic, expected), fragment, truncated, malformed, filtered (outside decapPrefixes), excluded (excludePrefixes), unsupported (Geneve OAM, non-Ethernet payload, IPv6 extension headers), adjust_failed. Anything but not_tunnel deserves a look. Not filtered by VNI. Source: ${M.skippedPackets}.`,
        )
        .unit('pps')
        .min(0)
        .height(8)
        .span(16)
        .withTarget(
          rangeQuery(`sum by (${L.interfaceName}, ${L.reason}) (${rate(select(M.skippedPackets, ON_INTERFACES))})`, `{{${L.interfaceName}}} {{${L.reason}}}`),
        ),
    )
    .withPanel(
      bigNumber(BigValueGraphMode.None)
        .id(13)
        .title('Map updates lost')
        .description(
          `Kernel map updates that failed because a map was full, over the selected time range: vni_stats (a new interface, type and VNI was not counted: raise maps.vniCapacity), outcome_stats (a new interface with ifindex >= 512), flows (an insert the LRU refused). Should stay 0; red otherwise. Not filtered by interface or VNI (the counter has neither). Source: ${M.mapUpdatesLost}.`,
        )
        .unit('short')
        .decimals(0)
        .thresholds(thresholds({ color: 'green', value: null }, { color: 'red', value: 1 }))
        .colorMode(BigValueColorMode.Background)
        .height(8)
        .span(8)
        .withTarget(instantQuery(`sum by (${L.map}) (${increase(M.mapUpdatesLost)})`, `{{${L.map}}}`)),
    )

    .withRow(new RowBuilder('NetFlow reconciliation').id(14))
    .withPanel(
      lines(LegendPlacement.Right)
        .id(15)
        .title('NetFlow vs decap: L3 bytes')
        .description(
          `Compares like with like. xdp-decap counts inner FRAME bytes (L2, with the ${INNER_ETHERNET_HEADER_BYTES}-byte inner Ethernet header); NetFlow/IPFIX exporters report IP (L3) bytes. So decap L3 bytes/s = rate(${M.tunnelBytes}) - ${INNER_ETHERNET_HEADER_BYTES} x rate(${M.tunnelPackets}), all VNIs of the selected interfaces ($vni does not apply: NetFlow has no VNI). NetFlow bytes/s = rate(${NETFLOW.bytes}) of the selected exporters. Difference = NetFlow - decap L3: expected >= 0, because the tap after XDP also exports flows for the traffic passed untouched (not_tunnel); a negative difference means the flow exporter missed packets. NetFlow counts arrive when the exporter expires a flow (its active/inactive timeouts), so short windows swing: compare over ranges longer than those timeouts.`,
        )
        .unit('Bps')
        .overrideByName('difference (NetFlow - decap L3)', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])
        .height(9)
        .span(16)
        .withTarget(rangeQuery(decapL3Bytes(rate), 'decap L3 bytes/s', 'A'))
        .withTarget(rangeQuery(`sum(${rate(NETFLOW.bytes)})`, 'NetFlow bytes/s', 'B'))
        .withTarget(rangeQuery(`sum(${rate(NETFLOW.bytes)}) - (${decapL3Bytes(rate)})`, 'difference (NetFlow - decap L3)', 'C')),
    )
    .withPanel(
      bigNumber(BigValueGraphMode.None)
        .id(16)
        .title('NetFlow / decap L3 bytes')
        .description(
          `Ratio of the bytes NetFlow reported to the L3 bytes xdp-decap decapsulated (${M.tunnelBytes} - ${INNER_ETHERNET_HEADER_BYTES} x ${M.tunnelPackets}: frame bytes minus the inner Ethernet header), over the whole selected time range, which smooths out the flow exporter's expiry timeouts. 100% when the tap exports exactly the decapsulated traffic; above 100% by the untouched (not_tunnel) traffic the tap also sees; below 100% when the flow exporter missed packets or has not yet expired its flows. All VNIs of the selected interfaces; NetFlow of the selected exporters.`,
        )
        .unit('percentunit')
        .decimals(1)
        .height(9)
        .span(8)
        .withTarget(instantQuery(`sum(${increase(NETFLOW.bytes)}) / (${decapL3Bytes(increase)})`, 'NetFlow / decap L3')),
    )
    .withPanel(
      lines(LegendPlacement.Right)
        .id(17)
        .title('NetFlow vs decap: packets')
        .description(
          `Packets per second: decapsulated by xdp-decap (all VNIs of the selected interfaces) against the packets NetFlow reported (${NETFLOW.packets}, selected exporters). Packets need no L2/L3 correction. NetFlow also counts the IP traffic passed untouched (not_tunnel), and its counts arrive when flows expire.`,
        )
        .unit('pps')
        .min(0)
        .height(8)
        .span(24)
        .withTarget(rangeQuery(`sum(${rate(select(M.tunnelPackets, ON_INTERFACES))})`, 'decap packets/s', 'A'))
        .withTarget(rangeQuery(`sum(${rate(NETFLOW.packets)})`, 'NetFlow packets/s', 'B'))
        .withTarget(rangeQuery(`sum by (${NETFLOW.transportLabel}) (${rate(NETFLOW.packets)})`, `NetFlow {{${NETFLOW.transportLabel}}} packets/s`, 'C')),
    )

    .withRow(
      new RowBuilder('Tunnel overhead')
        .id(20)
        .collapsed(true)
        .withPanel(
          perVniLines()
            .id(18)
            .title('Outer header bytes removed per VNI')
            .description(
              `Bytes per second of outer headers stripped (outer Ethernet, VLAN tags, IP, UDP, VXLAN/Geneve with options), per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Source: ${M.tunnelOverhead}.`,
            )
            .unit('Bps')
            .height(8)
            .span(12)
            .withTarget(rangeQuery(perVni(rate(select(M.tunnelOverhead, ON_INTERFACES, ON_VNIS))), VNI_LEGEND)),
        )
        .withPanel(
          lines(LegendPlacement.Bottom)
            .id(19)
            .title('Tunnel overhead share per VNI')
            .description(
              `Outer header bytes as a share of the bytes on the wire (overhead / (inner frame bytes + overhead)), per interface, tunnel type and VNI: what decapsulation saves every tap after XDP. Sources: ${M.tunnelOverhead}, ${M.tunnelBytes}.`,
            )
            .unit('percentunit')
            .min(0)
            .height(8)
            .span(12)
            .withTarget(rangeQuery(`${namedVniRate(M.tunnelOverhead)} / (${namedVniRate(M.tunnelBytes)} + ${namedVniRate(M.tunnelOverhead)})`, VNI_LEGEND)),
        ),
    )
    .build();
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

// The plugin's OpenTelemetry instruments: created once, observed in one batch callback that reads the maps once.
import {
  type Attributes,
  type BatchObservableResult,
  type MeterProvider,
  metrics,
  type Observable,
  type ObservableCounter,
  type ObservableGauge,
  ValueType,
} from '@opentelemetry/api';
import { type CounterSnapshot, vniTableOf } from '../decode/counter-snapshot.ts';
import type { ActiveFlowCount } from '../decode/records.ts';
import { ATTR, METRIC, type MetricName, metricDefinition, PLUGIN_VERSION } from './names.ts';
import { type GroupedVniSeries, groupVniSeries, groupVniTable, type VniSeriesKey, VniSeriesSelector } from './vni-series.ts';

/** Everything one collection needs, already summed over CPUs: observed as given, never summed again. */
export interface MetricsInput {
  /** Consumed by the collection: its `vniTable` (as readCounters returns it) is released once observed. */
  counters: CounterSnapshot;
  activeFlows: ActiveFlowCount[];
}

export interface DecapMetricsOptions {
  /** Defaults to the global provider. */
  meterProvider?: MeterProvider;
  /** Called exactly once per collection. */
  read: () => MetricsInput;
  /** At most this many (interface, tunnel type, VNI) series per instrument; the rest go to overflow series. */
  maxVniSeries: number;
  /** Name of the interface behind a row's `ifindex` (the plugin passes a series id per name there: interface-series.ts). */
  interfaceName: (ifindex: number) => string;
}

export interface DecapMetrics {
  unregister(): void;
  /** VNI rows summed into overflow series in the last collection (0 before the first). */
  overflowVnis(): number;
  /** VNIs with series of their own (sticky: never decreases, at most maxVniSeries). */
  individualVnis(): number;
}

type VniField = 'packets' | 'bytes' | 'overheadBytes' | 'flows';

/** The per-VNI counters, in the order their values are grouped. */
const VNI_COUNTER_FIELDS: ReadonlyArray<readonly [MetricName, VniField]> = [
  [METRIC.tunnelPackets, 'packets'],
  [METRIC.tunnelBytes, 'bytes'],
  [METRIC.tunnelOverhead, 'overheadBytes'],
  [METRIC.tunnelFlows, 'flows'],
];

/** `decap.tunnel.id` on an admitted series; `otel.metric.overflow: true` and no VNI on an overflow series. */
function vniAttributes(series: GroupedVniSeries, interfaceName: string): Attributes {
  return series.vni === undefined
    ? { [ATTR.tunnelType]: series.tunnelType, [ATTR.interfaceName]: interfaceName, [ATTR.overflow]: true }
    : { [ATTR.tunnelType]: series.tunnelType, [ATTR.tunnelVni]: series.vni, [ATTR.interfaceName]: interfaceName };
}

/** Identity of a gauge series (its attributes), to report 0 once for series that went away. */
function gaugeSeriesId(series: GroupedVniSeries, interfaceName: string): string {
  return `${interfaceName}\0${series.tunnelType}\0${series.vni ?? 'overflow'}`;
}

export function registerDecapMetrics(options: DecapMetricsOptions): DecapMetrics {
  const { read, interfaceName } = options;
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('xdp-decap', PLUGIN_VERSION);
  const counter = (name: MetricName): ObservableCounter => {
    const { description, unit } = metricDefinition(name);
    return meter.createObservableCounter(name, { description, unit, valueType: ValueType.INT });
  };
  const gauge = (name: MetricName): ObservableGauge => {
    const { description, unit } = metricDefinition(name);
    return meter.createObservableGauge(name, { description, unit, valueType: ValueType.INT });
  };
  const vniCounters = VNI_COUNTER_FIELDS.map(([name]) => counter(name));
  const activeFlows = gauge(METRIC.tunnelFlowsActive);
  const skippedPackets = counter(METRIC.skippedPackets);
  const lostUpdates = counter(METRIC.mapUpdatesLost);
  const selector = new VniSeriesSelector(options.maxVniSeries);
  const isAdmitted = (row: VniSeriesKey) => selector.has(row);
  const isAdmittedKey = (ifindex: number, typeId: number, vni: number) => selector.hasKey(ifindex, typeId, vni);
  let overflowVnis = 0;
  // A cumulative reader repeats a gauge's last value for series no longer observed: observe 0 for them once.
  let lastGaugeSeries = new Map<string, Attributes>();

  const observeAll = (result: BatchObservableResult) => {
    const input = read();
    const names = new Map<number, string>();
    const nameOf = (ifindex: number) => {
      let name = names.get(ifindex);
      if (name === undefined) {
        name = interfaceName(ifindex);
        names.set(ifindex, name);
      }
      return name;
    };

    // The counter rows in columns (as read from the maps: no row objects), fields in VNI_COUNTER_FIELDS order.
    const table = vniTableOf(input.counters);
    selector.update(table);
    const tunnel = groupVniTable(table, isAdmittedKey);
    overflowVnis = tunnel.overflowRows;
    for (const series of tunnel.series) {
      const attributes = vniAttributes(series, nameOf(series.ifindex));
      for (let i = 0; i < vniCounters.length; i++) result.observe(vniCounters[i]!, series.values[i]!, attributes);
    }
    // Consumed (the input is this collection's own read): its 4 MB per 100k VNIs are freed now, not at a full GC.
    table.release();

    const gaugeSeries = new Map<string, Attributes>();
    for (const series of groupVniSeries(input.activeFlows, isAdmitted, [(row) => row.flows]).series) {
      const name = nameOf(series.ifindex);
      const attributes = vniAttributes(series, name);
      gaugeSeries.set(gaugeSeriesId(series, name), attributes);
      result.observe(activeFlows, series.values[0]!, attributes);
    }
    for (const [id, attributes] of lastGaugeSeries) if (!gaugeSeries.has(id)) result.observe(activeFlows, 0, attributes);
    lastGaugeSeries = gaugeSeries;

    // The decapsulated outcome is not a skip: the tunnel counters already count it.
    for (const outcome of input.counters.outcomes) {
      if (outcome.outcome === 'decapsulated') continue;
      result.observe(skippedPackets, outcome.packets, { [ATTR.reason]: outcome.outcome, [ATTR.interfaceName]: nameOf(outcome.ifindex) });
    }
    for (const [map, lost] of Object.entries(input.counters.lost)) result.observe(lostUpdates, lost, { [ATTR.map]: map });
  };

  const observables: Observable[] = [...vniCounters, activeFlows, skippedPackets, lostUpdates];
  meter.addBatchObservableCallback(observeAll, observables);
  return {
    unregister: () => meter.removeBatchObservableCallback(observeAll, observables),
    overflowVnis: () => overflowVnis,
    individualVnis: () => selector.size,
  };
}

// The plugin's OpenTelemetry instruments: created once, observed in one batch callback that reads the maps once.
import { metrics, ValueType, type Attributes, type BatchObservableResult, type MeterProvider, type Observable } from '@opentelemetry/api';
import type { ActiveFlowCount, CounterSnapshot, VniCounters } from '../decode/records.ts';
import { ATTR, METRIC, metricDefinition, PLUGIN_VERSION } from './names.ts';
import { VniSeriesSelector, type VniSeriesKey } from './vni-series.ts';

/** Everything one collection needs, already summed over CPUs. */
export interface MetricsInput {
  counters: CounterSnapshot;
  activeFlows: ActiveFlowCount[];
}

export interface DecapMetricsOptions {
  /** Defaults to the global provider. */
  meterProvider?: MeterProvider;
  /** Called exactly once per collection. */
  read: () => MetricsInput;
  maxVniSeries: number;
  interfaceName: (ifindex: number) => string;
}

export interface DecapMetrics {
  unregister(): void;
  /** VNIs currently summed into overflow series (from the last collection). */
  overflowVnis(): number;
}

type VniField = 'packets' | 'bytes' | 'overheadBytes' | 'flows';

const VNI_COUNTERS: ReadonlyArray<[string, VniField]> = [
  [METRIC.tunnelPackets, 'packets'],
  [METRIC.tunnelBytes, 'bytes'],
  [METRIC.tunnelOverhead, 'overheadBytes'],
  [METRIC.tunnelFlows, 'flows'],
];

/**
 * Groups rows into admitted series and per-(interface, type) overflow series; returns attributes and the
 * summed `fields`. Overflow rows allocate nothing: with 100k VNIs almost all of them are overflow.
 */
function toSeries<T extends VniSeriesKey>(
  rows: readonly T[],
  selector: VniSeriesSelector,
  interfaceName: (ifindex: number) => string,
  fields: ReadonlyArray<(row: T) => number>,
): { series: Array<{ attributes: Attributes; values: number[] }>; overflowCount: number } {
  const series: Array<{ attributes: Attributes; values: number[] }> = [];
  const overflow = new Map<string, { attributes: Attributes; values: number[] }>();
  let overflowCount = 0;
  for (const row of rows) {
    if (selector.has(row)) {
      const attributes = { [ATTR.tunnelType]: row.tunnelType, [ATTR.tunnelVni]: row.vni, [ATTR.interfaceName]: interfaceName(row.ifindex) };
      series.push({ attributes, values: fields.map((f) => f(row)) });
      continue;
    }
    overflowCount++;
    const key = `${row.ifindex}/${row.tunnelType}`;
    let agg = overflow.get(key);
    if (!agg) {
      agg = { attributes: { [ATTR.tunnelType]: row.tunnelType, [ATTR.interfaceName]: interfaceName(row.ifindex), [ATTR.overflow]: true }, values: fields.map(() => 0) };
      overflow.set(key, agg);
    }
    for (let i = 0; i < fields.length; i++) agg.values[i]! += fields[i]!(row);
  }
  return { series: [...series, ...overflow.values()], overflowCount };
}

export function registerDecapMetrics(options: DecapMetricsOptions): DecapMetrics {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('xdp-decap', PLUGIN_VERSION);
  const counter = (name: string) => {
    const d = metricDefinition(name);
    return meter.createObservableCounter(name, { description: d.description, unit: d.unit, valueType: ValueType.INT });
  };
  const vniCounters = VNI_COUNTERS.map(([name, field]) => ({ instrument: counter(name), field, read: (r: VniCounters) => r[field] }));
  const activeDef = metricDefinition(METRIC.tunnelFlowsActive);
  const active = meter.createObservableGauge(METRIC.tunnelFlowsActive, { description: activeDef.description, unit: activeDef.unit, valueType: ValueType.INT });
  const skipped = counter(METRIC.skippedPackets);
  const lost = counter(METRIC.mapUpdatesLost);
  const selector = new VniSeriesSelector(options.maxVniSeries);
  let overflowVnis = 0;

  const callback = (result: BatchObservableResult) => {
    const { counters, activeFlows } = options.read();
    selector.update(counters.vnis);
    const vni = toSeries(counters.vnis, selector, options.interfaceName, vniCounters.map((c) => c.read));
    for (const s of vni.series) vniCounters.forEach((c, i) => result.observe(c.instrument, s.values[i] ?? 0, s.attributes));
    overflowVnis = vni.overflowCount;
    for (const s of toSeries(activeFlows, selector, options.interfaceName, [(r) => r.flows]).series) {
      result.observe(active, s.values[0] ?? 0, s.attributes);
    }
    // Per (interface, reason); the decapsulated outcome is what the tunnel counters already say.
    for (const o of counters.outcomes) {
      if (o.outcome === 'decapsulated') continue;
      result.observe(skipped, o.packets, { [ATTR.reason]: o.outcome, [ATTR.interfaceName]: options.interfaceName(o.ifindex) });
    }
    for (const [map, n] of Object.entries(counters.lost)) result.observe(lost, n, { [ATTR.map]: map });
  };
  const observables: Observable[] = [...vniCounters.map((c) => c.instrument), active, skipped, lost];
  meter.addBatchObservableCallback(callback, observables);
  return {
    unregister: () => meter.removeBatchObservableCallback(callback, observables),
    overflowVnis: () => overflowVnis,
  };
}

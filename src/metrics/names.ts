// Metric and attribute names, units and descriptions, read from plugin.json: the one place they are declared.
import manifest from '../../plugin.json' with { type: 'json' };

export interface MetricDefinition {
  name: string;
  description: string;
  unit: string;
  instrument: 'observableCounter' | 'observableGauge';
  kind: 'sum' | 'gauge';
  monotonic: boolean;
  temporality: 'cumulative';
  valueType: 'int';
  attributes: string[];
}

export const METRIC_DEFINITIONS = manifest.metrics as MetricDefinition[];

/** Names used in code, as constants; test/unit/plugin-manifest.test.ts checks each is declared in plugin.json. */
export const METRIC = {
  tunnelPackets: 'decap.tunnel.packets',
  tunnelBytes: 'decap.tunnel.bytes',
  tunnelOverhead: 'decap.tunnel.overhead',
  tunnelFlows: 'decap.tunnel.flows',
  tunnelFlowsActive: 'decap.tunnel.flows.active',
  skippedPackets: 'decap.skipped.packets',
  mapUpdatesLost: 'decap.map.updates.lost',
} as const;

export const ATTR = {
  tunnelType: 'tunnel.type',
  tunnelVni: 'tunnel.vni',
  interfaceName: 'network.interface.name',
  reason: 'decap.reason',
  map: 'decap.map',
  overflow: 'otel.metric.overflow',
} as const;

/** The plugin.json entry for `name`; a code name missing there is a bug caught at start-up. */
export function metricDefinition(name: string): MetricDefinition {
  const def = METRIC_DEFINITIONS.find((m) => m.name === name);
  if (!def) throw new Error(`metric ${name} is not declared in plugin.json`);
  return def;
}

export const PLUGIN_VERSION: string = manifest.version;

// Metric and attribute names, units and descriptions, read from plugin.json: the one place they are declared.
import manifest from '../../plugin.json' with { type: 'json' };

/** One entry of plugin.json's `metrics` (the Collector's metadata.yaml, in JSON). */
export interface MetricDefinition {
  name: string;
  description: string;
  /** UCUM. */
  unit: string;
  /** Always observable: `counter` is an ObservableCounter, `gauge` an ObservableGauge. */
  instrument: 'counter' | 'gauge';
  kind: 'sum' | 'gauge';
  monotonic: boolean;
  temporality: 'cumulative';
  valueType: 'int';
  attributes: string[];
}

/** One entry of plugin.json's `attributes`. */
export interface AttributeDefinition {
  name: string;
  type: 'string' | 'int' | 'boolean';
  description: string;
  enum?: string[];
}

export const METRIC_DEFINITIONS: readonly MetricDefinition[] = manifest.metrics as MetricDefinition[];
export const ATTRIBUTE_DEFINITIONS: readonly AttributeDefinition[] = manifest.attributes as AttributeDefinition[];

/** Names used in code, as constants; test/unit/plugin-manifest.test.ts checks they are exactly plugin.json's. */
export const METRIC = {
  tunnelPackets: 'decap.tunnel.packet.count',
  tunnelBytes: 'decap.tunnel.io',
  tunnelOverhead: 'decap.tunnel.overhead',
  tunnelFlows: 'decap.tunnel.flow.count',
  tunnelFlowsActive: 'decap.tunnel.flow.active',
  skippedPackets: 'decap.skipped.packet.count',
  mapUpdatesLost: 'decap.map.update.lost',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const ATTR = {
  tunnelType: 'decap.tunnel.type',
  tunnelVni: 'decap.tunnel.id',
  interfaceName: 'network.interface.name',
  reason: 'decap.skip.reason',
  map: 'decap.map.name',
  overflow: 'otel.metric.overflow',
} as const;
export type AttributeName = (typeof ATTR)[keyof typeof ATTR];

/** The plugin.json entry for `name`; a code name missing there is a bug, thrown when the instruments are created. */
export function metricDefinition(name: MetricName): MetricDefinition {
  const definition = METRIC_DEFINITIONS.find((m) => m.name === name);
  if (!definition) throw new Error(`metric ${name} is not declared in plugin.json`);
  return definition;
}

/** plugin.json's version; a test keeps it equal to package.json's. */
export const PLUGIN_VERSION: string = manifest.version;

// What the Collector's Prometheus exporter makes of plugin.json's metric and attribute names: the names the dashboard queries.
import { ATTR, type AttributeName, METRIC, type MetricName, metricDefinition } from '../src/metrics/names.ts';

/** The parts of a plugin.json metric that decide its Prometheus name. */
export interface OtelMetricDescriptor {
  name: string;
  unit: string;
  kind: string;
  monotonic: boolean;
}

const UNIT_WORDS: Record<string, string> = {
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  min: 'minutes',
  h: 'hours',
  bit: 'bits',
  Hz: 'hertz',
  '%': 'percent',
};

/**
 * The Prometheus name the collector's Prometheus exporter gives an OpenTelemetry metric (name normalization
 * with suffixes, as in the contrib prometheus translator): characters outside [a-zA-Z0-9_:] become '_'; the
 * unit's word is appended unless the name already has it as a token (decap.tunnel.io + By becomes
 * decap_tunnel_io_bytes, a hypothetical decap.tunnel.bytes + By stays decap_tunnel_bytes); annotations like
 * {packet} add nothing; a gauge with unit 1 gets _ratio; a monotonic sum gets _total.
 */
export function prometheusMetricName(m: OtelMetricDescriptor): string {
  const tokens = m.name.split(/[^a-zA-Z0-9]+/).filter(Boolean);
  const unit = m.unit.replace(/\{[^}]*\}/g, '').trim();
  if (unit !== '' && unit !== '1') {
    const [main, per] = unit.split('/');
    const word = (u: string): string => {
      const w = UNIT_WORDS[u];
      if (w === undefined) throw new Error(`prometheusMetricName: unit "${u}" of ${m.name} is not in the table; add it`);
      return w;
    };
    if (main) {
      const w = word(main);
      if (!tokens.includes(w)) tokens.push(w);
    }
    if (per) {
      const perWord = { s: 'second', m: 'minute', h: 'hour', d: 'day' }[per] ?? word(per);
      if (!tokens.includes(perWord)) tokens.push('per', perWord);
    }
  }
  if (unit === '1' && m.kind === 'gauge' && !tokens.includes('ratio')) tokens.push('ratio');
  if (m.kind === 'sum' && m.monotonic) {
    const i = tokens.indexOf('total');
    if (i >= 0) tokens.splice(i, 1);
    tokens.push('total');
  }
  const name = tokens.join('_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The Prometheus label an OpenTelemetry attribute becomes: every character outside [a-zA-Z0-9_] is '_' (network.interface.name → network_interface_name). */
export function prometheusLabelName(attribute: string): string {
  const label = attribute.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(label) ? `key_${label}` : label;
}

/** The Prometheus name of one of plugin.json's metrics, by its code name (METRIC.tunnelBytes → decap_tunnel_io_bytes_total). */
function promMetric(name: MetricName): string {
  return prometheusMetricName(metricDefinition(name));
}

/** The Prometheus label of one of plugin.json's attributes, by its code name (ATTR.tunnelVni → decap_tunnel_id). */
function promLabel(name: AttributeName): string {
  return prometheusLabelName(name);
}

/** Every plugin.json metric's Prometheus name, keyed like METRIC. */
export const PROM_METRIC = Object.fromEntries(Object.entries(METRIC).map(([key, name]) => [key, promMetric(name)])) as {
  readonly [K in keyof typeof METRIC]: string;
};

/** Every plugin.json attribute's Prometheus label, keyed like ATTR. */
export const PROM_LABEL = Object.fromEntries(Object.entries(ATTR).map(([key, name]) => [key, promLabel(name)])) as {
  readonly [K in keyof typeof ATTR]: string;
};

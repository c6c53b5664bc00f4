// Resolves the metrics settings from the config file, the standard OTEL_* environment variables, and defaults.
//
// Precedence, per setting: a value written in the config file wins; else the OpenTelemetry environment
// variable (signal-specific OTEL_EXPORTER_OTLP_METRICS_* before the generic OTEL_EXPORTER_OTLP_*); else the
// default. Resource attributes merge: OTEL_RESOURCE_ATTRIBUTES first, the file's on top.
import type { DecapConfig } from './schema.ts';
import { ConfigError } from './load.ts';
import type { MeterPipelineSettings } from '../metrics/meter-pipeline.ts';

/** What the meter pipeline needs, plus the cardinality limit the metrics need. */
export interface ResolvedMetricsSettings extends MeterPipelineSettings {
  maxVniSeries: number;
}

export const DEFAULT_OTLP_METRICS_ENDPOINT = 'http://localhost:4318/v1/metrics';

/** `k=v,k2=v2` with URL-encoded values (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES). */
function parseKeyValueList(variable: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(variable, [`"${part.trim()}" is not key=value (expected e.g. ${variable}=key1=value1,key2=value2)`]);
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(variable, [`"${part.trim()}" has a malformed %-escape`]);
    }
  }
  return out;
}

function endpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const specific = env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'];
  const generic = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const [variable, url] = specific ? ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', specific] : generic ? ['OTEL_EXPORTER_OTLP_ENDPOINT', generic] : [];
  if (!variable || !url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(variable, [`"${url}" is not a URL (expected e.g. http://collector:4318)`]);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(variable, [`"${url}": expected http or https`]);
  // The signal-specific variable is used as-is; the generic one is a base to which /v1/metrics is appended.
  return specific ? url : `${url.replace(/\/+$/, '')}/v1/metrics`;
}

function encodingFromEnv(env: NodeJS.ProcessEnv): 'json' | 'protobuf' | undefined {
  for (const variable of ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = env[variable];
    if (!value) continue;
    if (value === 'http/json') return 'json';
    if (value === 'http/protobuf') return 'protobuf';
    throw new ConfigError(variable, [`"${value}" is not supported; xdp-decap speaks OTLP over HTTP: http/protobuf or http/json`]);
  }
  return undefined;
}

function intervalFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const value = env['OTEL_METRIC_EXPORT_INTERVAL'];
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 1000) throw new ConfigError('OTEL_METRIC_EXPORT_INTERVAL', [`"${value}": expected milliseconds, at least 1000`]);
  return ms;
}

export function resolveMetricsSettings(config: DecapConfig, env: NodeJS.ProcessEnv = process.env): ResolvedMetricsSettings {
  const m = config.metrics;
  const resourceAttributes = { ...parseKeyValueList('OTEL_RESOURCE_ATTRIBUTES', env['OTEL_RESOURCE_ATTRIBUTES'] ?? ''), ...m.resourceAttributes };
  const envHeaders = {
    ...parseKeyValueList('OTEL_EXPORTER_OTLP_HEADERS', env['OTEL_EXPORTER_OTLP_HEADERS'] ?? ''),
    ...parseKeyValueList('OTEL_EXPORTER_OTLP_METRICS_HEADERS', env['OTEL_EXPORTER_OTLP_METRICS_HEADERS'] ?? ''),
  };
  const fileInterval = m.exportIntervalSeconds !== undefined ? m.exportIntervalSeconds * 1000 : undefined;
  return {
    endpoint: m.endpoint ?? endpointFromEnv(env) ?? DEFAULT_OTLP_METRICS_ENDPOINT,
    headers: { ...envHeaders, ...m.headers },
    exportIntervalMillis: fileInterval ?? intervalFromEnv(env) ?? 60000,
    encoding: m.encoding ?? encodingFromEnv(env) ?? 'protobuf',
    resourceAttributes,
    // OTEL_SERVICE_NAME wins over a service.name inside OTEL_RESOURCE_ATTRIBUTES, as the spec says.
    serviceName: m.serviceName ?? (env['OTEL_SERVICE_NAME'] || String(resourceAttributes['service.name'] ?? 'xdp-decap')),
    maxVniSeries: m.maxVniSeries,
  };
}

// Resolves the metrics settings from the config file, the standard OTEL_* environment variables, and defaults.
//
// Precedence, per setting: a value written in the config file wins; else the OpenTelemetry environment
// variable (signal-specific OTEL_EXPORTER_OTLP_METRICS_* before the generic OTEL_EXPORTER_OTLP_*); else the
// default. The OpenTelemetry SDK does the reading where it covers the case: the OTLP exporter's own
// configuration code resolves the endpoint and merges OTEL_EXPORTER_OTLP_(METRICS_)HEADERS under the file's
// headers, and the resource env detector reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME. What the SDK
// would silently drop or replace (a malformed URL or header entry) is refused here with one line that never
// shows a header's value. The exporters do not choose the protocol or the interval (sdk-node does): those two
// are read here.
import { getStringFromEnv } from '@opentelemetry/core';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { envDetector } from '@opentelemetry/resources';
import { ConfigError } from '../config/config-error.ts';
import { type DecapConfig, TIMER_MAX_SECONDS } from '../config/schema.ts';
import { type MeterPipelineSettings, redactUrl } from './meter-pipeline.ts';

/** What the meter pipeline needs, plus the cardinality limit the metrics need. */
export interface ResolvedMetricsSettings extends MeterPipelineSettings {
  maxVniSeries: number;
}

/**
 * Refuses a `k=v,k2=v2` variable with an entry that is not key=value, naming the entry by position only: a
 * header entry such as `Authorization: Bearer ...` (a colon for the `=`) is a secret, and is never echoed.
 */
function checkKeyValueList(variable: string): void {
  const text = getStringFromEnv(variable);
  if (!text) return;
  text.split(',').forEach((part, i) => {
    if (!part.trim()) return;
    const eq = part.indexOf('=');
    const problem = eq <= 0 ? 'is not key=value' : /%(?![0-9a-fA-F]{2})/.test(part) ? 'has a malformed %-escape' : undefined;
    if (problem) {
      throw new ConfigError(variable, [`entry ${i + 1} ${problem} (value not shown; expected ${variable}=key1=value1,key2=value2)`]);
    }
  });
}

/** The endpoint variable in force must be an http(s) URL: the SDK would fall back to localhost with a warning. */
function checkEndpointVariables(): void {
  for (const variable of ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const url = getStringFromEnv(variable);
    if (url === undefined) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(variable, [`"${redactUrl(url)}" is not a URL (expected e.g. http://collector:4318)`]);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(variable, [`"${redactUrl(url)}": expected http or https`]);
    return; // the signal-specific one, when set, is the one in force
  }
}

function encodingFromEnv(): 'json' | 'protobuf' | undefined {
  for (const variable of ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const value = getStringFromEnv(variable);
    if (!value) continue;
    if (value === 'http/json') return 'json';
    if (value === 'http/protobuf') return 'protobuf';
    throw new ConfigError(variable, [`"${value}" is not supported; xdp-decap speaks OTLP over HTTP: http/protobuf or http/json`]);
  }
  return undefined;
}

function intervalFromEnv(): number | undefined {
  const value = getStringFromEnv('OTEL_METRIC_EXPORT_INTERVAL');
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 1000 || ms > TIMER_MAX_SECONDS * 1000) {
    throw new ConfigError('OTEL_METRIC_EXPORT_INTERVAL', [
      `"${value}": expected milliseconds from 1000 to ${TIMER_MAX_SECONDS * 1000} (at most: the longest a timer can wait, 24.8 days)`,
    ]);
  }
  return ms;
}

/** The settings, from the config file and this process's OTEL_* variables (read the way the SDK reads them). */
export function resolveMetricsSettings(config: DecapConfig): ResolvedMetricsSettings {
  const m = config.metrics;
  checkEndpointVariables();
  checkKeyValueList('OTEL_EXPORTER_OTLP_HEADERS');
  checkKeyValueList('OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  checkKeyValueList('OTEL_RESOURCE_ATTRIBUTES');
  // The exporter's own resolution: file URL, else OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else
  // OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics, else localhost. Headers from the variables are merged by the
  // exporter itself, under the file's.
  const endpoint = convertLegacyHttpOptions({ url: m.endpoint }, 'METRICS', 'v1/metrics', {}).url;
  const fromEnv = envDetector.detect().attributes ?? {};
  const envAttributes = Object.fromEntries(
    Object.entries(fromEnv).filter((e): e is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof e[1])),
  );
  const fileInterval = m.exportIntervalSeconds !== undefined ? m.exportIntervalSeconds * 1000 : undefined;
  return {
    endpoint,
    headers: { ...m.headers },
    exportIntervalMillis: fileInterval ?? intervalFromEnv() ?? 60000,
    encoding: m.encoding ?? encodingFromEnv() ?? 'protobuf',
    resourceAttributes: { ...envAttributes, ...m.resourceAttributes },
    // The detector already put OTEL_SERVICE_NAME over a service.name inside OTEL_RESOURCE_ATTRIBUTES, as the spec says.
    serviceName: m.serviceName ?? String(envAttributes['service.name'] ?? 'xdp-decap'),
    maxVniSeries: m.maxVniSeries,
  };
}

// The OTLP/HTTP export pipeline: resource, meter provider, periodic reader, exporter (JSON or protobuf).
import { hostname } from 'node:os';
import type { MeterProvider as ApiMeterProvider, DiagLogFunction, DiagLogger } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference, OTLPMetricExporter as OtlpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { PLUGIN_VERSION } from './names.ts';
import { metricsFdFromEnv, PipeMetricExporter } from './pipe-exporter.ts';

/** What the pipeline needs; src/metrics/otel-settings.ts resolves it from the config file and OTEL_* variables. */
export interface MeterPipelineSettings {
  /** Full OTLP/HTTP metrics URL, e.g. http://collector:4318/v1/metrics. */
  endpoint: string;
  headers: Record<string, string>;
  exportIntervalMillis: number;
  encoding: 'json' | 'protobuf';
  resourceAttributes: Record<string, string | number | boolean>;
  serviceName: string;
  /** Defaults to the package version. */
  serviceVersion?: string;
  maxVniSeries: number;
}

export interface MeterPipeline {
  meterProvider: ApiMeterProvider;
  /** Collects and exports now; never rejects (a failed export is logged). */
  forceFlush(): Promise<void>;
  /** Exports one last time and stops; never rejects. */
  shutdown(): Promise<void>;
}

/**
 * Series per instrument the SDK keeps before it folds the rest into its own overflow series. The SDK
 * remembers every attribute set an observable instrument ever reported, so the limit leaves room for our
 * maxVniSeries series reported twice over (an interface that changes name re-reports its VNIs) plus the
 * overflow and skip-reason series of up to a thousand interfaces.
 */
export function sdkCardinalityLimit(maxVniSeries: number): number {
  return 2 * maxVniSeries + 4096;
}

/**
 * A URL fit for a log line: `user:password@` becomes `***@`, and the value of every query parameter
 * (`?api_key=...`, `token`, `signature`...) becomes `***`. Anything that does not parse is shown as `<unparsable URL>`.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparsable URL>';
  }
  if (parsed.username || parsed.password) {
    parsed.username = '***';
    parsed.password = '';
  }
  // Rebuilt by hand so the stars are not percent-encoded.
  const query = [...parsed.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  parsed.search = '';
  parsed.hash = '';
  return `${parsed.toString()}${query ? `?${query}` : ''}`;
}

/** Below the interval so one slow export cannot overlap the next; at most 10 s. */
export function exportTimeoutMillis(exportIntervalMillis: number): number {
  return Math.max(1, Math.min(10_000, Math.floor(exportIntervalMillis * 0.8)));
}

/**
 * The OTLP request's own timeout: shorter than the reader's (exportTimeoutMillis), so a request to an endpoint that
 * never answers fails in the exporter, which reports it once, before the reader's timer would report it again.
 */
function requestTimeoutMillis(exportTimeout: number): number {
  return Math.max(1, exportTimeout - Math.min(1000, Math.floor(exportTimeout / 10)));
}

/**
 * The most a shutdown waits for its last export, whatever the endpoint does (one that never answers included):
 * detach, then at most this, well inside the systemd unit's TimeoutStopSec (20 s).
 */
export const SHUTDOWN_EXPORT_BUDGET_MS = 5000;

/** The resource every export carries: service.name wins over resourceAttributes, which win over the defaults. */
export function pipelineResourceAttributes(settings: MeterPipelineSettings): Record<string, string | number | boolean> {
  return {
    'service.version': settings.serviceVersion ?? PLUGIN_VERSION,
    'host.name': hostname(),
    ...settings.resourceAttributes,
    'service.name': settings.serviceName,
  };
}

/** One line of text from a diag message and its arguments (the SDK hands over JSON-stringified errors). */
function diagLine(message: string, args: unknown[]): string {
  const describe = (value: unknown): string => {
    if (value instanceof Error) return value.message;
    if (typeof value === 'string' && value.startsWith('{')) {
      try {
        const parsed = JSON.parse(value) as { message?: unknown };
        if (typeof parsed.message === 'string') return parsed.message;
      } catch {
        // not JSON after all: print it as it is
      }
    }
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  };
  return [message, ...args]
    .map(describe)
    .join(' ')
    .replace(/\s*\n\s*/g, ' ');
}

/**
 * A DiagLogger for the SDK's own messages (periodic export failures among them), one line each: errors and
 * warnings through `warn`, the rest through `debug`. Only an application installs it (`diag.setLogger`, as
 * `xdp-decap run` does); a library never sets the process-wide diag logger.
 */
export function diagLogger(warn: (line: string) => void, debug: (line: string) => void = () => undefined): DiagLogger {
  const print =
    (to: (line: string) => void, prefix: string): DiagLogFunction =>
    (message, ...args) =>
      to(`${prefix}: ${diagLine(message, args)}`);
  return {
    error: print(warn, 'metrics export'),
    warn: print(warn, 'metrics'),
    info: print(debug, 'metrics'),
    debug: print(debug, 'metrics'),
    verbose: print(debug, 'metrics'),
  };
}

/**
 * Builds the pipeline. Nothing here throws because of the collector: a flush or the last export at shutdown
 * that fails is one line through `warn`; periodic export failures reach the SDK's diag logger (see
 * `diagLogger`). The data plane does not depend on the collector.
 */
export function createMeterPipeline(
  settings: MeterPipelineSettings,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  env: NodeJS.ProcessEnv = process.env,
): MeterPipeline {
  const timeoutMillis = exportTimeoutMillis(settings.exportIntervalMillis);
  const exporterOptions = {
    url: settings.endpoint,
    headers: settings.headers,
    timeoutMillis: requestTimeoutMillis(timeoutMillis),
    temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
  };
  // Under the Collector receiver the metrics go to its private pipe instead (src/metrics/pipe-exporter.ts).
  const pipeFd = metricsFdFromEnv(env);
  const otlp = settings.encoding === 'json' ? new OtlpJsonMetricExporter(exporterOptions) : new OtlpProtobufMetricExporter(exporterOptions);
  // A failed export is reported here, once, through `warn`, and handed to the reader as handled: the reader
  // would only pass it on to the process-wide error handler (a second report), it neither retries nor keeps it.
  const exporter: PushMetricExporter =
    pipeFd !== undefined
      ? new PipeMetricExporter(pipeFd)
      : {
          export(metrics, done) {
            otlp.export(metrics, (result: ExportResult) => {
              if (result.code === ExportResultCode.SUCCESS) return done(result);
              warn(`metrics export: export to ${redactUrl(settings.endpoint)} failed: ${diagLine('', [result.error ?? 'unknown error']).trim()}`);
              done({ code: ExportResultCode.SUCCESS });
            });
          },
          forceFlush: () => otlp.forceFlush(),
          shutdown: () => otlp.shutdown(),
          selectAggregationTemporality: (type) => otlp.selectAggregationTemporality(type),
          selectAggregation: (type) => otlp.selectAggregation(type),
        };
  // PeriodicExportingMetricReader takes its cardinalitySelector as `cardinalityLimits` (one limit per instrument type).
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: settings.exportIntervalMillis,
    exportTimeoutMillis: timeoutMillis,
    cardinalityLimits: { default: sdkCardinalityLimit(settings.maxVniSeries) },
  });
  const provider = new MeterProvider({ resource: resourceFromAttributes(pipelineResourceAttributes(settings)), readers: [reader] });
  const neverReject = async (what: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (err) {
      warn(`metrics ${what}: ${diagLine('', [err]).trim()}`);
    }
  };
  return {
    meterProvider: provider,
    forceFlush: () => neverReject('flush', () => provider.forceFlush()),
    // The SDK's shutdown waits for an export in flight, then exports once more: up to twice the timeout. Bounded
    // here: what has not gone out within the budget is given up, said once, and the process can exit.
    shutdown: () =>
      neverReject('shutdown', async () => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), SHUTDOWN_EXPORT_BUDGET_MS);
          timer.unref();
        });
        const done = await Promise.race([provider.shutdown().then(() => 'done' as const), deadline]);
        clearTimeout(timer);
        if (done === 'late')
          warn(
            `metrics shutdown: the last export to ${redactUrl(settings.endpoint)} did not finish within ${SHUTDOWN_EXPORT_BUDGET_MS / 1000} s; exiting without it`,
          );
      }),
  };
}

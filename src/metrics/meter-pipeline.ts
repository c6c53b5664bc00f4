// The OTLP/HTTP export pipeline: resource, meter provider, periodic reader, exporter (JSON or protobuf).
import { hostname } from 'node:os';
import { diag, DiagLogLevel, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { OTLPMetricExporter as OtlpJsonExporter, AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { ResolvedMetricsSettings } from '../config/otel-env.ts';
import { PLUGIN_VERSION } from './names.ts';

export interface MeterPipeline {
  meterProvider: ApiMeterProvider;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Series per instrument the SDK keeps before it folds the rest into its own overflow: above ours, always. */
export function sdkCardinalityLimit(maxVniSeries: number): number {
  return maxVniSeries + 4096;
}

/**
 * Builds the pipeline. Export failures (collector down) are logged through `warn`, once per failure, and
 * never thrown: the data plane does not depend on the collector.
 */
export function createMeterPipeline(settings: ResolvedMetricsSettings, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): MeterPipeline {
  diag.setLogger(
    {
      error: (msg, ...args) => warn(`metrics export: ${msg}${args.length ? ` ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}` : ''}`),
      warn: (msg) => warn(`metrics: ${msg}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const timeoutMillis = Math.min(10000, Math.max(1000, Math.floor(settings.exportIntervalMillis * 0.8)));
  const exporterOptions = {
    url: settings.endpoint,
    headers: settings.headers,
    timeoutMillis,
    temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
  };
  const exporter = settings.encoding === 'json' ? new OtlpJsonExporter(exporterOptions) : new OtlpProtoExporter(exporterOptions);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: settings.exportIntervalMillis,
    exportTimeoutMillis: timeoutMillis,
    cardinalityLimits: { default: sdkCardinalityLimit(settings.maxVniSeries) },
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.version': PLUGIN_VERSION,
      'host.name': hostname(),
      ...settings.resourceAttributes,
      'service.name': settings.serviceName,
    }),
    readers: [reader],
  });
  return {
    meterProvider: provider,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

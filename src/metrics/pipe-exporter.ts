// A metrics exporter to an inherited pipe: length-prefixed OTLP ExportMetricsServiceRequest messages, read by the Collector receiver.
import { createWriteStream, type WriteStream } from 'node:fs';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * The environment variable through which the Collector receiver (collector/xdpdecapreceiver) hands the daemon
 * the number of the pipe it reads metrics from. Set, it replaces the OTLP/HTTP exporter: no port, no endpoint.
 */
export const METRICS_FD_ENV = 'XDP_DECAP_METRICS_FD';

/** Largest message the receiver accepts; keep in sync with maxFrameBytes in collector/xdpdecapreceiver/pipe.go. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** One frame: a 4-byte big-endian length, then the protobuf ExportMetricsServiceRequest. */
function frameMetrics(metrics: ResourceMetrics): Buffer {
  const body = ProtobufMetricsSerializer.serializeRequest(metrics);
  if (!body) throw new Error('OTLP protobuf serializer returned nothing');
  if (body.length > MAX_FRAME_BYTES) throw new Error(`metrics message of ${body.length} bytes exceeds the pipe's ${MAX_FRAME_BYTES}-byte frame limit`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, 4);
  return frame;
}

/** The file descriptor named by XDP_DECAP_METRICS_FD, or undefined when unset; throws on a value that is not a descriptor number. */
export function metricsFdFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env[METRICS_FD_ENV];
  if (text === undefined || text === '') return undefined;
  const fd = Number(text);
  if (!Number.isInteger(fd) || fd < 3) throw new Error(`${METRICS_FD_ENV}=${text}: expected an inherited file descriptor number >= 3`);
  return fd;
}

/** Cumulative temporality (as the OTLP/HTTP exporter is configured); frames written in order, one per export. */
export class PipeMetricExporter implements PushMetricExporter {
  private readonly stream: WriteStream;
  private closed = false;
  private failure: Error | undefined;

  constructor(fd: number) {
    this.stream = createWriteStream('', { fd, autoClose: true });
    // The reader is gone (Collector stopped): later exports fail with this error instead of throwing EPIPE.
    this.stream.on('error', (err) => (this.failure = err));
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.closed || this.failure) {
      resultCallback({ code: ExportResultCode.FAILED, error: this.failure ?? new Error('metrics pipe exporter is shut down') });
      return;
    }
    let frame: Buffer;
    try {
      frame = frameMetrics(metrics);
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    this.stream.write(frame, (err) => resultCallback(err ? { code: ExportResultCode.FAILED, error: err } : { code: ExportResultCode.SUCCESS }));
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  async forceFlush(): Promise<void> {
    if (this.closed || this.failure || this.stream.writableLength === 0) return;
    await new Promise<void>((resolve) => this.stream.once('drain', resolve).once('error', () => resolve()));
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }
}

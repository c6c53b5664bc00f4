// Builds synthetic metric inputs, an in-memory meter provider to collect them, and a local OTLP/HTTP endpoint.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricsInput } from '../../src/metrics/decap-metrics.ts';
import { sdkCardinalityLimit } from '../../src/metrics/meter-pipeline.ts';

/** A pull reader: `collect()` on demand, as the periodic reader would. */
export class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export function testProvider(maxVniSeries: number): { provider: MeterProvider; reader: TestReader } {
  const limit = sdkCardinalityLimit(maxVniSeries);
  const reader = new TestReader({ cardinalitySelector: () => limit });
  return { provider: new MeterProvider({ readers: [reader] }), reader };
}

export interface FlatPoint {
  metric: string;
  unit: string;
  description: string;
  type: string;
  attributes: Record<string, unknown>;
  value: number;
}

export async function collectPoints(reader: MetricReader): Promise<FlatPoint[]> {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw new AggregateError(errors);
  return flatten(resourceMetrics);
}

export function flatten(rm: ResourceMetrics): FlatPoint[] {
  return rm.scopeMetrics.flatMap((sm) =>
    sm.metrics.flatMap((m) =>
      (m.dataPoints as Array<{ attributes: Record<string, unknown>; value: unknown }>).map((dp) => ({
        metric: m.descriptor.name,
        unit: m.descriptor.unit,
        description: m.descriptor.description,
        type: String(m.dataPointType),
        attributes: dp.attributes,
        value: Number(dp.value),
      })),
    ),
  );
}

/** `count` VNIs on ifindex 2, VXLAN; VNI n has n*10 bytes unless `bytes` says otherwise. */
export function syntheticInput(count: number, bytes: (vni: number) => number = (v) => v * 10): MetricsInput {
  const vnis = Array.from({ length: count }, (_, i) => {
    const vni = i + 1;
    return { ifindex: 2, tunnelType: 'vxlan' as const, vni, packets: vni, bytes: bytes(vni), overheadBytes: 50 * vni, flows: 1 };
  });
  return {
    counters: {
      vnis,
      outcomes: [
        { ifindex: 2, outcome: 'decapsulated', packets: 5, bytes: 500 },
        { ifindex: 2, outcome: 'not_tunnel', packets: 7, bytes: 700 },
      ],
      lost: { vni_stats: 0, outcome_stats: 0, flows: 3 },
    },
    activeFlows: vnis.map((v) => ({ ifindex: 2, tunnelType: 'vxlan' as const, vni: v.vni, flows: 1 })),
  };
}

/** A local OTLP/HTTP endpoint that records what it receives and answers `status` (or what `status()` says, per request). */
export async function fakeCollector(
  status: number | (() => number),
): Promise<{ url: string; requests: Array<{ headers: IncomingHttpHeaders; body: Buffer }>; close(): void }> {
  const requests: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = typeof status === 'number' ? status : status();
      // An empty body is a valid (empty) ExportMetricsServiceResponse in both encodings.
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

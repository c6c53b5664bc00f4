// Reads OTLP/JSON metric exports (as the sink stored them) into flat, comparable data points.
import { readFileSync } from 'node:fs';

interface OtlpPoint {
  metric: string;
  unit: string;
  kind: 'sum' | 'gauge';
  monotonic: boolean;
  attributes: Record<string, string | number | boolean>;
  value: number;
}

export interface OtlpExport {
  headers: Record<string, string>;
  resource: Record<string, string | number | boolean>;
  points: OtlpPoint[];
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };
type DataPoint = { attributes?: KeyValue[]; asInt?: string | number; asDouble?: number };
/** The parts of an OTLP/JSON ExportMetricsServiceRequest this reader looks at. */
type OtlpJsonBody = {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{
      metrics?: Array<{ name: string; unit?: string; sum?: { isMonotonic?: boolean; dataPoints?: DataPoint[] }; gauge?: { dataPoints?: DataPoint[] } }>;
    }>;
  }>;
};

function attrValue(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue ?? NaN;
}

function attrs(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, attrValue(kv.value)]));
}

function parseExport(line: string): OtlpExport {
  const { headers, body } = JSON.parse(line) as { headers: Record<string, string>; body: OtlpJsonBody };
  const points: OtlpPoint[] = [];
  let resource: Record<string, string | number | boolean> = {};
  for (const rm of body.resourceMetrics ?? []) {
    resource = attrs(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const data = m.sum ?? m.gauge;
        const kind = m.sum ? 'sum' : 'gauge';
        for (const dp of data?.dataPoints ?? []) {
          points.push({
            metric: m.name,
            unit: m.unit ?? '',
            kind,
            monotonic: Boolean(m.sum?.isMonotonic),
            attributes: attrs(dp.attributes),
            value: Number(dp.asInt ?? dp.asDouble ?? 0),
          });
        }
      }
    }
  }
  return { headers, resource, points };
}

export function readExports(file: string): OtlpExport[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map(parseExport);
}

/** Value of `metric` in the newest export that has it, for points matching `where`. */
export function latestValue(exports: OtlpExport[], metric: string, where: Record<string, string | number | boolean>): number | undefined {
  for (let i = exports.length - 1; i >= 0; i--) {
    const pts = exports[i]!.points.filter((p) => p.metric === metric && Object.entries(where).every(([k, v]) => p.attributes[k] === v));
    if (pts.length > 0) return pts.reduce((a, p) => a + p.value, 0);
  }
  return undefined;
}

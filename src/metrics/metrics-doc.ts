// Renders plugin.json's metrics and attributes as Markdown: the whole of docs/metrics.md, and the table the README embeds.

import { stringify } from 'yaml';
import manifest from '../../plugin.json' with { type: 'json' };
import { ATTRIBUTE_DEFINITIONS, METRIC_DEFINITIONS, type MetricDefinition } from './names.ts';

export const METRICS_DOC_BEGIN = '<!-- metrics table: generated from plugin.json by `node scripts/gen-metrics-doc.ts --write`; do not edit -->';
const METRICS_DOC_END = '<!-- end of generated metrics table -->';
const METRICS_DOC_HEADER = '<!-- generated from plugin.json by `node scripts/gen-metrics-doc.ts --write` — do not edit -->';

const code = (text: string) => `\`${text}\``;

function kindOf(metric: MetricDefinition): string {
  return metric.kind === 'sum' ? `${metric.monotonic ? 'monotonic ' : ''}sum, ${metric.temporality}` : 'gauge';
}

/** The metrics and attributes tables and the cardinality rule, between the markers (the README embeds this block). */
function renderMetricsTable(): string {
  const metricRows = METRIC_DEFINITIONS.map(
    (m) => `| ${code(m.name)} | ${kindOf(m)} | ${code(m.unit)} | ${m.attributes.map(code).join(', ')} | ${m.description} |`,
  );
  const attributeRows = ATTRIBUTE_DEFINITIONS.map(
    (a) => `| ${code(a.name)} | ${a.type} | ${a.description}${a.enum ? ` Values: ${a.enum.map(code).join(', ')}.` : ''} |`,
  );
  return [
    METRICS_DOC_BEGIN,
    '| metric | kind | unit | attributes | description |',
    '|---|---|---|---|---|',
    ...metricRows,
    '',
    '| attribute | type | description |',
    '|---|---|---|',
    ...attributeRows,
    '',
    `Cardinality: ${manifest.cardinality.rule}`,
    METRICS_DOC_END,
  ].join('\n');
}

/** All of docs/metrics.md. */
export function renderMetricsDoc(): string {
  const valueTypes = [...new Set(METRIC_DEFINITIONS.map((m) => m.valueType))].join(', ');
  const resourceRows = manifest.resourceAttributes.map(
    (r) => `| ${code(r.name)} | ${r.description}${'default' in r && r.default ? ` Default ${code(r.default)}.` : ''} |`,
  );
  return [
    METRICS_DOC_HEADER,
    '',
    `# ${manifest.name} metrics`,
    '',
    'Everything on this page is generated from `plugin.json`, the single source of truth for the metrics; tests fail',
    "when this page, the README's table or the code's instruments drift from it.",
    '',
    renderMetricsTable(),
    '',
    '## Resource attributes',
    '',
    '| attribute | description |',
    '|---|---|',
    ...resourceRows,
    '',
    'Attributes from `metrics.resourceAttributes` and `OTEL_RESOURCE_ATTRIBUTES` are added to these.',
    '',
    '## Data model',
    '',
    `Every instrument is observable and read once per export. Value type: ${valueTypes}. Sums are cumulative`,
    "(OTLP `AGGREGATION_TEMPORALITY_CUMULATIVE`): the kernel maps' counters, summed over CPUs. A series of",
    `${code('decap.tunnel.flow.active')} whose flows all went idle reports 0.`,
    `The per-VNI limit is \`${manifest.cardinality.limitSetting}\` (default ${manifest.cardinality.default}); it applies to`,
    `${manifest.cardinality.appliesTo.map(code).join(', ')}.`,
    '',
  ].join('\n');
}

/** Replaces the generated block in `text`, which must contain both markers. */
export function replaceMetricsBlock(text: string): string {
  const start = text.indexOf(METRICS_DOC_BEGIN);
  const end = text.indexOf(METRICS_DOC_END);
  if (start < 0 || end < start) throw new Error('the generated metrics block markers are missing');
  return text.slice(0, start) + renderMetricsTable() + text.slice(end + METRICS_DOC_END.length);
}

/** The line in the receiver's metadata.yaml below which its attributes and metrics are generated. */
const RECEIVER_METADATA_MARKER = '# Below: generated from plugin.json by `node scripts/gen-metrics-doc.ts --write` (mdatagen layout); do not edit.';

const byName = <T>(entries: [string, T][]): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * plugin.json's attributes and metrics as mdatagen reads them (what the receiver forwards; mdatagen makes the
 * receiver's documentation.md from them): keys sorted, each metric with its stability, and otel.metric.overflow
 * on the metrics whose overflow series carry it.
 */
function renderReceiverMetadataSection(): string {
  const attributes = byName(
    ATTRIBUTE_DEFINITIONS.map((a) => [
      a.name,
      { description: a.description, type: a.type === 'boolean' ? 'bool' : a.type, ...(a.enum ? { enum: [...a.enum] } : {}) },
    ]),
  );
  const overflow = Object.keys(manifest.cardinality.overflowSeries.attributes);
  const metrics = byName(
    METRIC_DEFINITIONS.map((m) => [
      m.name,
      {
        enabled: true,
        description: m.description,
        unit: m.unit,
        ...(m.kind === 'sum'
          ? { sum: { value_type: m.valueType, monotonic: m.monotonic, aggregation_temporality: m.temporality } }
          : { gauge: { value_type: m.valueType } }),
        attributes: [...m.attributes, ...((manifest.cardinality.appliesTo as readonly string[]).includes(m.name) ? overflow : [])],
        stability: { level: 'alpha' },
      },
    ]),
  );
  return `${RECEIVER_METADATA_MARKER}\n${stringify({ attributes, metrics }, { lineWidth: 0 })}`;
}

/** The receiver's metadata.yaml with its generated part replaced; `text` must contain the marker. */
export function replaceReceiverMetadata(text: string): string {
  const at = text.indexOf(RECEIVER_METADATA_MARKER);
  if (at < 0) throw new Error("the generated-section marker is missing from the receiver's metadata.yaml");
  return text.slice(0, at) + renderReceiverMetadataSection();
}

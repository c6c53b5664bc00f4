// Renders plugin.json's metrics and attributes as Markdown: the whole of docs/metrics.md, and the table the README embeds.
import manifest from '../../plugin.json' with { type: 'json' };
import { ATTRIBUTE_DEFINITIONS, METRIC_DEFINITIONS, type MetricDefinition } from './names.ts';

export const METRICS_DOC_BEGIN = '<!-- metrics table: generated from plugin.json by `node scripts/gen-metrics-doc.ts --write`; do not edit -->';
export const METRICS_DOC_END = '<!-- end of generated metrics table -->';
export const METRICS_DOC_HEADER = '<!-- generated from plugin.json by `node scripts/gen-metrics-doc.ts --write` — do not edit -->';

const code = (text: string) => `\`${text}\``;

function kindOf(metric: MetricDefinition): string {
  return metric.kind === 'sum' ? `${metric.monotonic ? 'monotonic ' : ''}sum, ${metric.temporality}` : 'gauge';
}

/** The metrics and attributes tables and the cardinality rule, between the markers (the README embeds this block). */
export function renderMetricsTable(): string {
  const metricRows = METRIC_DEFINITIONS.map((m) => `| ${code(m.name)} | ${kindOf(m)} | ${code(m.unit)} | ${m.attributes.map(code).join(', ')} | ${m.description} |`);
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
    '(OTLP `AGGREGATION_TEMPORALITY_CUMULATIVE`): the kernel maps\' counters, summed over CPUs. A series of',
    `${code('decap.tunnel.flows.active')} whose flows all went idle reports 0.`,
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

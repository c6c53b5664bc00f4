// Renders plugin.json's metrics and attributes as Markdown: the table in docs/metrics.md and the README.
import manifest from '../../plugin.json' with { type: 'json' };

export const METRICS_DOC_BEGIN = '<!-- metrics table: generated from plugin.json by `node scripts/gen-metrics-doc.ts --write`; do not edit -->';
export const METRICS_DOC_END = '<!-- end of generated metrics table -->';

export function renderMetricsTable(): string {
  const rows = manifest.metrics.map((m) => `| \`${m.name}\` | ${m.kind === 'sum' ? `${m.monotonic ? 'monotonic ' : ''}sum, ${m.temporality}` : 'gauge'} | \`${m.unit}\` | ${m.attributes.map((a) => `\`${a}\``).join(', ')} | ${m.description} |`);
  const attrs = manifest.attributes.map((a) => `| \`${a.name}\` | ${a.type} | ${a.description}${'enum' in a && a.enum ? ` Values: ${a.enum.map((v) => `\`${v}\``).join(', ')}.` : ''} |`);
  return [
    METRICS_DOC_BEGIN,
    '| metric | kind | unit | attributes | description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    '| attribute | type | description |',
    '|---|---|---|',
    ...attrs,
    '',
    `Cardinality: ${manifest.cardinality.rule}`,
    METRICS_DOC_END,
  ].join('\n');
}

/** Replaces the generated block in `text` (which must contain both markers). */
export function replaceMetricsBlock(text: string): string {
  const start = text.indexOf(METRICS_DOC_BEGIN);
  const end = text.indexOf(METRICS_DOC_END);
  if (start < 0 || end < start) throw new Error('the generated metrics block markers are missing');
  return text.slice(0, start) + renderMetricsTable() + text.slice(end + METRICS_DOC_END.length);
}

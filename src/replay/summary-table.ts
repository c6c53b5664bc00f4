// Text table of a replay summary: totals, skip reasons, per-VNI rows.
import type { ReplaySummary } from './replay.ts';

/** Right-aligned columns; the first column left-aligned. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatReplaySummary(s: ReplaySummary): string {
  const skippedTotal = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  const lines = [`frames ${s.frames}  decapsulated ${s.decapsulated}  skipped ${skippedTotal}`];
  const reasons = Object.entries(s.skipped).filter(([, n]) => n > 0);
  if (reasons.length > 0) {
    lines.push('', formatTable(['skip reason', 'frames'], reasons));
  }
  if (s.vnis.length > 0) {
    lines.push(
      '',
      formatTable(
        ['vni', 'type', 'packets', 'inner bytes', 'overhead bytes', 'flows'],
        s.vnis.map((v) => [v.vni, v.type, v.packets, v.bytes, v.overheadBytes, v.flows]),
      ),
    );
  }
  return lines.join('\n');
}

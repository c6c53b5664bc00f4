// What the demo returns (also printed as JSON by --json) and its human form: taps side by side, sent vs counted.
import type { SkipReason } from '../decode/layout.ts';
import { formatTable } from '../replay/summary-table.ts';
import type { CountedValues, DemoVniRow } from './sent-vs-counted.ts';
import type { TapFlow } from './tap-flows.ts';

export interface DemoSummary {
  ok: boolean;
  vnis: DemoVniRow[];
  skipped: Record<SkipReason, number>;
  plainFramesSent: number;
  tap: { before: TapFlow[]; after: TapFlow[] };
  otlp: { endpoint: string; exportsReceived: number | null };
  /** Where the counts came from: the demo's OTLP sink, or the kernel maps when exporting elsewhere. */
  countedFrom: CountedValues['from'];
  /** Who ran xdp-decap: `xdp-decap run`, or the Collector's xdp_decap receiver (--collector). */
  host: 'run' | 'collector';
}

/** Where the counts were read, for the heading of the sent-vs-counted table. */
function countedFromText(s: DemoSummary): string {
  if (s.countedFrom !== 'otlp') return `the kernel maps; metrics went to ${s.otlp.endpoint}`;
  return `the OTLP export ${s.host === 'collector' ? 'the Collector forwarded to' : 'received at'} ${s.otlp.endpoint}`;
}

/** The human summary: taps side by side, sent vs counted, next steps. */
export function formatDemoSummary(s: DemoSummary): string {
  const tapRows = (flows: TapFlow[]) => flows.slice(0, 8).map((f) => [f.protocol, f.src, f.dst, f.packets]);
  const lines = [
    '',
    'What the tap (tcpdump on the capture interface) saw, busiest flows first:',
    '',
    'BEFORE (no xdp-decap): only the tunnel between the VTEPs',
    formatTable(['proto', 'source', 'destination', 'frames'], tapRows(s.tap.before)),
    '',
    'AFTER (xdp-decap attached): the client conversations inside the tunnels',
    formatTable(['proto', 'source', 'destination', 'frames'], tapRows(s.tap.after)),
    '',
    `Sent vs counted per VNI (counted from ${countedFromText(s)}):`,
    formatTable(
      ['vni', 'type', 'frames sent', 'packets counted', 'inner bytes sent', 'bytes counted', 'overhead', 'flows', 'match'],
      s.vnis.map((v) => [v.vni, v.type, v.sentFrames, v.packets, v.sentBytes, v.bytes, v.overheadBytes, v.flows, v.match ? 'yes' : 'NO']),
    ),
    `plain (non-tunnel) frames passed untouched: ${s.skipped.not_tunnel} (${s.plainFramesSent} pings sent)`,
    '',
    s.ok ? 'Result: every VNI counted exactly what was sent.' : 'Result: MISMATCH between what was sent and what was counted (see above).',
    '',
    'Next steps (README sections): "Run it on a capture host", "Enable it in your collector", "Metrics",',
    '"Replay a capture offline".',
  ];
  return lines.join('\n');
}

// Sent vs counted per tunnel: what xdp-decap counted, read from the demo's OTLP export (once it has caught up with
// the kernel) or from the kernel maps, beside what each source sent.
import { SKIP_REASONS, type SkipReason } from '../decode/layout.ts';
import type { TunnelType } from '../decode/tunnel-types.ts';
import type { StatusJson } from './kernel-status.ts';
import { latestValue, readExports } from './otlp-json.ts';
import { sleep } from './processes.ts';
import type { SentRow } from './send-traffic.ts';

export interface DemoVniRow extends SentRow {
  packets: number;
  bytes: number;
  overheadBytes: number;
  flows: number;
  match: boolean;
}

type CountedField = 'packets' | 'bytes' | 'overheadBytes' | 'flows';

/** The counts of one run, and where they were read. */
export interface CountedValues {
  /** The demo's OTLP sink, or the kernel maps when exporting elsewhere. */
  from: 'otlp' | 'kernel';
  /** OTLP exports the sink received (null when counted from the kernel). */
  exportsReceived: number | null;
  /** The count of one tunnel: `metric` when read from the export, `field` when read from the kernel. */
  value(type: TunnelType, vni: number, metric: string, field: CountedField): number;
}

function kernelCount(kernel: StatusJson, type: string, vni: number, field: CountedField): number {
  return kernel.vnis.filter((v) => v.type === type && v.vni === vni).reduce((a, v) => a + v[field], 0);
}

const tunnelAttributes = (type: string, vni: number) => ({ 'decap.tunnel.id': vni, 'decap.tunnel.type': type });

/** The counts as the kernel maps hold them (`xdp-decap status --json`). */
export function countedByKernel(kernel: StatusJson): CountedValues {
  return { from: 'kernel', exportsReceived: null, value: (type, vni, _metric, field) => kernelCount(kernel, type, vni, field) };
}

/**
 * Waits (up to 10 s: the export interval is 1 s) until the OTLP export in `sinkFile` carries the kernel's final
 * packet count for every tunnel sent through.
 */
export async function waitForExport(sinkFile: string, kernel: StatusJson, sent: readonly SentRow[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const exports = readExports(sinkFile);
    const done = sent.every(
      ({ type, vni }) => latestValue(exports, 'decap.tunnel.packet.count', tunnelAttributes(type, vni)) === kernelCount(kernel, type, vni, 'packets'),
    );
    if (done) break;
    await sleep(200);
  }
}

/** The counts as the last OTLP export in `sinkFile` reported them (0 for a series it does not have). */
export function countedByExport(sinkFile: string): CountedValues {
  const exports = readExports(sinkFile);
  return { from: 'otlp', exportsReceived: exports.length, value: (type, vni, metric) => latestValue(exports, metric, tunnelAttributes(type, vni)) ?? 0 };
}

/** One tunnel's row: what was sent, what was counted, whether frames and inner bytes match exactly. */
export function sentVsCounted(sent: SentRow, counted: CountedValues): DemoVniRow {
  const packets = counted.value(sent.type, sent.vni, 'decap.tunnel.packet.count', 'packets');
  const bytes = counted.value(sent.type, sent.vni, 'decap.tunnel.io', 'bytes');
  return {
    ...sent,
    packets,
    bytes,
    overheadBytes: counted.value(sent.type, sent.vni, 'decap.tunnel.overhead', 'overheadBytes'),
    flows: counted.value(sent.type, sent.vni, 'decap.tunnel.flow.count', 'flows'),
    match: packets === sent.sentFrames && bytes === sent.sentBytes,
  };
}

/** Frames the kernel passed untouched, per reason, summed over interfaces (every reason present). */
export function skippedByReason(kernel: StatusJson): Record<SkipReason, number> {
  const skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  for (const s of kernel.skipped) skipped[s.reason] += s.packets;
  return skipped;
}

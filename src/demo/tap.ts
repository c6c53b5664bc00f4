// The demo's tap, before and after: tcpdump on the capture host's interface while the mirror source sends, and
// the flows it saw (only the tunnel before xdp-decap, the client conversations after).
import { join } from 'node:path';
import { PcapReader } from '../replay/pcap.ts';
import { startCapture } from '../testbed/capture.ts';
import type { Testbed, VxlanTunnel } from '../testbed/testbed.ts';
import { whileRedrawing } from './kernel-status.ts';
import { type CraftedTraffic, type SentRow, sendDemoTraffic, sendInnerTraffic, sentRows, vxlanTxCounters } from './send-traffic.ts';
import type { Step } from './steps.ts';
import { summarizeTap, type TapFlow } from './tap-flows.ts';

/** Captures on the capture host's interface while `during` runs; returns the flows the tap saw. */
async function tapWhile(bed: Testbed, pcap: string, during: () => Promise<void>): Promise<TapFlow[]> {
  const capture = await startCapture(bed.cap, bed.capIf, pcap);
  try {
    await during();
  } finally {
    await capture.stop();
  }
  const reader = PcapReader.open(pcap);
  const frames: Buffer[] = [];
  try {
    for (let r = reader.next(); r; r = reader.next()) frames.push(r.data);
  } finally {
    reader.close();
  }
  return summarizeTap(frames);
}

/** BEFORE: the tap without xdp-decap, 2 s of traffic through the tunnels. */
export function tapBefore(step: Step, bed: Testbed, dir: string, tunnels: VxlanTunnel[]): Promise<TapFlow[]> {
  return step('BEFORE: tcpdump on the capture interface, no xdp-decap, 2 s of mirrored traffic', () =>
    tapWhile(bed, join(dir, 'before.pcap'), () => sendInnerTraffic(bed, tunnels, 2)),
  );
}

/**
 * AFTER: the same tap with xdp-decap attached while every source sends for `seconds`, the live table redrawn
 * through `live`; returns what the tap saw and what was sent per tunnel.
 */
export async function tapAfter(
  step: Step,
  bed: Testbed,
  dir: string,
  tunnels: VxlanTunnel[],
  seconds: number,
  live: ((text: string) => void) | undefined,
): Promise<{ after: TapFlow[]; sent: SentRow[] }> {
  const txBefore = vxlanTxCounters(bed, tunnels);
  let crafted: CraftedTraffic = { geneve: { frames: 0, bytes: 0 }, erspan: { frames: 0, bytes: 0 } };
  const after = await step(
    `AFTER: the same tap with xdp-decap attached, ${seconds} s of traffic (+ Geneve frames, an ERSPAN port mirror and plain pings)`,
    () =>
      tapWhile(bed, join(dir, 'after.pcap'), () =>
        whileRedrawing(bed, live, async () => {
          crafted = await sendDemoTraffic(bed, dir, tunnels, seconds);
        }),
      ),
  );
  const txAfter = vxlanTxCounters(bed, tunnels);
  return { after, sent: sentRows(tunnels, txBefore, txAfter, crafted) };
}

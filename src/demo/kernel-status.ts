// The kernel's counters as a user reads them (`xdp-decap status --json` in the capture host), and the live
// table the demo redraws from them.
import { spawn } from 'node:child_process';
import type { SkipReason } from '../decode/layout.ts';
import type { TunnelType } from '../decode/tunnel-types.ts';
import { formatTable } from '../replay/summary-table.ts';
import type { Testbed } from '../testbed/testbed.ts';
import { demoScript } from './processes.ts';

export interface StatusJson {
  vnis: Array<{ interface: string | null; type: TunnelType; vni: number; packets: number; bytes: number; overheadBytes: number; flows: number }>;
  skipped: Array<{ interface: string | null; reason: SkipReason; packets: number }>;
}

/** `xdp-decap status --json` in the capture host: the kernel's counters, read the way a user reads them. */
export function readStatus(bed: Testbed): Promise<StatusJson> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', bed.cap, process.execPath, demoScript('../cli'), 'status', '--interface', bed.capIf, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as StatusJson) : reject(new Error(`xdp-decap status failed: ${err}`))));
  });
}

/** The per-VNI counts and the frames passed untouched, as the table the demo redraws each second. */
export function liveTable(status: StatusJson): string {
  const rows = [...status.vnis].sort((a, b) => a.vni - b.vni).map((v) => [v.vni, v.type, v.packets, v.bytes, v.overheadBytes, v.flows]);
  const skipped =
    status.skipped
      .filter((s) => s.packets > 0)
      .map((s) => `${s.reason} ${s.packets}`)
      .join(', ') || 'none';
  return `${formatTable(['vni', 'type', 'packets', 'inner bytes', 'overhead', 'flows'], rows)}\npassed untouched: ${skipped}`;
}

/** Redraws the live table through `live` every second while `during` runs. */
export async function whileRedrawing(bed: Testbed, live: ((text: string) => void) | undefined, during: () => Promise<void>): Promise<void> {
  const liveTimer = setInterval(() => {
    readStatus(bed).then(
      (st) => live?.(liveTable(st)),
      () => undefined /* the next tick redraws */,
    );
  }, 1000);
  try {
    await during();
  } finally {
    clearInterval(liveTimer);
  }
}

// softflowd (Debian's NetFlow/IPFIX exporter) as the downstream tap on a testbed's capture interface, with a flush that does not depend on timing.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { ethernet } from '../../src/testbed/packets.ts';
import type { Testbed } from '../../src/testbed/testbed.ts';
import { pollUntil } from './poll.ts';

export interface SoftflowdStats {
  /** IP packets softflowd has taken from libpcap and put into flows. */
  processed: number;
  /** Non-IP or too-short packets it skipped. */
  ignored: number;
  /** Packets the kernel queued to its capture ring (some may still wait there). */
  received: number;
  /** Flow records it has sent to the collector. */
  exportedRecords: number;
  activeFlows: number;
}

export interface SoftflowdOptions {
  /** Namespace and interface it taps (the capture host's interface, after XDP). */
  ns: string;
  ifname: string;
  /** host:port of the NetFlow/IPFIX collector, reachable from `ns`. */
  collector: string;
  /** Export format: 5, 9 or 10 (IPFIX, the default: the contrib netflow receiver decodes it). */
  version?: 5 | 9 | 10;
  /** A pcap filter: packets it rejects are never seen, as if the tap missed them. */
  filter?: string;
  /** Scratch directory for its control socket and pid file. */
  dir: string;
}

/** `softflowctl statistics` output, parsed. */
export function parseSoftflowdStats(text: string): SoftflowdStats {
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(text);
    if (!m) throw new Error(`softflowctl statistics: no "${what}" line in:\n${text}`);
    return Number(m[1]);
  };
  return {
    processed: num(/Packets processed:\s*(\d+)/, 'Packets processed'),
    ignored: num(/Ignored packets:\s*(\d+)/, 'Ignored packets'),
    received: num(/Packets received by libpcap:\s*(\d+)/, 'Packets received by libpcap'),
    exportedRecords: num(/Flows exported:\s*\d+\s*\((\d+) records\)/, 'Flows exported'),
    activeFlows: num(/Number of active flows:\s*(\d+)/, 'Number of active flows'),
  };
}

/**
 * softflowd opens its capture with a 0 ms timeout, so libpcap's TPACKET_V3 ring hands a block of packets over
 * only when the block is full: at test rates the last packets sit in a half-filled block indefinitely (seen on
 * kernel 6.18 with libpcap 1.10). A busy production link fills blocks in microseconds; a test pushes them
 * through with filler frames softflowd ignores (a local experimental EtherType, not IP) until every IP packet
 * it was sent has been processed. Returns a function that sends one burst of filler into the capture interface.
 */
export function fillerSender(bed: Testbed, dir: string, frames = 256): () => void {
  const file = join(dir, 'softflowd-filler.pcap');
  const writer = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
  try {
    const frame = ethernet({ dst: bed.macOf(bed.cap, bed.capIf), src: bed.macOf(bed.src, bed.srcIf), etherType: 0x88b5, payload: Buffer.alloc(1486, 0x5a) });
    for (let i = 0; i < frames; i++) writer.write({ tsSec: 0, tsFrac: i, caplen: frame.length, origLen: frame.length, data: frame });
  } finally {
    writer.close();
  }
  return () => {
    const r = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', '-i', bed.srcIf, file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tcpreplay of filler frames failed: ${r.stderr}`);
  };
}

export class Softflowd {
  readonly options: SoftflowdOptions;
  readonly control: string;
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(options: SoftflowdOptions) {
    this.options = options;
    this.control = join(options.dir, 'softflowd.ctl');
  }

  /** Starts it in the foreground (-d) and waits until its control socket answers. */
  static async start(options: SoftflowdOptions): Promise<Softflowd> {
    const sf = new Softflowd(options);
    const args = [
      '-d',
      '-i',
      options.ifname,
      '-v',
      String(options.version ?? 10),
      '-n',
      options.collector,
      '-c',
      sf.control,
      '-p',
      join(options.dir, 'softflowd.pid'),
      '-T',
      'full',
    ];
    if (options.filter) args.push(options.filter);
    sf.child = spawn('ip', ['netns', 'exec', options.ns, 'softflowd', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    sf.child.stdout!.on('data', (d: Buffer) => (sf.output += d.toString()));
    sf.child.stderr!.on('data', (d: Buffer) => (sf.output += d.toString()));
    try {
      await sf.until(() => sf.tryStats() !== undefined, 10000, 'its control socket to answer');
      return sf;
    } catch (err) {
      sf.stop();
      throw err;
    }
  }

  private ctl(command: string): { ok: boolean; text: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.options.ns, 'softflowctl', '-c', this.control, command], { encoding: 'utf8' });
    return { ok: r.status === 0, text: `${r.stdout}${r.stderr}` };
  }

  private tryStats(): SoftflowdStats | undefined {
    const r = this.ctl('statistics');
    return r.ok ? parseSoftflowdStats(r.text) : undefined;
  }

  stats(): SoftflowdStats {
    const r = this.ctl('statistics');
    if (!r.ok) throw new Error(`softflowctl statistics failed: ${r.text}; softflowd said:\n${this.output}`);
    return parseSoftflowdStats(r.text);
  }

  /**
   * Makes softflowd export everything it was sent: pushes filler until it has processed `ipPackets` IP
   * packets in all, then expires every flow (`softflowctl expire-all`). Returns the records exported so far.
   */
  async exportAll(ipPackets: number, sendFiller: () => void, timeoutMs = 20000): Promise<number> {
    await this.until(
      () => {
        if (this.stats().processed >= ipPackets) return true;
        sendFiller();
        return false;
      },
      timeoutMs,
      `${ipPackets} IP packets processed`,
    );
    const r = this.ctl('expire-all');
    if (!r.ok) throw new Error(`softflowctl expire-all failed: ${r.text}`);
    let records = 0;
    // expire-all queues the export; the counter moves when the datagrams are out.
    await this.until(
      () => {
        const stats = this.stats();
        records = stats.exportedRecords;
        return stats.activeFlows === 0 && records > 0;
      },
      timeoutMs,
      'flows to be exported',
    );
    return records;
  }

  /** Polls `check` until it holds; gives up at once if softflowd exits, with what it printed. */
  private async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    await pollUntil(
      what,
      () => {
        if (this.child?.exitCode !== null && this.child?.exitCode !== undefined)
          throw new Error(`softflowd exited (${this.child.exitCode}) while waiting for ${what}:\n${this.output}`);
        return check() ? true : undefined;
      },
      { timeoutMs, intervalMs: 100, lastState: () => `statistics ${JSON.stringify(this.tryStats())}\n${this.output}` },
    );
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

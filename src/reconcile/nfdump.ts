// Reads NetFlow/IPFIX records from an nfcapd store through nfdump's JSON output (nfdump does the protocol decoding).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import type { NetflowRecord } from './reconcile.ts';

/** A problem with the NetFlow input: printed as one line by the CLI, exit code 2. */
export class NetflowInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetflowInputError';
  }
}

/** One record of `nfdump -o json` (nfdump 1.7): the fields reconcile uses. */
interface NfdumpJsonRecord {
  type?: string;
  sampled?: number;
  in_packets?: number;
  in_bytes?: number;
  proto?: number;
  src_port?: number;
  dst_port?: number;
  src4_addr?: string;
  dst4_addr?: string;
  src6_addr?: string;
  dst6_addr?: string;
}

/** Turns `nfdump -o json` output into records; `source` names the input in errors. */
export function parseNfdumpJson(text: string, source: string): NetflowRecord[] {
  // nfdump prints "[\nNo matching flows\n]" when the files hold no flow: not JSON.
  if (/^\s*\[\s*No matching flows\s*\]\s*$/.test(text)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NetflowInputError(`${source}: nfdump's JSON output did not parse (${(err as Error).message}); is this nfdump 1.7 or later?`);
  }
  if (!Array.isArray(parsed)) throw new NetflowInputError(`${source}: nfdump's JSON output is not an array of records`);
  const out: NetflowRecord[] = [];
  for (const r of parsed as NfdumpJsonRecord[]) {
    if (r.type !== undefined && r.type !== 'FLOW') continue;
    const srcAddr = r.src4_addr ?? r.src6_addr;
    const dstAddr = r.dst4_addr ?? r.dst6_addr;
    if (srcAddr === undefined || dstAddr === undefined || r.proto === undefined) continue; // not an IP flow
    out.push({
      protocol: r.proto,
      srcAddr,
      dstAddr,
      srcPort: r.src_port ?? 0,
      dstPort: r.dst_port ?? 0,
      packets: r.in_packets ?? 0,
      bytes: r.in_bytes ?? 0,
      sampled: (r.sampled ?? 0) !== 0,
    });
  }
  return out;
}

/** Every flow in an nfcapd file, or in all nfcapd files under a directory, read by `nfdump`. */
export function readNfcapdStore(path: string, nfdump = 'nfdump'): NetflowRecord[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new NetflowInputError(`--nfdump ${path}: no such file or directory; give an nfcapd file or the directory nfcapd writes to (its -w)`);
  }
  // nfcapd keeps the file it is writing as nfcapd.current.<pid>; finished files are nfcapd.<YYYYMMDDhhmm>.
  if (isDir && !readdirSync(path, { recursive: true }).some((f) => /(^|\/)nfcapd\.\d{12}$/.test(String(f)))) {
    throw new NetflowInputError(`--nfdump ${path}: no finished nfcapd files there yet; nfcapd finishes one at the end of each rotation interval (-t, 300 s by default) or when it stops (SIGTERM)`);
  }
  const r = spawnSync(nfdump, [isDir ? '-R' : '-r', path, '-o', 'json'], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new NetflowInputError(`nfdump is not installed; install it (apt-get install nfdump) or put it on PATH`);
  }
  if (r.status !== 0) {
    const why = `${r.stderr}${r.stdout}`.trim().split('\n').slice(-3).join('; ');
    throw new NetflowInputError(`--nfdump ${path}: nfdump failed (${r.status ?? r.signal}): ${why}${/Empty file list/.test(why) ? ' (no nfcapd.* files there yet: nfcapd writes one when a rotation interval ends or it stops)' : ''}`);
  }
  return parseNfdumpJson(r.stdout, `--nfdump ${path}`);
}

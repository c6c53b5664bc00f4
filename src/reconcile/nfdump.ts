// Reads NetFlow/IPFIX records from an nfcapd store through nfdump's JSON output (nfdump does the protocol decoding).
import { spawnSync } from 'node:child_process';
import { closeSync, type Dirent, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/** nfcapd's file header starts with this magic (uint16, little-endian on disk) and a layout version (nfdump's nffileV2.h). */
const NFCAPD_MAGIC = 0xa50c;
const NFCAPD_LAYOUT_VERSIONS = new Set([1, 2]);

/** Files nfdump -R reads from a directory: every regular file except its own state and stat files and captures (nfdump's flist.c). */
function nfdumpReads(name: string): boolean {
  return !(name.startsWith('nfcapd.current') || name === '.nfstat' || name.includes('.stat') || name.includes('.DS_Store') || name.includes('pcap'));
}

/** Why `file` is not an nfcapd file, or undefined when its header says it is one. */
function notNfcapdReason(file: string): string | undefined {
  let header: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      header = Buffer.alloc(4);
      header = header.subarray(0, readSync(fd, header, 0, 4, 0));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES'
      ? 'cannot be read (permission denied; run reconcile as a user who can read the store)'
      : `cannot be read (${code ?? (err as Error).message})`;
  }
  if (header.length === 0) return 'is empty, not an nfcapd file';
  if (header.length < 4 || header.readUInt16LE(0) !== NFCAPD_MAGIC) {
    return `is not an nfcapd file (it starts with 0x${header.toString('hex')}; files nfcapd writes start with 0x0ca5)`;
  }
  const version = header.readUInt16LE(2);
  if (!NFCAPD_LAYOUT_VERSIONS.has(version)) return `is an nfcapd file of layout version ${version}, which nfdump 1.7 cannot read`;
  return undefined;
}

const STORE_HINT = 'give an nfcapd file or the directory nfcapd writes to (its -w)';

/**
 * Checks what nfdump is about to read: nfdump itself prints "bad magic" or "Short read" on stderr, stops reading,
 * and still exits 0 with "No matching flows", which would read as an empty store.
 */
function checkStore(path: string): { isDir: boolean } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NetflowInputError(`--nfdump ${path}: no such file or directory; ${STORE_HINT}`);
    throw new NetflowInputError(`--nfdump ${path}: cannot read it (${code}); ${STORE_HINT}`);
  }
  if (st.isFile()) {
    const why = notNfcapdReason(path);
    if (why) throw new NetflowInputError(`--nfdump ${path}: ${why}; ${STORE_HINT}`);
    return { isDir: false };
  }
  if (!st.isDirectory()) throw new NetflowInputError(`--nfdump ${path}: not a regular file or a directory; ${STORE_HINT}`);
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new NetflowInputError(`--nfdump ${path}: cannot list the directory (${(err as NodeJS.ErrnoException).code}); ${STORE_HINT}`);
  }
  const files = entries
    .filter((e) => e.isFile() && nfdumpReads(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  // nfcapd keeps the file it is writing as nfcapd.current.<pid>; finished files are nfcapd.<YYYYMMDDhhmm>.
  if (!files.some((f) => /(^|\/)nfcapd\.\d{12}(\d{2})?$/.test(f))) {
    throw new NetflowInputError(
      `--nfdump ${path}: no finished nfcapd files there yet; nfcapd names them nfcapd.YYYYMMDDhhmm and finishes one at the end of each rotation interval (-t, 300 s by default) or when it stops (SIGTERM)`,
    );
  }
  for (const file of files) {
    const why = notNfcapdReason(file);
    if (why)
      throw new NetflowInputError(
        `--nfdump ${path}: ${file} ${why}, and nfdump reads every file under the directory; move it out of the store, or give one nfcapd file`,
      );
  }
  return { isDir: true };
}

/** Every flow in an nfcapd file, or in all nfcapd files under a directory, read by `nfdump`. */
export function readNfcapdStore(path: string, nfdump = 'nfdump'): NetflowRecord[] {
  const { isDir } = checkStore(path);
  const r = spawnSync(nfdump, [isDir ? '-R' : '-r', path, '-o', 'json'], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new NetflowInputError(`nfdump is not installed; install it (apt-get install nfdump) or put it on PATH`);
  }
  const stderr = r.stderr.trim();
  if (r.status !== 0) {
    const why = `${stderr}${r.stdout}`.trim().split('\n').slice(-3).join('; ');
    throw new NetflowInputError(
      `--nfdump ${path}: nfdump failed (${r.status ?? r.signal}): ${why}${/Empty file list/.test(why) ? ' (no nfcapd.* files there yet: nfcapd writes one when a rotation interval ends or it stops)' : ''}`,
    );
  }
  // nfdump reports unreadable or damaged files on stderr and exits 0 after reading less, or nothing at all.
  if (stderr) {
    const lines = stderr.split('\n').filter((l) => !/ error in \S+\.c line \d+/.test(l)); // nfdump's source locations
    throw new NetflowInputError(`--nfdump ${path}: nfdump could not read the store (${(lines[0] ?? stderr).trim()}); ${STORE_HINT}`);
  }
  return parseNfdumpJson(r.stdout, `--nfdump ${path}`);
}

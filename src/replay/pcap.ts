// Streaming pcap/pcapng reader and pcap writer over libpcap: one frame at a time, timestamps kept exactly.
import { closeSync, openSync, readSync } from 'node:fs';
import { copyNative, libpcap, PCAP_ERRBUF_SIZE, PCAP_PKTHDR, PCAP_TSTAMP_PRECISION, type PcapHandle } from '../ffi/libpcap.ts';

export type TimestampPrecision = keyof typeof PCAP_TSTAMP_PRECISION;

export interface PcapRecord {
  tsSec: number;
  /** Fraction of the second in micro- or nanoseconds, per the file's precision. */
  tsFrac: number;
  caplen: number;
  origLen: number;
  data: Buffer;
}

/** A capture file that cannot be used: names the file, the problem and the fix. */
export class CaptureError extends Error {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'CaptureError';
    this.path = path;
  }
}

/** The file's own timestamp precision, from its magic number (pcapng: nanoseconds, the finest it may carry). */
function nativePrecision(path: string): TimestampPrecision {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaptureError(path, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot open: ${String(err)}`);
  }
  const magic = Buffer.alloc(4);
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const le = magic.readUInt32LE(0);
  return le === 0xa1b23c4d || le === 0x4d3cb2a1 || le === 0x0a0d0d0a ? 'nano' : 'micro';
}

export class PcapReader {
  readonly path: string;
  readonly linkType: number;
  readonly linkTypeName: string;
  readonly precision: TimestampPrecision;
  private handle: PcapHandle | null;
  private readonly header: [bigint | null] = [null];
  private readonly data: [bigint | null] = [null];
  private readonly pkthdr = Buffer.alloc(PCAP_PKTHDR.size);

  private constructor(path: string, handle: PcapHandle, precision: TimestampPrecision) {
    this.path = path;
    this.handle = handle;
    this.precision = precision;
    this.linkType = libpcap().pcap_datalink(handle);
    this.linkTypeName = libpcap().pcap_datalink_val_to_name(this.linkType) ?? `DLT ${this.linkType}`;
  }

  /** Opens a pcap or pcapng file; errors name the file and say what is wrong with it. */
  static open(path: string): PcapReader {
    const precision = nativePrecision(path);
    const errbuf = Buffer.alloc(PCAP_ERRBUF_SIZE);
    const handle = libpcap().pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION[precision], errbuf);
    if (!handle) {
      const why = errbuf.toString('utf8', 0, Math.max(0, errbuf.indexOf(0)));
      if (/truncated dump file/i.test(why)) throw new CaptureError(path, `truncated capture (${why}); the file ends inside its header`);
      if (/unknown file format|bad dump file format|truncated dump file|not a pcap/i.test(why) || why === '') {
        throw new CaptureError(path, `not a pcap or pcapng capture (${why || 'unrecognised header'}); write captures with tcpdump -w or tshark -w`);
      }
      throw new CaptureError(path, why);
    }
    return new PcapReader(path, handle, precision);
  }

  /** The next frame, or null at the end; a capture cut off mid-record is an error, not the end. */
  next(): PcapRecord | null {
    if (!this.handle) throw new Error(`${this.path}: reader is closed`);
    const lib = libpcap();
    const ret = lib.pcap_next_ex(this.handle, this.header, this.data);
    if (ret === 1) {
      const hdr = copyNative(this.header[0] as bigint, PCAP_PKTHDR.size, this.pkthdr);
      const caplen = hdr.readUInt32LE(PCAP_PKTHDR.caplen);
      return {
        tsSec: Number(hdr.readBigInt64LE(PCAP_PKTHDR.tsSec)),
        tsFrac: Number(hdr.readBigInt64LE(PCAP_PKTHDR.tsFrac)),
        caplen,
        origLen: hdr.readUInt32LE(PCAP_PKTHDR.len),
        data: caplen > 0 ? copyNative(this.data[0] as bigint, caplen) : Buffer.alloc(0),
      };
    }
    if (ret === -2) return null; // PCAP_ERROR_BREAK: end of file
    const why = lib.pcap_geterr(this.handle);
    throw new CaptureError(this.path, /truncated/i.test(why) ? `truncated capture (${why}); the file was cut off while being written or copied` : `read error: ${why}`);
  }

  close(): void {
    if (this.handle) libpcap().pcap_close(this.handle);
    this.handle = null;
  }
}

export interface PcapWriterOptions {
  linkType: number;
  precision: TimestampPrecision;
  snaplen?: number;
}

export class PcapWriter {
  readonly path: string;
  private dead: PcapHandle | null;
  private dumper: bigint | null;
  private readonly header = Buffer.alloc(PCAP_PKTHDR.size);

  private constructor(path: string, dead: PcapHandle, dumper: bigint) {
    this.path = path;
    this.dead = dead;
    this.dumper = dumper;
  }

  static open(path: string, options: PcapWriterOptions): PcapWriter {
    const lib = libpcap();
    const dead = lib.pcap_open_dead_with_tstamp_precision(options.linkType, options.snaplen ?? 262144, PCAP_TSTAMP_PRECISION[options.precision]);
    if (!dead) throw new CaptureError(path, 'libpcap could not make a handle to write with');
    const dumper = lib.pcap_dump_open(dead, path);
    if (!dumper) {
      const why = lib.pcap_geterr(dead);
      lib.pcap_close(dead);
      throw new CaptureError(path, `cannot write: ${why}`);
    }
    return new PcapWriter(path, dead, dumper);
  }

  write(record: PcapRecord): void {
    if (!this.dumper) throw new Error(`${this.path}: writer is closed`);
    const h = this.header;
    h.writeBigInt64LE(BigInt(record.tsSec), PCAP_PKTHDR.tsSec);
    h.writeBigInt64LE(BigInt(record.tsFrac), PCAP_PKTHDR.tsFrac);
    h.writeUInt32LE(record.data.length, PCAP_PKTHDR.caplen);
    h.writeUInt32LE(Math.max(record.origLen, record.data.length), PCAP_PKTHDR.len);
    libpcap().pcap_dump(this.dumper, h, record.data);
  }

  close(): void {
    const lib = libpcap();
    if (this.dumper) lib.pcap_dump_close(this.dumper);
    if (this.dead) lib.pcap_close(this.dead);
    this.dumper = null;
    this.dead = null;
  }
}

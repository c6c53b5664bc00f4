// Writes a pcap file one frame at a time to one file descriptor (a new file, an unnamed or exclusive temporary file, stdout).
import { closeSync, openSync, writeSync } from 'node:fs';
import { pauseThread } from './byte-stream.ts';
import { CaptureError, MAXIMUM_SNAPLEN, PCAP_MAGIC, type TimestampPrecision, TWO_TO_32 } from './capture-types.ts';

/** What PcapWriter.write needs: a PcapRecord fits; `caplen` defaults to, and must equal, `data.length`. */
export interface PcapRecordToWrite {
  tsSec: number;
  tsFrac: number;
  data: Buffer;
  caplen?: number;
  /** Defaults to `data.length`. */
  origLen?: number;
}

export interface PcapWriterOptions {
  /** LINKTYPE_ value (as PcapReader.linkType gives it): 1 for Ethernet. */
  linkType: number;
  precision: TimestampPrecision;
  /** Largest frame the file will hold; defaults to 262144. */
  snaplen?: number;
}

/** Bytes buffered before a write(2). */
const WRITE_CHUNK = 1 << 20;

/** A pcap file written one frame at a time to one file descriptor (a new file, a temporary file, stdout). */
export class PcapWriter {
  readonly path: string;
  readonly linkType: number;
  readonly precision: TimestampPrecision;
  readonly snaplen: number;
  private fd: number | null;
  private readonly ownsFd: boolean;
  private readonly buf = Buffer.allocUnsafe(WRITE_CHUNK);
  private used = 0;
  private frames = 0;

  private constructor(path: string, fd: number, ownsFd: boolean, options: Required<PcapWriterOptions>) {
    this.path = path;
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.linkType = options.linkType;
    this.precision = options.precision;
    this.snaplen = options.snaplen;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(options.precision === 'nano' ? PCAP_MAGIC.nano : PCAP_MAGIC.micro, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(options.snaplen, 16);
    h.writeUInt32LE(options.linkType, 20);
    this.append(h);
  }

  private static settings(path: string, options: PcapWriterOptions): Required<PcapWriterOptions> {
    const settings: Required<PcapWriterOptions> = { snaplen: MAXIMUM_SNAPLEN, ...options };
    if (!Number.isInteger(settings.snaplen) || settings.snaplen < 1 || settings.snaplen > MAXIMUM_SNAPLEN) {
      throw new RangeError(`${path}: open for writing: snaplen ${settings.snaplen} is outside 1..${MAXIMUM_SNAPLEN}`);
    }
    if (!Number.isInteger(settings.linkType) || settings.linkType < 0 || settings.linkType > 0x0fffffff) {
      throw new RangeError(`${path}: open for writing: link type ${settings.linkType} is not a LINKTYPE_ value`);
    }
    return settings;
  }

  /** Creates (or replaces) a pcap file; errors name the file, the problem and the fix. */
  static open(path: string, options: PcapWriterOptions): PcapWriter {
    const settings = PcapWriter.settings(path, options);
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      throw new CaptureError(path, `cannot create the capture file (${(err as Error).message}); check that the directory exists and is writable`);
    }
    return new PcapWriter(path, fd, true, settings);
  }

  /**
   * Writes to a descriptor the caller opened (an exclusive temporary file, stdout). `path` names it in errors;
   * `close` closes the descriptor only when `ownsFd`.
   */
  static onDescriptor(fd: number, path: string, options: PcapWriterOptions & { ownsFd: boolean }): PcapWriter {
    return new PcapWriter(path, fd, options.ownsFd, PcapWriter.settings(path, options));
  }

  /** Frames written so far. */
  get framesWritten(): number {
    return this.frames;
  }

  /** Appends one frame; its bytes are `record.data`, its timestamp in this writer's precision. */
  write(record: PcapRecordToWrite): void {
    if (this.fd === null) throw new Error(`${this.path}: write() on a closed PcapWriter`);
    const { data } = record;
    const origLen = record.origLen ?? data.length;
    const frame = this.frames + 1;
    if (record.caplen !== undefined && record.caplen !== data.length) {
      throw new RangeError(`${this.path}: write frame ${frame}: caplen ${record.caplen} is not data.length ${data.length}`);
    }
    if (data.length > this.snaplen) {
      throw new RangeError(
        `${this.path}: write frame ${frame}: ${data.length} bytes exceed the snaplen ${this.snaplen}; open the writer with a larger snaplen`,
      );
    }
    if (!Number.isInteger(origLen) || origLen < data.length || origLen >= TWO_TO_32) {
      throw new RangeError(`${this.path}: write frame ${frame}: origLen ${origLen} must be an integer from data.length (${data.length}) to 2^32-1`);
    }
    if (!Number.isInteger(record.tsSec) || record.tsSec < 0 || record.tsSec >= TWO_TO_32) {
      throw new RangeError(`${this.path}: write frame ${frame}: tsSec ${record.tsSec} does not fit the pcap format's unsigned 32-bit seconds`);
    }
    // A fraction of a second or more is what a damaged pcap held: written back as read, as tcpdump would.
    if (!Number.isInteger(record.tsFrac) || record.tsFrac < 0 || record.tsFrac >= TWO_TO_32) {
      throw new RangeError(
        `${this.path}: write frame ${frame}: tsFrac ${record.tsFrac} does not fit the pcap format's unsigned 32-bit ${this.precision}seconds`,
      );
    }
    if (this.used + 16 + data.length > this.buf.length) this.flushBuffer();
    const h = this.used;
    this.buf.writeUInt32LE(record.tsSec, h);
    this.buf.writeUInt32LE(record.tsFrac, h + 4);
    this.buf.writeUInt32LE(data.length, h + 8);
    this.buf.writeUInt32LE(origLen, h + 12);
    this.used += 16;
    this.append(data);
    this.frames++;
  }

  private append(bytes: Buffer): void {
    if (this.used + bytes.length > this.buf.length) this.flushBuffer();
    if (bytes.length > this.buf.length) {
      this.writeAll(bytes);
      return;
    }
    bytes.copy(this.buf, this.used);
    this.used += bytes.length;
  }

  private flushBuffer(): void {
    if (this.used === 0) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  /** write(2) until every byte is out; waits on a non-blocking pipe (stdout) that is full. */
  private writeAll(bytes: Buffer): void {
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(this.fd!, bytes, done, bytes.length - done);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          pauseThread(2);
          continue;
        }
        if (code === 'EINTR') continue;
        if (code === 'EPIPE') throw new CaptureError(this.path, `the reader of the pipe went away after ${this.frames} frames`);
        throw new CaptureError(
          this.path,
          `writing the capture failed after ${this.frames} frames (${(err as Error).message}); check free space on its file system`,
        );
      }
    }
  }

  /** Pushes buffered frames to the file; throws when the write fails (disk full, I/O error). */
  flush(): void {
    if (this.fd === null) throw new Error(`${this.path}: flush() on a closed PcapWriter`);
    this.flushBuffer();
  }

  /** Flushes and closes the file (safe to call twice); throws if the last writes failed, after closing. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    try {
      this.flushBuffer();
    } finally {
      this.fd = null;
      if (this.ownsFd) closeSync(fd);
    }
  }
}

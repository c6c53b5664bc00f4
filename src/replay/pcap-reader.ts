// Frames of a classic pcap file (the tcpdump.org format): either byte order, micro- or nanosecond magic, the modified 24-byte-record variant.
import type { ByteStream } from './byte-stream.ts';
import {
  CaptureError,
  damagedCapture,
  type FrameSource,
  MAXIMUM_SNAPLEN,
  PCAP_MAGIC,
  type PcapRecord,
  readU16,
  readU32,
  type TimestampPrecision,
  truncatedCapture,
} from './capture-types.ts';

const FILE_HEADER_BYTES = 24;
const PCAP_MAGICS: readonly number[] = Object.values(PCAP_MAGIC);

/** The byte order a classic pcap file's first 4 bytes say (`head` holds at least 4), or undefined if they are no pcap magic. */
export function pcapByteOrder(head: Buffer): 'little' | 'big' | undefined {
  if (PCAP_MAGICS.includes(head.readUInt32LE(0))) return 'little';
  if (PCAP_MAGICS.includes(head.readUInt32BE(0))) return 'big';
  return undefined;
}

/**
 * A pcap file's frames. Keeps the file's own precision and raw timestamp fields, so a pcap round-trips
 * exactly. Constructed with the stream's cursor at the file header (its magic already recognised).
 */
export class PcapFrames implements FrameSource {
  readonly linkType: number;
  readonly precision: TimestampPrecision;
  private readonly stream: ByteStream;
  private readonly path: string;
  private readonly littleEndian: boolean;
  private readonly recordHeaderBytes: 16 | 24;
  private frames = 0;

  constructor(stream: ByteStream, path: string) {
    this.stream = stream;
    this.path = path;
    const got = stream.fill(FILE_HEADER_BYTES);
    const head = stream.view(got);
    this.littleEndian = pcapByteOrder(head) === 'little';
    if (got < FILE_HEADER_BYTES) {
      throw new CaptureError(
        path,
        `truncated capture: the file ends inside its header (${got} of ${FILE_HEADER_BYTES} bytes); it was cut off while being written or copied: copy it again`,
      );
    }
    const magic = this.u32(head, 0);
    const major = this.u16(head, 4);
    if (major !== 2) {
      throw new CaptureError(path, `pcap format version ${major}.${this.u16(head, 6)}, not 2.x; convert it with editcap -F pcap IN OUT`);
    }
    this.precision = magic === PCAP_MAGIC.nano ? 'nano' : 'micro';
    // The low 28 bits are the link type; the top 4 say whether frames carry an FCS (the frame bytes are the same).
    this.linkType = this.u32(head, 20) & 0x0fffffff;
    this.recordHeaderBytes = magic === PCAP_MAGIC.modified ? 24 : 16;
    stream.skip(FILE_HEADER_BYTES);
  }

  get framesRead(): number {
    return this.frames;
  }

  private u32(b: Buffer, at: number): number {
    return readU32(b, at, this.littleEndian);
  }

  private u16(b: Buffer, at: number): number {
    return readU16(b, at, this.littleEndian);
  }

  next(copy: boolean): PcapRecord | null {
    const s = this.stream;
    const headerBytes = this.recordHeaderBytes;
    const got = s.fill(headerBytes);
    if (got === 0) return null;
    if (got < headerBytes) throw truncatedCapture(this.path, this.frames, `its ${headerBytes}-byte record header: only ${got}`);
    const h = s.view(headerBytes);
    const tsSec = this.u32(h, 0);
    const tsFrac = this.u32(h, 4);
    const caplen = this.u32(h, 8);
    const origLen = this.u32(h, 12);
    if (caplen > MAXIMUM_SNAPLEN) {
      throw damagedCapture(this.path, this.frames, `captured length ${caplen} is more than ${MAXIMUM_SNAPLEN} bytes, the most a capture frame holds`);
    }
    s.skip(headerBytes);
    const have = s.fill(caplen);
    if (have < caplen) throw truncatedCapture(this.path, this.frames, `its ${caplen} captured bytes: only ${have}`);
    const view = s.view(caplen);
    const data = copy ? Buffer.from(view) : view;
    s.skip(caplen);
    this.frames++;
    return { tsSec, tsFrac, caplen, origLen: Math.max(origLen, caplen), data };
  }
}

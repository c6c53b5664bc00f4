// Frames of a pcapng file (draft-ietf-opsawg-pcapng): sections in either byte order, interfaces and their timestamp options, EPB/SPB/OPB.
import type { ByteStream } from './byte-stream.ts';
import {
  CaptureError,
  damagedCapture,
  type FrameSource,
  keepWholeFrames,
  linkTypeName,
  MAXIMUM_SNAPLEN,
  PCAPNG_MAGIC,
  type PcapRecord,
  readU16,
  readU32,
  TWO_TO_32,
  truncatedCapture,
} from './capture-types.ts';

/** The largest block accepted: a frame of MAXIMUM_SNAPLEN plus generous room for options. */
const MAXIMUM_BLOCK = MAXIMUM_SNAPLEN + 1024 * 1024;
/** Block types this reader uses; every other block is skipped, as libpcap and Wireshark do. */
const BLOCK = { interface: 1, obsoletePacket: 2, simplePacket: 3, enhancedPacket: 6 } as const;
/** Interface Description Block options this reader uses. */
const IDB_OPTION = { tsresol: 9, tsoffset: 14 } as const;
const NANOS = 1_000_000_000n;

interface PcapngInterface {
  linkType: number;
  /** 0: no limit. */
  snaplen: number;
  /** Timestamp units per second is 10^decimals, or 2^binaryBits when decimals is undefined. */
  decimals: number | undefined;
  binaryBits: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSeconds: number;
}

/** One block, whole: its type, its body (without the type and the two length fields) and where it starts. */
interface Block {
  type: number;
  body: Buffer;
  at: number;
}

/** A pcapng timestamp (64-bit count of the interface's units) as seconds and nanoseconds, exactly. */
function pcapngTime(iface: PcapngInterface, high: number, low: number): { tsSec: number; tsFrac: number } {
  if (iface.decimals === 6 && high < 0x200000) {
    // Microseconds below 2^53 (until the year 2255): plain numbers, the common case, fast.
    const units = high * TWO_TO_32 + low;
    const tsSec = Math.floor(units / 1_000_000);
    return { tsSec: tsSec + iface.offsetSeconds, tsFrac: (units - tsSec * 1_000_000) * 1000 };
  }
  const units = (BigInt(high) << 32n) | BigInt(low);
  const perSecond = iface.decimals !== undefined ? 10n ** BigInt(iface.decimals) : 1n << BigInt(iface.binaryBits);
  const sec = units / perSecond;
  const nanos = ((units % perSecond) * NANOS) / perSecond;
  return { tsSec: Number(sec) + iface.offsetSeconds, tsFrac: Number(nanos) };
}

/**
 * A pcapng file's frames, at nanosecond precision whatever each interface's resolution. A file may hold several
 * sections (cat a.pcapng b.pcapng): each Section Header Block sets the byte order of its own blocks and starts a
 * new list of interfaces. Every frame must have the link type of the file's first interface. Constructed with
 * the stream's cursor at the first Section Header Block; reads up to the first Interface Description Block.
 */
export class PcapngFrames implements FrameSource {
  readonly linkType: number;
  readonly precision = 'nano';
  private readonly stream: ByteStream;
  private readonly path: string;
  /** The byte order of the current section, which its Section Header Block says. */
  private littleEndian = true;
  /** The current section's interfaces, by interface id. */
  private interfaces: PcapngInterface[] = [];
  private frames = 0;

  constructor(stream: ByteStream, path: string) {
    this.stream = stream;
    this.path = path;
    // The caller saw the section header's type at the cursor: the block is there, or the file is cut short.
    const first = this.readBlock();
    if (!first) throw new CaptureError(path, 'truncated capture: the file ends inside its pcapng section header; copy it again');
    this.startSection(first);
    this.linkType = this.firstInterface().linkType;
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

  private truncated(inside: string): CaptureError {
    return truncatedCapture(this.path, this.frames, inside);
  }

  private damaged(problem: string): CaptureError {
    return damagedCapture(this.path, this.frames, problem);
  }

  /** The block at the cursor, whole; consumes it. `null` at a clean end of the file. */
  private readBlock(): Block | null {
    const s = this.stream;
    const at = s.offset;
    const got = s.fill(8);
    if (got === 0) return null;
    if (got < 8) throw this.truncated(`a block header (${got} of 8 bytes)`);
    // A Section Header Block's type reads the same in both byte orders; its byte-order magic says how to read
    // its own length and every block after it, up to the next section.
    let head = s.view(8);
    if (head.readUInt32LE(0) === PCAPNG_MAGIC.sectionHeader) {
      this.readByteOrder(at);
      head = s.view(8); // readByteOrder may have moved the window
    }
    const type = this.u32(head, 0);
    const length = this.u32(head, 4);
    if (length < 12 || length % 4 !== 0 || length > MAXIMUM_BLOCK) {
      throw new CaptureError(
        this.path,
        `damaged pcapng block at byte ${at} after ${this.frames} whole frames (block length ${length}: ` +
          `${length > MAXIMUM_BLOCK ? `more than ${MAXIMUM_BLOCK}` : 'not a multiple of 4 of at least 12'}); check it with capinfos` +
          keepWholeFrames(this.path, this.frames),
      );
    }
    const have = s.fill(length);
    if (have < length) throw this.truncated(`a block (${have} of ${length} bytes)`);
    const whole = s.view(length);
    const trailing = this.u32(whole, length - 4);
    if (trailing !== length) {
      throw new CaptureError(
        this.path,
        `damaged pcapng block at byte ${at} after ${this.frames} whole frames (its trailing length ${trailing} is not ${length}); check it with capinfos`,
      );
    }
    s.skip(length);
    return { type, body: whole.subarray(8, length - 4), at };
  }

  /** Sets the byte order from the byte-order magic of the Section Header Block at byte `at` (the cursor). */
  private readByteOrder(at: number): void {
    const got = this.stream.fill(12);
    if (got < 12) {
      if (at === 0) {
        throw new CaptureError(this.path, `truncated capture: the file ends inside its pcapng section header (${got} of at least 28 bytes); copy it again`);
      }
      throw this.truncated(`a section header block (${got} of at least 28 bytes)`);
    }
    const head = this.stream.view(12);
    if (head.readUInt32LE(8) === PCAPNG_MAGIC.byteOrder) this.littleEndian = true;
    else if (head.readUInt32BE(8) === PCAPNG_MAGIC.byteOrder) this.littleEndian = false;
    else {
      throw new CaptureError(
        this.path,
        `damaged pcapng section header at byte ${at} (byte-order magic 0x${head.readUInt32LE(8).toString(16)}); check it with capinfos` +
          keepWholeFrames(this.path, this.frames),
      );
    }
  }

  /** A Section Header Block (its byte order already set): checks its version, forgets the last section's interfaces. */
  private startSection(block: Block): void {
    if (block.body.length < 16) {
      throw new CaptureError(
        this.path,
        `damaged pcapng section header at byte ${block.at} (shorter than 28 bytes); check it with capinfos${keepWholeFrames(this.path, this.frames)}`,
      );
    }
    const major = this.u16(block.body, 4);
    if (major !== 1) {
      throw new CaptureError(this.path, `pcapng version ${major}.${this.u16(block.body, 6)}, not 1.x; convert it with editcap -F pcap IN OUT`);
    }
    this.interfaces = [];
  }

  /** Reads blocks up to the first Interface Description Block (the link type comes from it); packet blocks cannot precede it. */
  private firstInterface(): PcapngInterface {
    while (this.interfaces.length === 0) {
      const block = this.readBlock();
      if (!block) break;
      if (block.type === BLOCK.interface) this.addInterface(block.body);
      else if (block.type === PCAPNG_MAGIC.sectionHeader) this.startSection(block);
      else if (block.type === BLOCK.enhancedPacket || block.type === BLOCK.simplePacket || block.type === BLOCK.obsoletePacket) {
        throw this.damaged('a packet block before any interface description block');
      }
    }
    const first = this.interfaces[0];
    if (!first) {
      throw new CaptureError(this.path, 'a pcapng capture with no interface description, so no link type and no frames; record one with tshark -w FILE');
    }
    return first;
  }

  private addInterface(body: Buffer): void {
    if (body.length < 8) throw this.damaged(`an interface description block of ${body.length + 12} bytes, shorter than 20`);
    const iface: PcapngInterface = { linkType: this.u16(body, 0), snaplen: this.u32(body, 4), decimals: 6, binaryBits: 0, offsetSeconds: 0 };
    for (let at = 8; at + 4 <= body.length; ) {
      const code = this.u16(body, at);
      const length = this.u16(body, at + 2);
      if (code === 0) break;
      if (at + 4 + length > body.length) throw this.damaged(`interface option ${code} runs past its block`);
      if (code === IDB_OPTION.tsresol && length >= 1) {
        const v = body[at + 4]!;
        if (v & 0x80) {
          iface.decimals = undefined;
          iface.binaryBits = v & 0x7f;
        } else {
          iface.decimals = v;
        }
      } else if (code === IDB_OPTION.tsoffset && length >= 8) {
        iface.offsetSeconds = Number(this.littleEndian ? body.readBigInt64LE(at + 4) : body.readBigInt64BE(at + 4));
      }
      at += 4 + length + ((4 - (length % 4)) % 4);
    }
    if ((iface.decimals !== undefined && iface.decimals > 19) || iface.binaryBits > 63) {
      const resolution = iface.decimals !== undefined ? `10^-${iface.decimals}` : `2^-${iface.binaryBits}`;
      throw this.damaged(`interface ${this.interfaces.length} has timestamp resolution ${resolution}, finer than a 64-bit timestamp can use`);
    }
    this.interfaces.push(iface);
  }

  next(copy: boolean): PcapRecord | null {
    for (;;) {
      const block = this.readBlock();
      if (!block) return null;
      const b = block.body;
      switch (block.type) {
        case PCAPNG_MAGIC.sectionHeader:
          this.startSection(block);
          continue;
        case BLOCK.interface:
          this.addInterface(b);
          continue;
        case BLOCK.enhancedPacket: {
          if (b.length < 20) throw this.damaged(`an enhanced packet block of ${b.length + 12} bytes, shorter than 32`);
          return this.packet(b, copy, this.u32(b, 0), this.u32(b, 4), this.u32(b, 8), this.u32(b, 12), this.u32(b, 16), 20);
        }
        case BLOCK.simplePacket: {
          if (b.length < 4) throw this.damaged(`a simple packet block of ${b.length + 12} bytes, shorter than 16`);
          const origLen = this.u32(b, 0);
          const iface = this.interfaces[0];
          if (!iface) throw this.damaged('a simple packet block before any interface description block');
          // No captured length and no timestamp: the data is the original frame up to the snaplen, padded to 4 bytes.
          const caplen = Math.min(origLen, b.length - 4, iface.snaplen || Infinity);
          return this.packet(b, copy, 0, undefined, undefined, caplen, origLen, 4);
        }
        case BLOCK.obsoletePacket: {
          if (b.length < 20) throw this.damaged(`a packet block of ${b.length + 12} bytes, shorter than 32`);
          return this.packet(b, copy, this.u16(b, 0), this.u32(b, 4), this.u32(b, 8), this.u32(b, 12), this.u32(b, 16), 20);
        }
        default:
          continue; // name resolution, statistics, decryption secrets, custom blocks: not frames
      }
    }
  }

  /**
   * A frame from a packet block whose data starts at `dataAt` in `body`; no timestamp (a simple packet block)
   * reads as 0. Plain arguments, not an object: this runs once per frame.
   */
  private packet(
    body: Buffer,
    copy: boolean,
    ifaceId: number,
    tsHigh: number | undefined,
    tsLow: number | undefined,
    caplen: number,
    origLen: number,
    dataAt: number,
  ): PcapRecord {
    const iface = this.interfaces[ifaceId];
    if (!iface) throw this.damaged(`its packet block names interface ${ifaceId}, but the section describes ${this.interfaces.length}`);
    if (caplen > body.length - dataAt) throw this.damaged(`captured length ${caplen} runs past the end of its ${body.length + 12}-byte block`);
    if (caplen > MAXIMUM_SNAPLEN) throw this.damaged(`captured length ${caplen} is more than ${MAXIMUM_SNAPLEN} bytes, the most a capture frame holds`);
    if (iface.linkType !== this.linkType) {
      throw new CaptureError(
        this.path,
        `frame ${this.frames + 1} is on interface ${ifaceId}, link type ${iface.linkType} (${linkTypeName(iface.linkType)}), and the first interface's is ` +
          `${this.linkType} (${linkTypeName(this.linkType)}); one capture, one link type: split it with tshark -r IN -Y 'frame.interface_id == ${ifaceId}' -w OUT`,
      );
    }
    const { tsSec, tsFrac } = tsHigh === undefined || tsLow === undefined ? { tsSec: 0, tsFrac: 0 } : pcapngTime(iface, tsHigh, tsLow);
    const view = body.subarray(dataAt, dataAt + caplen);
    this.frames++;
    return { tsSec, tsFrac, caplen, origLen: Math.max(origLen, caplen), data: copy ? Buffer.from(view) : view };
  }
}

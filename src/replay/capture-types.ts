// What the capture readers and the writer share: the frame record, CaptureError and its wordings, magic numbers, limits, link-type names.

export type TimestampPrecision = 'micro' | 'nano';

/** Units of `tsFrac` in one second. */
export const FRACTIONS_PER_SECOND: Readonly<Record<TimestampPrecision, number>> = { micro: 1_000_000, nano: 1_000_000_000 };

export interface PcapRecord {
  /**
   * Seconds since the epoch. A pcap file holds an unsigned 32-bit count; a pcapng file can say more (past
   * 2106-02-07) or less (before 1970, through if_tsoffset), which a pcap writer refuses.
   */
  tsSec: number;
  /**
   * Fraction of the second in micro- or nanoseconds, per the reader's precision. A damaged or fuzzed pcap file
   * can hold a value of a second or more (ts_usec 0xFFEA9138): it is passed on as it is, and written back so.
   */
  tsFrac: number;
  /** Bytes captured: `data.length`. */
  caplen: number;
  /** Length of the frame on the wire (>= caplen when the capture cut it short). */
  origLen: number;
  data: Buffer;
}

/** One capture format's frames, read from a stream whose cursor is past the file's header. */
export interface FrameSource {
  /** The LINKTYPE_ value of the capture (of its first interface, for pcapng). */
  readonly linkType: number;
  readonly precision: TimestampPrecision;
  /** Whole frames returned so far. */
  readonly framesRead: number;
  /**
   * The next frame, or null at a clean end. `copy` false: `data` is a view of the read window, valid only until
   * the next call. A file cut off or damaged inside a frame throws a CaptureError.
   */
  next(copy: boolean): PcapRecord | null;
}

/** A capture file that cannot be used: the message names the file, the problem and the fix, on one line. */
export class CaptureError extends Error {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'CaptureError';
    this.path = path;
  }
}

/** The largest frame read or written (libpcap's and Wireshark's MAXIMUM_SNAPLEN), also the written snaplen. */
export const MAXIMUM_SNAPLEN = 262_144;

export const TWO_TO_32 = 2 ** 32;

/** Magic numbers of the classic pcap file header, as a uint32 in the file's byte order. */
export const PCAP_MAGIC = {
  micro: 0xa1b2c3d4,
  nano: 0xa1b23c4d,
  /** Alexey Kuznetzov's modified pcap: microseconds, 24-byte record headers. libpcap reads it too. */
  modified: 0xa1b2cd34,
} as const;

/** pcapng: the Section Header Block's type (the same bytes in either byte order) and its byte-order magic. */
export const PCAPNG_MAGIC = { sectionHeader: 0x0a0d0d0a, byteOrder: 0x1a2b3c4d } as const;

/** LINKTYPE_ETHERNET. */
export const LINKTYPE_ETHERNET = 1;

/** Names of the link types seen in captures (tcpdump.org link-layer header types), for messages. */
const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'EN10MB',
  101: 'RAW',
  105: 'IEEE802_11',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIO',
  147: 'USER0',
  192: 'PPI',
  195: 'IEEE802_15_4',
  220: 'USB_LINUX_MMAPPED',
  228: 'IPV4',
  229: 'IPV6',
  249: 'NETLINK',
  263: 'WIRESHARK_UPPER_PDU',
  276: 'LINUX_SLL2',
};

/** A link type as a person reads it: `113 (LINUX_SLL)`. */
export function linkTypeName(linkType: number): string {
  return LINKTYPE_NAMES[linkType] ?? `LINKTYPE ${linkType}`;
}

/** How a path names stdin / stdout in messages. */
export const STDIO_PATH = '-';

/** `path` as one shell word, quoted only when it needs to be. */
function shellWord(path: string): string {
  return /^[\w./,:+-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

/** The editcap command that keeps the first `whole` frames of `path`, as advice appended to a message; '' for none. */
export function keepWholeFrames(path: string, whole: number, before = ''): string {
  return whole > 0 ? `, or keep the ${whole} whole frames${before} with editcap -r ${shellWord(path)} OUT 1-${whole}` : '';
}

/** The file ends inside frame `whole + 1`, inside `inside` (e.g. "its 16-byte record header: only 9"). */
export function truncatedCapture(path: string, whole: number, inside: string): CaptureError {
  return new CaptureError(
    path,
    `truncated capture: the file ends inside frame ${whole + 1}, after ${whole} whole frames (inside ${inside}); ` +
      `it was cut off while being written or copied: copy it again${keepWholeFrames(path, whole)}`,
  );
}

/** Frame `whole + 1` cannot be read: `problem` says why. */
export function damagedCapture(path: string, whole: number, problem: string): CaptureError {
  return new CaptureError(path, `frame ${whole + 1}: ${problem}; the file is damaged: check it with capinfos${keepWholeFrames(path, whole, ' before it')}`);
}

/** A 32-bit field in the byte order of the file or section being read. */
export function readU32(b: Buffer, at: number, littleEndian: boolean): number {
  return littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at);
}

/** A 16-bit field in the byte order of the file or section being read. */
export function readU16(b: Buffer, at: number, littleEndian: boolean): number {
  return littleEndian ? b.readUInt16LE(at) : b.readUInt16BE(at);
}

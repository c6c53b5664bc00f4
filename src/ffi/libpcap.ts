// libpcap (Debian's libpcap0.8) through koffi: the lazy loader, the one table of C signatures, and a pcap_next_ex that copies each frame out.
import koffi from 'koffi';
import { loadNativeLibrary } from './native-library.ts';

/** Library names tried in order; XDP_DECAP_LIBPCAP overrides them with one path. */
const LIBPCAP_CANDIDATES = [
  'libpcap.so.0.8', // Debian and Ubuntu (package libpcap0.8)
  '/usr/lib/x86_64-linux-gnu/libpcap.so.0.8',
  '/usr/lib/aarch64-linux-gnu/libpcap.so.0.8',
  'libpcap.so.1', // Fedora, Arch, Alpine
  'libpcap.so',
];

/** `PCAP_TSTAMP_PRECISION_*`: what the fraction of a second in a packet header counts. */
export const PCAP_TSTAMP_PRECISION = { micro: 0, nano: 1 } as const;
/** `PCAP_ERRBUF_SIZE` from pcap/pcap.h. */
export const PCAP_ERRBUF_SIZE = 256;
/** Return values of pcap_next_ex for a savefile (0, a live-capture timeout, never happens here). */
export const PCAP_NEXT_EX = { packet: 1, error: -1, endOfFile: -2 } as const;

/** `struct pcap_pkthdr`: a struct timeval (two C longs: 8 bytes each on x86_64 and aarch64), caplen, len. */
const PcapPkthdr = koffi.struct('pcap_pkthdr', { tv_sec: 'long', tv_frac: 'long', caplen: 'uint32_t', len: 'uint32_t' });

/** Byte offsets in `struct pcap_pkthdr` on this platform, from koffi's view of the C layout. */
export const PCAP_PKTHDR = {
  size: koffi.sizeof(PcapPkthdr),
  longSize: koffi.sizeof('long'),
  tsSec: koffi.offsetof(PcapPkthdr, 'tv_sec'),
  tsFrac: koffi.offsetof(PcapPkthdr, 'tv_frac'),
  caplen: koffi.offsetof(PcapPkthdr, 'caplen'),
  len: koffi.offsetof(PcapPkthdr, 'len'),
} as const;

/** A `pcap_t *` (koffi returns `void *` as a bigint address); branded so a dumper cannot be passed for it. */
export type PcapHandle = bigint & { readonly __pcap: 'pcap_t' };
/** A `pcap_dumper_t *`. */
export type PcapDumperHandle = bigint & { readonly __pcap: 'pcap_dumper_t' };

export interface LibpcapFunctions {
  /** `errbuf` (PCAP_ERRBUF_SIZE bytes) receives the reason when it returns null. */
  pcap_open_offline_with_tstamp_precision(path: string, precision: number, errbuf: Buffer): PcapHandle | null;
  /** libpcap's DLT_ value for the capture's LINKTYPE_ (the same number but for a few, e.g. LINKTYPE_RAW 101 is DLT_RAW 12). */
  pcap_datalink(p: PcapHandle): number;
  pcap_datalink_val_to_name(dlt: number): string | null;
  pcap_get_tstamp_precision(p: PcapHandle): number;
  /** `headerOut` and `dataOut` are pointer-sized Buffers that receive the two addresses (see PcapNextEx). */
  pcap_next_ex(p: PcapHandle, headerOut: Buffer, dataOut: Buffer): number;
  pcap_geterr(p: PcapHandle): string;
  pcap_close(p: PcapHandle): void;
  pcap_open_dead_with_tstamp_precision(dlt: number, snaplen: number, precision: number): PcapHandle | null;
  pcap_dump_open(p: PcapHandle, path: string): PcapDumperHandle | null;
  /** `header` is a `struct pcap_pkthdr` laid out per PCAP_PKTHDR. */
  pcap_dump(dumper: PcapDumperHandle, header: Buffer, data: Buffer): void;
  pcap_dump_flush(dumper: PcapDumperHandle): number;
  pcap_dump_close(dumper: PcapDumperHandle): void;
}

/** The one table of C signatures. pcap_next_ex's out-parameters are plain `void *` on purpose: see PcapNextEx. */
const SIGNATURES: Record<keyof LibpcapFunctions, string> = {
  pcap_open_offline_with_tstamp_precision: 'void *pcap_open_offline_with_tstamp_precision(const char *fname, unsigned int precision, void *errbuf)',
  pcap_datalink: 'int pcap_datalink(void *p)',
  pcap_datalink_val_to_name: 'const char *pcap_datalink_val_to_name(int dlt)',
  pcap_get_tstamp_precision: 'int pcap_get_tstamp_precision(void *p)',
  pcap_next_ex: 'int pcap_next_ex(void *p, void *pkt_header_out, void *pkt_data_out)',
  pcap_geterr: 'const char *pcap_geterr(void *p)',
  pcap_close: 'void pcap_close(void *p)',
  pcap_open_dead_with_tstamp_precision: 'void *pcap_open_dead_with_tstamp_precision(int linktype, int snaplen, unsigned int precision)',
  pcap_dump_open: 'void *pcap_dump_open(void *p, const char *fname)',
  pcap_dump: 'void pcap_dump(void *user, const void *h, const void *sp)',
  pcap_dump_flush: 'int pcap_dump_flush(void *p)',
  pcap_dump_close: 'void pcap_dump_close(void *p)',
};

let loaded: LibpcapFunctions | undefined;

/** Loads libpcap on first use; the error lists every path tried and says how to install it. */
export function libpcap(): LibpcapFunctions {
  loaded ??= loadNativeLibrary<LibpcapFunctions>({
    name: 'libpcap',
    candidates: LIBPCAP_CANDIDATES,
    envOverride: 'XDP_DECAP_LIBPCAP',
    fix: 'apt-get install libpcap0.8 (or set XDP_DECAP_LIBPCAP to the path of libpcap.so.0.8)',
    signatures: SIGNATURES,
  });
  return loaded;
}

/** The text in a filled errbuf, up to its NUL. */
export function errbufText(errbuf: Buffer): string {
  const end = errbuf.indexOf(0);
  return errbuf.toString('utf8', 0, end < 0 ? errbuf.length : end);
}

const POINTER_SIZE = 8;
/** Length of a window over libpcap's packet buffer: larger than nearly every frame, so it is made once per file. */
const DATA_WINDOW_BYTES = 256 * 1024;

/**
 * Reads one long at `offset` (8 bytes on LP64, 4 elsewhere) as a number; exact up to 2^53.
 * libpcap's savefile reader fills tv_sec from a signed 32-bit field, so it may be negative.
 */
function readLong(buf: Buffer, offset: number): number {
  return PCAP_PKTHDR.longSize === 8 ? buf.readUInt32LE(offset) + buf.readInt32LE(offset + 4) * 2 ** 32 : buf.readInt32LE(offset);
}

/** A native address from a pointer-sized slot, as a number (user-space addresses are below 2^48, so exact). */
function readAddress(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 2 ** 32;
}

/**
 * pcap_next_ex on one handle, with the header decoded and the frame copied out of libpcap's buffer.
 *
 * Cost, measured on a 100k-frame VXLAN capture (~730 bytes a frame, page cache warm, Node 24, AMD EPYC):
 * - koffi `_Out_ void **` parameters: 1.1 µs a call before anything is decoded. Two plain `void *`
 *   parameters pointing into one reused 16-byte Buffer: 0.4 µs.
 * - The header lives in the pcap_t (`&p->pcap_header`) and the data in its read buffer (`p->buffer`), so both
 *   addresses are the same for every frame of a file (the buffer moves only when libpcap grows it). One
 *   koffi.view per address, made when the address changes, then plain Buffer reads and one copy: ~0.3 µs a
 *   frame. A fresh koffi.view per frame leaks ~480 bytes of native memory each (48 MB per 100k frames),
 *   and a libc memcpy per frame costs two more FFI calls (~1.8 µs a frame in all).
 * A window is never read beyond the `caplen` bytes libpcap just returned, so its length may exceed the
 * allocation behind it; windows are dropped before pcap_close (release()).
 */
export class PcapNextEx {
  /** Seconds of the current frame's timestamp (libpcap's value: see readLong). */
  tsSec = 0;
  /** Fraction of the second, in the handle's precision (micro- or nanoseconds). */
  tsFrac = 0;
  caplen = 0;
  /** Length of the frame on the wire. */
  origLen = 0;

  private readonly handle: PcapHandle;
  private readonly lib: LibpcapFunctions;
  private readonly pointers = Buffer.alloc(2 * POINTER_SIZE);
  private readonly headerOut = this.pointers.subarray(0, POINTER_SIZE);
  private readonly dataOut = this.pointers.subarray(POINTER_SIZE);
  private headerAddress = -1;
  private header: Buffer = Buffer.alloc(0);
  private windowAddress = -1;
  private window: Buffer = Buffer.alloc(0);
  private dataOffset = 0;

  constructor(handle: PcapHandle) {
    this.handle = handle;
    this.lib = libpcap();
  }

  /** Calls pcap_next_ex: PCAP_NEXT_EX.packet (fields set), .endOfFile, or .error (pcap_geterr says why). */
  next(): number {
    const status = this.lib.pcap_next_ex(this.handle, this.headerOut, this.dataOut);
    if (status !== PCAP_NEXT_EX.packet) return status;
    const headerAddress = readAddress(this.pointers, 0);
    if (headerAddress !== this.headerAddress) {
      this.header = Buffer.from(koffi.view(BigInt(headerAddress), PCAP_PKTHDR.size));
      this.headerAddress = headerAddress;
    }
    const h = this.header;
    this.tsSec = readLong(h, PCAP_PKTHDR.tsSec);
    this.tsFrac = readLong(h, PCAP_PKTHDR.tsFrac);
    this.caplen = h.readUInt32LE(PCAP_PKTHDR.caplen);
    this.origLen = h.readUInt32LE(PCAP_PKTHDR.len);
    if (this.caplen === 0) return status;
    const dataAddress = readAddress(this.pointers, POINTER_SIZE);
    const offset = dataAddress - this.windowAddress;
    if (this.windowAddress < 0 || offset < 0 || offset + this.caplen > this.window.length) {
      this.window = Buffer.from(koffi.view(BigInt(dataAddress), Math.max(this.caplen, DATA_WINDOW_BYTES)));
      this.windowAddress = dataAddress;
      this.dataOffset = 0;
    } else {
      this.dataOffset = offset;
    }
    return status;
  }

  /** A copy of the current frame's captured bytes (valid until the next call to next()). */
  copyData(): Buffer {
    if (this.caplen === 0) return Buffer.alloc(0);
    const data = Buffer.allocUnsafe(this.caplen);
    this.window.copy(data, 0, this.dataOffset, this.dataOffset + this.caplen);
    return data;
  }

  /** Drops the views into libpcap's memory; call before pcap_close frees it. */
  release(): void {
    this.header = Buffer.alloc(0);
    this.window = Buffer.alloc(0);
    this.headerAddress = -1;
    this.windowAddress = -1;
  }
}

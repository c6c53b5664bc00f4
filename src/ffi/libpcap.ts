// libpcap (Debian's libpcap0.8) through koffi: the lazy loader and the signatures replay uses to read and write captures.
import koffi from 'koffi';
import { loadNativeLibrary } from './native-library.ts';

const LIBPCAP_CANDIDATES = ['libpcap.so.0.8', '/usr/lib/x86_64-linux-gnu/libpcap.so.0.8', '/usr/lib/aarch64-linux-gnu/libpcap.so.0.8', 'libpcap.so.1', 'libpcap.so'];

export const PCAP_TSTAMP_PRECISION = { micro: 0, nano: 1 } as const;
export const PCAP_ERRBUF_SIZE = 256;

/** `struct pcap_pkthdr` on LP64 Linux: struct timeval (two longs), caplen, len. */
export const PCAP_PKTHDR = { size: 24, tsSec: 0, tsFrac: 8, caplen: 16, len: 20 } as const;

export type PcapHandle = bigint;

export interface LibpcapFunctions {
  pcap_open_offline_with_tstamp_precision(path: string, precision: number, errbuf: Buffer): PcapHandle | null;
  pcap_datalink(p: PcapHandle): number;
  pcap_datalink_val_to_name(linkType: number): string | null;
  pcap_next_ex(p: PcapHandle, header: [bigint | null], data: [bigint | null]): number;
  pcap_geterr(p: PcapHandle): string;
  pcap_close(p: PcapHandle): void;
  pcap_open_dead_with_tstamp_precision(linkType: number, snaplen: number, precision: number): PcapHandle | null;
  pcap_dump_open(p: PcapHandle, path: string): bigint | null;
  pcap_dump(dumper: bigint, header: Buffer, data: Buffer): void;
  pcap_dump_flush(dumper: bigint): number;
  pcap_dump_close(dumper: bigint): void;
}

const SIGNATURES: Record<keyof LibpcapFunctions, string> = {
  pcap_open_offline_with_tstamp_precision: 'void *pcap_open_offline_with_tstamp_precision(const char *fname, unsigned int precision, void *errbuf)',
  pcap_datalink: 'int pcap_datalink(void *p)',
  pcap_datalink_val_to_name: 'const char *pcap_datalink_val_to_name(int dlt)',
  pcap_next_ex: 'int pcap_next_ex(void *p, _Out_ void **pkt_header, _Out_ void **pkt_data)',
  pcap_geterr: 'const char *pcap_geterr(void *p)',
  pcap_close: 'void pcap_close(void *p)',
  pcap_open_dead_with_tstamp_precision: 'void *pcap_open_dead_with_tstamp_precision(int linktype, int snaplen, unsigned int precision)',
  pcap_dump_open: 'void *pcap_dump_open(void *p, const char *fname)',
  pcap_dump: 'void pcap_dump(void *user, const void *h, const void *sp)',
  pcap_dump_flush: 'int pcap_dump_flush(void *p)',
  pcap_dump_close: 'void pcap_dump_close(void *p)',
};

let loaded: LibpcapFunctions | undefined;

/** Loads libpcap once; the error lists every path tried and how to install it. */
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

let memcpy: ((dst: Buffer, src: bigint, n: number) => bigint) | undefined;

/**
 * Copies `length` bytes of native memory at `ptr` into `into` (or a new Buffer) with libc's memcpy.
 * (koffi.view would avoid the call, but each view leaves native memory behind: ~400 bytes a frame,
 * which a million-frame replay cannot afford; bench/replay-memory.ts measures it.)
 */
export function copyNative(ptr: bigint, length: number, into: Buffer = Buffer.allocUnsafe(length)): Buffer {
  memcpy ??= koffi.load('libc.so.6').func('void *memcpy(void *dst, const void *src, size_t n)') as unknown as typeof memcpy;
  memcpy!(into, ptr, length);
  return into.subarray(0, length);
}

// The capture formats as the rest of xdp-decap uses them: the reader (pcap and pcapng), the pcap writer, the record and CaptureError.
export { PcapReader, readCapture } from './capture-reader.ts';
export { CaptureError, FRACTIONS_PER_SECOND, type PcapRecord, type TimestampPrecision } from './capture-types.ts';
export { PcapWriter } from './pcap-writer.ts';

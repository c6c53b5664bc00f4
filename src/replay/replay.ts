// `xdp-decap replay`: every frame of a capture through the real program with BPF_PROG_TEST_RUN, streamed.

import { SKIP_REASONS, type SkipReason, type TunnelType } from '../decode/layout.ts';
import { BpfError } from '../ffi/errors.ts';
import { type DataplaneSettings, DecapProgram, type MapCapacities } from '../program/decap-program.ts';
import { PcapReader } from './capture-reader.ts';
import { CaptureError, LINKTYPE_ETHERNET } from './capture-types.ts';
import { type OutputFile, openOutput } from './output-file.ts';
import { PcapWriter } from './pcap-writer.ts';

/** The last second a pcap file can hold: 2^32 - 1 seconds after 1970, 2106-02-07T06:28:15Z. */
const LAST_PCAP_SECOND = 2 ** 32 - 1;
/** BPF_PROG_TEST_RUN refuses XDP input shorter than an Ethernet header. */
const MIN_TEST_RUN_BYTES = 14;

/**
 * Frames the kernel's test-run refused, written unchanged: shorter than an Ethernet header, or longer than the
 * XDP frame BPF_PROG_TEST_RUN builds, one page less its head- and tailroom plus MAX_SKB_FRAGS pages of fragments
 * (73,152 bytes with 4 KiB pages and 17 fragments; a larger one gets ENOMEM before the program runs). Replay-only
 * reason.
 */
export const REPLAY_REFUSED = 'test_run_refused';

export interface ReplayVni {
  vni: number;
  type: TunnelType;
  packets: number;
  /** Inner frame bytes. */
  bytes: number;
  overheadBytes: number;
  flows: number;
}

/** The summary, exactly as `--json` prints it. */
export interface ReplaySummary {
  frames: number;
  decapsulated: number;
  skipped: Record<SkipReason | typeof REPLAY_REFUSED, number>;
  vnis: ReplayVni[];
}

export interface ReplayOptions {
  /** A pcap or pcapng file, a FIFO, or `-` for stdin: read once. */
  input: string;
  /** A pcap file to create or replace (a regular file, not the input), or `-` for stdout. */
  output: string;
  dataplane: DataplaneSettings;
  capacities: MapCapacities;
  /** Called every `progressEvery` frames. */
  onProgress?: (frames: number) => void;
  progressEvery?: number;
  /** Called once per frame the kernel refused to run, with a one-line reason. */
  onRefused?: (frameNumber: number, reason: string) => void;
}

/** A frame the kernel would not run: return the one-line reason, or rethrow what is not that. */
function refusalReason(err: unknown, length: number): string {
  if (!(err instanceof BpfError)) throw err;
  if (err.code === 'ENOMEM' || err.code === 'E2BIG') {
    return `${length} bytes: BPF_PROG_TEST_RUN refused it (${err.code}); larger than this kernel's XDP test-run limit (a page and its fragments)`;
  }
  // Not a size the kernel names: say what it said, no guess.
  if (err.code === 'EINVAL' || err.code === 'ENOSPC') return `${length} bytes: BPF_PROG_TEST_RUN refused it (${err.code})`;
  throw err;
}

/** A timestamp the pcap output cannot hold: one line naming the frame, the time and the fix. */
function timestampProblem(input: string, frame: number, tsSec: number): CaptureError {
  const when = Math.abs(tsSec) < 8.64e12 ? new Date(tsSec * 1000).toISOString().replace('.000Z', 'Z') : `${tsSec} s after 1970`;
  const side = tsSec < 0 ? 'before 1970, which a pcap file cannot hold' : 'after 2106-02-07T06:28:15Z, the last second a pcap file can hold';
  return new CaptureError(
    input,
    `frame ${frame} has timestamp ${when}, ${side}; replay writes pcap: shift the times first, ` +
      `by at least ${tsSec < 0 ? -tsSec : tsSec - LAST_PCAP_SECOND} seconds: editcap -t ${tsSec < 0 ? -tsSec : -(tsSec - LAST_PCAP_SECOND)} IN OUT`,
  );
}

/**
 * Replays `input` into `output` and returns the summary. The input is opened and read once; the output is
 * checked (a regular file or absent, not the input), written to an exclusive temporary file beside it and
 * renamed at the end, so a bad or truncated capture leaves nothing behind.
 */
export function replayCapture(options: ReplayOptions): ReplaySummary {
  const reader = PcapReader.open(options.input);
  let out: OutputFile | undefined;
  let writer: PcapWriter | undefined;
  let program: DecapProgram | undefined;
  let refused = 0;
  let frames = 0;
  try {
    if (reader.linkType !== LINKTYPE_ETHERNET) {
      throw new CaptureError(
        reader.path,
        `link type ${reader.linkType} (${reader.linkTypeName}) is not Ethernet; replay needs an Ethernet capture ` +
          `(LINKTYPE_ETHERNET), e.g. tcpdump -i IFACE rather than -i any`,
      );
    }
    out = openOutput(options.output, reader.stat);
    program = DecapProgram.load(options.dataplane, options.capacities);
    writer = PcapWriter.onDescriptor(out.fd, out.path, { linkType: reader.linkType, precision: reader.precision, ownsFd: false });
    const every = options.progressEvery ?? 65536;
    // Each frame is run and written before the next is read: a view of the reader's window is enough.
    for (let record = reader.nextView(); record; record = reader.nextView()) {
      frames++;
      if (record.tsSec < 0 || record.tsSec > LAST_PCAP_SECOND) throw timestampProblem(reader.path, frames, record.tsSec);
      let data = record.data;
      if (data.length < MIN_TEST_RUN_BYTES) {
        refused++;
        options.onRefused?.(frames, `${data.length} bytes: shorter than an Ethernet header, BPF_PROG_TEST_RUN needs ${MIN_TEST_RUN_BYTES}`);
      } else {
        try {
          data = program.program.testRun(data).dataOut;
        } catch (err) {
          refused++;
          options.onRefused?.(frames, refusalReason(err, data.length));
        }
      }
      const removed = record.data.length - data.length;
      writer.write({ ...record, data, caplen: data.length, origLen: Math.max(data.length, record.origLen - removed) });
      if (options.onProgress && frames % every === 0) options.onProgress(frames);
    }
    writer.close();
    out.commit();
    return summarize(program, frames, refused);
  } catch (err) {
    try {
      writer?.close();
    } catch {
      // the first error is the one to report
    }
    out?.abort();
    throw err;
  } finally {
    reader.close();
    program?.close();
  }
}

function summarize(program: DecapProgram, frames: number, refused: number): ReplaySummary {
  const counters = program.readCounters();
  const skipped = Object.fromEntries([...SKIP_REASONS, REPLAY_REFUSED].map((r) => [r, 0])) as ReplaySummary['skipped'];
  skipped[REPLAY_REFUSED] = refused;
  let decapsulated = 0;
  for (const o of counters.outcomes) {
    if (o.outcome === 'decapsulated') decapsulated += o.packets;
    else skipped[o.outcome] += o.packets;
  }
  // Replay runs every frame on one ingress device, so (type, VNI) identifies a row.
  const vnis = counters.vnis
    .map((v) => ({ vni: v.vni, type: v.tunnelType, packets: v.packets, bytes: v.bytes, overheadBytes: v.overheadBytes, flows: v.flows }))
    .sort((a, b) => a.vni - b.vni || a.type.localeCompare(b.type));
  return { frames, decapsulated, skipped, vnis };
}

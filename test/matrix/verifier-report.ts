// The kernel matrix's verifier step: loads every build the packages ship on this kernel; prints JSON (loads or why, cost, choice).

import { release } from 'node:os';
import { basename } from 'node:path';
import { MAP_NAMES, PROGRAM_NAME } from '../../src/decode/layout.ts';
import { BpfLoadError, BpfObject } from '../../src/ffi/bpf-object.ts';
import { verifierStats } from '../../src/ffi/verifier-log.ts';
import { programSize } from '../../src/ffi/xdp.ts';
import { bpfObjectPath, DEFAULT_CAPACITIES, DecapProgram } from '../../src/program/decap-program.ts';

/** BPF_LOG_STATS: the verifier's statistics of a load that succeeds, without its instruction-by-instruction log. */
const LOG_STATS = 4;

export interface BuildReport {
  object: string;
  loaded: boolean;
  /** Wall time of bpf_object__load (maps, BTF, relocations and the verifier). */
  loadMillis: number;
  verificationMicros?: number;
  /** Instructions the verifier processed (its log's count, every function of the program included). */
  processedInsns?: number;
  peakStates?: number;
  /** The program's size after verification, and in machine code. */
  xlatedInsns?: number;
  jitedBytes?: number;
  errno?: string;
  reason?: string[];
}

export interface VerifierReport {
  kernel: string;
  builds: BuildReport[];
  /** What `xdp-decap run` loads here, and the line it logs about it. */
  choice: { object: string; note: string } | { error: string };
}

function loadOnce(path: string, logLevel: number): { object: BpfObject; millis: number } {
  const object = BpfObject.open(path, { logLevel });
  object.setMaxEntries(MAP_NAMES.vniStats, DEFAULT_CAPACITIES.vniCapacity);
  object.setMaxEntries(MAP_NAMES.flows, DEFAULT_CAPACITIES.flowCapacity);
  const t0 = process.hrtime.bigint();
  try {
    object.load();
  } catch (err) {
    object.close();
    throw err;
  }
  return { object, millis: Number(process.hrtime.bigint() - t0) / 1e6 };
}

function reportBuild(path: string): BuildReport {
  const object = basename(path);
  const t0 = process.hrtime.bigint();
  try {
    const loaded = loadOnce(path, LOG_STATS);
    try {
      const stats = loaded.object.verifierStats();
      const size = programSize(loaded.object.program(PROGRAM_NAME).fd);
      return { object, loaded: true, loadMillis: Math.round(loaded.millis), ...stats, xlatedInsns: size.xlatedInsns, jitedBytes: size.jitedBytes };
    } finally {
      loaded.object.close();
    }
  } catch (err) {
    if (!(err instanceof BpfLoadError)) throw err;
    const millis = Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
    // Loaded again at level 0: on a refusal libbpf then asks for the full log, with the refused instruction's source.
    let why = err;
    try {
      loadOnce(path, 0).object.close();
    } catch (again) {
      if (again instanceof BpfLoadError) why = again;
    }
    return { object, loaded: false, loadMillis: millis, ...verifierStats(err.verifierLog), errno: why.code, reason: [...why.reason] };
  }
}

function choice(): VerifierReport['choice'] {
  try {
    const program = DecapProgram.load();
    program.close();
    return { object: basename(program.objectPath), note: program.buildNote };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const report: VerifierReport = { kernel: release(), builds: ['decap', 'decap-compat'].map((b) => reportBuild(bpfObjectPath(b))), choice: choice() };
console.log(JSON.stringify(report, null, 2));

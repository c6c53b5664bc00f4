// Loads the real decap program for kernel tests and measures what one frame did to its counters.
import { parsePrefix } from '../../src/config/prefixes.ts';
import type { CounterSnapshot } from '../../src/decode/counter-snapshot.ts';
import type { Outcome } from '../../src/decode/layout.ts';
import { type DataplaneSettings, DEFAULT_DATAPLANE, DecapProgram } from '../../src/program/decap-program.ts';

export interface FrameResult {
  retval: number;
  out: Buffer;
  /** Outcomes whose packet count changed, with the change. */
  outcomes: Partial<Record<Outcome, number>>;
  /** Per (type/vni) changes of packets, bytes, overhead, flows. */
  vnis: Record<string, { packets: number; bytes: number; overheadBytes: number; flows: number }>;
}

function totals(s: CounterSnapshot) {
  const outcomes = new Map<Outcome, number>();
  for (const o of s.outcomes) outcomes.set(o.outcome, (outcomes.get(o.outcome) ?? 0) + o.packets);
  const vnis = new Map<string, { packets: number; bytes: number; overheadBytes: number; flows: number }>();
  for (const v of s.vnis) vnis.set(`${v.tunnelType}/${v.vni}`, { packets: v.packets, bytes: v.bytes, overheadBytes: v.overheadBytes, flows: v.flows });
  return { outcomes, vnis };
}

/** Settings as a test writes them: prefixes as text, the rest as DataplaneSettings has it, defaults for what is left out. */
export type TestSettings = Partial<Omit<DataplaneSettings, 'decapPrefixes' | 'excludePrefixes'>> & {
  decapPrefixes?: readonly string[];
  excludePrefixes?: readonly string[];
};

/** The DataplaneSettings a test means: its settings over the defaults, prefixes parsed as the config parses them. */
export function dataplane(s: TestSettings = {}): DataplaneSettings {
  return {
    ...DEFAULT_DATAPLANE,
    ...s,
    decapPrefixes: (s.decapPrefixes ?? []).map(parsePrefix),
    excludePrefixes: (s.excludePrefixes ?? []).map(parsePrefix),
  };
}

/** A loaded program plus helpers; close() it in `after`. */
export class ProgramUnderTest {
  readonly program: DecapProgram;

  /** `objectPath`: a given build (e.g. build/decap-compat.bpf.o); the program for this kernel without it. */
  constructor(settings: TestSettings = {}, capacities = { vniCapacity: 1024, flowCapacity: 4096 }, objectPath?: string) {
    this.program = DecapProgram.load(dataplane(settings), capacities, objectPath);
  }

  /** Runs one frame and reports the output and the counter changes it caused. */
  run(frame: Buffer): FrameResult {
    const before = totals(this.program.readCounters());
    const { retval, dataOut } = this.program.program.testRun(frame);
    const after = totals(this.program.readCounters());
    const outcomes: FrameResult['outcomes'] = {};
    for (const [o, n] of after.outcomes) {
      const d = n - (before.outcomes.get(o) ?? 0);
      if (d !== 0) outcomes[o] = d;
    }
    const vnis: FrameResult['vnis'] = {};
    for (const [k, v] of after.vnis) {
      const b = before.vnis.get(k) ?? { packets: 0, bytes: 0, overheadBytes: 0, flows: 0 };
      if (v.packets !== b.packets || v.flows !== b.flows) {
        vnis[k] = { packets: v.packets - b.packets, bytes: v.bytes - b.bytes, overheadBytes: v.overheadBytes - b.overheadBytes, flows: v.flows - b.flows };
      }
    }
    return { retval, out: Buffer.from(dataOut), outcomes, vnis };
  }

  close(): void {
    this.program.close();
  }
}

export const XDP_PASS = 2;

// Reads a load's diagnostics: the verifier's statistics, and the few lines that say why an object did not load.

/** What the verifier reports at the end of every log (BPF_LOG_STATS, or any level on a failure). */
export interface VerifierStats {
  /** Instructions the verifier processed (every path, every state): what its 1M-instruction limit counts. */
  processedInsns?: number;
  /** Verification time as the kernel measured it, in microseconds. */
  verificationMicros?: number;
  totalStates?: number;
  peakStates?: number;
}

const STATS = /^processed (\d+) insns \(limit \d+\) max_states_per_insn \d+ total_states (\d+) peak_states (\d+)/;
const TIME = /^verification time (\d+) usec/;

/** The statistics lines of a verifier log (the last of each, for a log that holds several programs). */
export function verifierStats(log: string): VerifierStats {
  const stats: VerifierStats = {};
  for (const line of log.split('\n')) {
    const s = STATS.exec(line);
    if (s) {
      stats.processedInsns = Number(s[1]);
      stats.totalStates = Number(s[2]);
      stats.peakStates = Number(s[3]);
    }
    const t = TIME.exec(line);
    if (t) stats.verificationMicros = Number(t[1]);
  }
  return stats;
}

/** Lines that close every log whatever went wrong: statistics and libbpf's frame around the kernel's log. */
const TRAILER = [STATS, TIME, /^stack depth /, /^-- (BEGIN|END) PROG LOAD LOG --$/, /^\s*$/];

/** libbpf warnings that only repeat that something failed, not what. */
const GENERIC_WARNINGS = [/failed to load object/, /^prog '[^']+': (BPF program load failed|failed to load)/];

/**
 * Why a load failed, in the few lines that say it: libbpf's own reason when it stopped before the kernel (a
 * kfunc or a relocation this kernel lacks), else the verifier's last lines (the refused instruction, its
 * source line and the verdict), without the statistics that close every log.
 */
export function loadFailureReason(log: string, libbpfWarnings: readonly string[], maxLines = 4): string[] {
  const warnings: string[] = [];
  let inLog = false; // libbpf repeats the kernel's log between BEGIN and END markers: it is read from `log`
  for (const raw of libbpfWarnings) {
    const line = raw.replace(/^libbpf: /, '').trim();
    if (/-- BEGIN PROG LOAD LOG --/.test(line)) inLog = true;
    else if (/-- END PROG LOAD LOG --/.test(line)) inLog = false;
    else if (!inLog && line && !GENERIC_WARNINGS.some((re) => re.test(line))) warnings.push(line);
  }
  const lines = log.split('\n');
  while (lines.length > 0 && TRAILER.some((re) => re.test(lines[lines.length - 1]!))) lines.pop();
  const tail = lines.slice(-maxLines + 1).filter((line) => !TRAILER.some((re) => re.test(line)));
  // The source line of the refused instruction (clang's `; code @ file:line` annotation), if the tail lacks it.
  if (tail.length > 0 && !tail.some((line) => line.startsWith(';'))) {
    const source = lines
      .slice(0, lines.length - tail.length)
      .reverse()
      .find((line) => line.startsWith('; '));
    if (source) tail.unshift(source);
  }
  if (tail.length > 0) return [...warnings.filter((w) => !tail.includes(w)).slice(-1), ...tail];
  return warnings.slice(-maxLines);
}

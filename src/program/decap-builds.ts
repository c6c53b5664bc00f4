// Which build of the decap program this kernel runs and why, the oldest kernel supported, and the errors of a load.
import { release } from 'node:os';
import { BpfLoadError } from '../ffi/bpf-object.ts';
import { type KernelFunctionProbe, probeKernelFunction } from '../ffi/btf.ts';
import { BpfError } from '../ffi/errors.ts';

/**
 * The oldest kernel xdp-decap runs on: the oldest one the kernel matrix boots and tests (Debian 12's 6.1;
 * scripts/kernel-matrix.sh). plugin.json, the README and the packages say the same (test/unit/kernel-floor.test.ts).
 */
const MIN_KERNEL = { major: 6, minor: 1 } as const;
export const MIN_KERNEL_TEXT = `${MIN_KERNEL.major}.${MIN_KERNEL.minor}`;

/** The kfunc build/decap.bpf.o reads the frame length with (Linux 6.2+); build/decap-compat.bpf.o does without. */
const FRAME_LENGTH_KFUNC = 'bpf_cast_to_kern_ctx';

/** A kernel older than MIN_KERNEL: said in one line before anything is loaded. */
export class KernelTooOldError extends Error {
  constructor(kernel: string) {
    super(
      `this kernel is Linux ${kernel}; xdp-decap needs Linux ${MIN_KERNEL_TEXT} or newer (the oldest kernel it is tested on, Debian 12's): upgrade the kernel`,
    );
    this.name = 'KernelTooOldError';
  }
}

/** Throws KernelTooOldError for a release below MIN_KERNEL; a release it cannot read is left to the load to judge. */
export function checkKernelRelease(kernel = release()): void {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (!m) return;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < MIN_KERNEL.major || (major === MIN_KERNEL.major && minor < MIN_KERNEL.minor)) throw new KernelTooOldError(kernel);
}

/** The builds to try, best first, and why in that order. */
export interface BuildPlan {
  candidates: string[];
  reason: string;
}

/** The object files of the two builds (paths), and the one XDP_DECAP_BPF_OBJECT names, if set. */
export interface BuildFiles {
  decap: string;
  compat?: string;
  override?: string;
}

/**
 * Orders the builds by what the kernel has: decap.bpf.o needs FRAME_LENGTH_KFUNC in the kernel's BTF, which
 * libbpf resolves at load; without it only decap-compat.bpf.o can load, so it alone is tried.
 */
export function planDecapBuilds(files: BuildFiles, probe: KernelFunctionProbe = probeKernelFunction(FRAME_LENGTH_KFUNC)): BuildPlan {
  if (files.override) return { candidates: [files.override], reason: 'XDP_DECAP_BPF_OBJECT names it' };
  if (!files.compat) return { candidates: [files.decap], reason: 'the only build installed' };
  if (!probe.known) return { candidates: [files.decap, files.compat], reason: `${probe.reason}; trying the Linux 6.2+ build first` };
  if (probe.present) {
    return { candidates: [files.decap, files.compat], reason: `this kernel has ${FRAME_LENGTH_KFUNC} (Linux 6.2+): the frame length without a helper call` };
  }
  return {
    candidates: [files.compat],
    reason: `this kernel lacks ${FRAME_LENGTH_KFUNC} (Linux before 6.2): the frame length by a helper call, a few ns more per packet`,
  };
}

/** One build that did not load, and why. */
export interface LoadAttempt {
  path: string;
  error: unknown;
}

/** No build loaded: each one tried, with the lines that say why (never a bare errno). */
export class DecapLoadError extends Error {
  readonly attempts: readonly LoadAttempt[];
  /** Every attempt failed for lack of privilege (EPERM): the fix is the same for all, said once. */
  readonly permissionDenied: boolean;

  constructor(attempts: readonly LoadAttempt[], kernel = release()) {
    const permissionDenied = attempts.length > 0 && attempts.every((a) => a.error instanceof BpfError && a.error.code === 'EPERM');
    super(
      permissionDenied
        ? 'loading the decap program: EPERM (operation not permitted)'
        : [`no build of the decap program loads on this kernel (Linux ${kernel}):`, ...attempts.map(describeAttempt)].join('\n'),
    );
    this.name = 'DecapLoadError';
    this.attempts = attempts;
    this.permissionDenied = permissionDenied;
  }
}

/** `  decap.bpf.o: EACCES, the verifier said:` and the indented lines that matter. */
function describeAttempt(a: LoadAttempt): string {
  const file = a.path.split('/').pop() ?? a.path;
  if (a.error instanceof BpfLoadError) {
    const why = a.error.reason.length > 0 ? a.error.reason : ['(neither libbpf nor the verifier said why)'];
    return `  ${file}: ${a.error.code}, ${a.error.verifierLog.trim() ? 'the verifier said' : 'libbpf said'}:\n${why.map((l) => `      ${l}`).join('\n')}`;
  }
  return `  ${file}: ${a.error instanceof Error ? a.error.message.split('\n')[0] : String(a.error)}`;
}

/** The value of the first candidate that loads, which one it was, and the ones that did not load before it. */
export function loadFirstThatLoads<T>(candidates: readonly string[], load: (path: string) => T): { value: T; path: string; failed: LoadAttempt[] } {
  const failed: LoadAttempt[] = [];
  for (const path of candidates) {
    try {
      return { value: load(path), path, failed };
    } catch (error) {
      if (!(error instanceof BpfError)) throw error; // a bug, not this kernel's refusal: never hidden in the list
      failed.push({ path, error });
    }
  }
  throw new DecapLoadError(failed);
}

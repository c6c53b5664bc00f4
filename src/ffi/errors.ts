// The one error type of the native bindings: which operation, on which object, and the errno behind it.
import { constants, platform } from 'node:os';

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** Short descriptions for the errno values BPF calls commonly return, with the usual fix. */
const ERRNO_HINTS: Record<string, string> = {
  EPERM: 'operation not permitted: run as root or grant CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON',
  EACCES: 'permission denied (for a program load: the verifier rejected it)',
  ENOENT: 'no such entry',
  EEXIST: 'already exists',
  E2BIG: 'too big (map full, or larger than the kernel accepts)',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left (buffer or map too small)',
  ENODEV: 'no such device',
  EBUSY: 'device or resource busy (another XDP program is attached?)',
  EOPNOTSUPP: 'operation not supported (by this kernel or driver)',
  ENOTSUP: 'operation not supported (by this kernel or driver)',
  ENOMEM: 'out of memory (or RLIMIT_MEMLOCK too low on an old kernel)',
  EFAULT: 'bad address',
};

/** Turns an errno number into `ENAME (description)`. */
export function describeErrno(errno: number): string {
  const name = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const hint = ERRNO_HINTS[name];
  return hint ? `${name} (${hint})` : name;
}

/** Failure of a libbpf or kernel BPF call. `errno` is positive. */
export class BpfError extends Error {
  readonly operation: string;
  readonly object: string;
  readonly errno: number;
  readonly code: string;

  constructor(operation: string, object: string, errno: number, detail?: string) {
    const what = object ? `${operation} ${object}` : operation;
    super(`${what}: ${describeErrno(errno)}${detail ? `\n${detail}` : ''}`);
    this.name = 'BpfError';
    this.operation = operation;
    this.object = object;
    this.errno = errno;
    this.code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  }
}

/** A native library could not be loaded at all. */
export class NativeLibraryError extends Error {
  constructor(library: string, tried: readonly string[], fix: string, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause ?? '');
    super(`cannot load ${library} on ${platform()}; tried: ${tried.join(', ')}${reason ? ` (last error: ${reason})` : ''}. Fix: ${fix}`);
    this.name = 'NativeLibraryError';
  }
}

/**
 * The one choke point for libbpf's return convention (libbpf 1.x: a negative errno on failure).
 * Returns the non-negative result, or throws a BpfError carrying the operation and object.
 */
export function check(result: number, operation: string, object: string, detail?: () => string): number {
  if (result < 0) throw new BpfError(operation, object, -result, detail?.());
  return result;
}

// Shared CLI plumbing: the usage error type and the exit codes every command returns.

/**
 * Exit codes: 0 ok, 1 findings (e.g. a discrepancy), 2 usage, config or input error (the user's to fix),
 * 70 an internal error (EX_SOFTWARE from sysexits.h: a bug in xdp-decap, printed with its stack).
 */
export const EXIT = { ok: 0, findings: 1, usage: 2, bug: 70 } as const;

/** A problem with what the user asked for: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

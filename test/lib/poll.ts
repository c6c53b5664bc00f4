// Polling for the live tests: wait until something holds, with an error that says what was awaited and what was last seen.

/**
 * Calls `get` every `intervalMs` until it returns a value other than undefined, and returns that value.
 * `get` may throw to give up early (e.g. a process exited); on timeout the error carries `lastState()`.
 */
export async function pollUntil<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; lastState?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20000);
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.lastState ? `; last seen: ${options.lastState()}` : ''}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

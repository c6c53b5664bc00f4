// The demo's steps: each prints its label, and a SIGINT or SIGTERM ends the step running (the demo then removes
// its testbed).

/** The demo was stopped by a signal; its testbed has been removed. */
export class DemoInterrupted extends Error {
  readonly signal: string;

  constructor(signal: string) {
    super(`${signal}: demo stopped; its testbed was removed`);
    this.name = 'DemoInterrupted';
    this.signal = signal;
  }
}

/** Runs one step: prints `• label`, then `fn`, rejected with DemoInterrupted if a signal comes first. */
export type Step = <T>(label: string, fn: () => Promise<T> | T) => Promise<T>;

/** Steps that print through `say` and end at the first SIGINT or SIGTERM (listened for from this call on). */
export function interruptibleSteps(say: (text: string) => void): Step {
  const interrupted = new Promise<never>((_, reject) => {
    const onSignal = (sig: string) => reject(new DemoInterrupted(sig));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  interrupted.catch(() => undefined);
  return async <T>(label: string, fn: () => Promise<T> | T): Promise<T> => {
    say(`• ${label}`);
    return Promise.race([Promise.resolve().then(fn), interrupted]);
  };
}

// Idle-flow expiry on its own timer: deletes flows unseen for the idle timeout so a returning flow counts as new.
import type { DecapProgram } from './decap-program.ts';

export interface FlowExpirySettings {
  /** false: nothing to expire (flow tracking off). */
  enabled: boolean;
  /** A flow unseen this long is deleted. */
  idleNs: bigint;
}

export interface FlowExpiryPass {
  /** Flows deleted in this pass. */
  expired: number;
  /** Flows the table still holds (seen within the idle timeout). */
  kept: number;
}

/** How often a pass runs: half the idle timeout, so a flow is gone within 1.5x of it; within [100 ms, 30 s]. */
function expiryIntervalMillis(idleNs: bigint): number {
  return Math.min(30_000, Math.max(100, Number(idleNs / 2_000_000n)));
}

/**
 * Runs `program.expireIdleFlows` every `expiryIntervalMillis(idle)`. Kernel housekeeping lives here, never in the
 * metrics callback: a collection only reads, so two readers do not expire twice as often and none never.
 * Settings are read before each pass, so a config reload takes effect at the next one.
 */
export class FlowExpiry {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private readonly program: DecapProgram;
  private readonly settings: () => FlowExpirySettings;
  private readonly onPass: (pass: FlowExpiryPass) => void;
  private readonly onError: (err: unknown) => void;

  constructor(
    program: DecapProgram,
    settings: () => FlowExpirySettings,
    onPass: (pass: FlowExpiryPass) => void = () => {},
    onError: (err: unknown) => void = () => {},
  ) {
    this.program = program;
    this.settings = settings;
    this.onPass = onPass;
    this.onError = onError;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** One pass now (also what the timer runs). */
  runOnce(): FlowExpiryPass {
    const { enabled, idleNs } = this.settings();
    if (!enabled) return { expired: 0, kept: 0 };
    const pass = this.program.expireIdleFlows(idleNs);
    this.onPass(pass);
    return pass;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      try {
        this.runOnce();
      } catch (err) {
        this.onError(err);
      }
      this.schedule();
    }, expiryIntervalMillis(this.settings().idleNs));
    this.timer.unref();
  }
}

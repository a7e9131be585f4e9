/**
 * The hard time limit of one worker. Reads the shared "running call" slot instead of timing each call
 * from the host, because calls are pipelined: a call posted now may start much later, behind others.
 *
 * One timer at a time, armed only while calls are pending (it is also what keeps the process alive
 * for them: the workers themselves are unref'd). When nothing is running it looks again one hard
 * limit later, which is never late: a call that starts after this check is due after that.
 */
import { RUNNING_SEQ, STARTED_AT } from './protocol.js';

/** One runaway script stopped by terminating its worker. */
export interface HardStop {
  readonly seq: number;
  /** From the end of LuaTimeout to the worker being terminated, ms. */
  readonly afterLimitMs: number;
}

export interface WatchedSlot {
  /** The worker whose shared state to read, when one is running calls. */
  current(): { readonly i32: Int32Array; readonly f64: Float64Array } | undefined;
  /** Whether calls are queued or in flight. */
  busy(): boolean;
  /** Terminate the worker running `seq`; resolves once it is gone. */
  stop(seq: number): Promise<void>;
}

/** Stops kept for stats(); older ones are dropped. */
const KEEP_STOPS = 32;

export class Watchdog {
  readonly stops: HardStop[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hardLimitMs: number,
    private readonly softLimitMs: number,
    private readonly slot: WatchedSlot,
  ) {}

  /** Makes sure a check is scheduled while work is pending. */
  arm(delayMs = this.hardLimitMs): void {
    if (this.timer || !this.slot.busy()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, Math.max(0, delayMs));
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const state = this.slot.current();
    const seq = state ? Atomics.load(state.i32, RUNNING_SEQ) : 0;
    if (!state || seq === 0) return this.arm();
    const startedAt = state.f64[STARTED_AT] ?? 0;
    const now = Date.now();
    const due = startedAt + this.hardLimitMs;
    if (now < due) return this.arm(due - now);
    const limitEnd = startedAt + this.softLimitMs;
    void this.slot.stop(seq).then(() => this.record({ seq, afterLimitMs: Date.now() - limitEnd }));
    this.arm();
  }

  private record(stop: HardStop): void {
    this.stops.push(stop);
    if (this.stops.length > KEEP_STOPS) this.stops.shift();
  }
}

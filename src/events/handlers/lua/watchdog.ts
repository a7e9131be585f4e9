/**
 * The hard time limit of one Lua worker. It runs in the supervisor thread, not on the main thread:
 * the server's store and event engine run there, and a saturated main thread fires its timers late
 * (measured: tens of ms), while the hard stop must land within ~10 ms of LuaTimeout.
 *
 * It reads the worker's shared "running call" slot instead of timing each call from the host,
 * because calls are pipelined: a call posted now may start much later, behind others. No polling:
 * while the worker is idle, Atomics.waitAsync sleeps until a call starts (the worker notifies
 * RUNNING_SEQ); while a call runs, one timer waits for that call's due time. A timer that finds
 * another call running re-arms for that call's due time, which is never missed: a call that
 * started after the previous check is due after it.
 */
import { RUNNING_SEQ, STARTED_AT, preciseNow } from './protocol.js';

export interface CallState {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

export interface CallLimits {
  /** LuaTimeout: the engine's own limit; afterLimitMs counts from its end. */
  readonly softMs: number;
  /** LuaTimeout + LuaHardStopGrace: when the call counts as runaway. */
  readonly hardMs: number;
}

/** A call still running at its hard limit; `limitEnd` is preciseNow() at the end of its soft limit. */
export type Overrun = (seq: number, limitEnd: number) => void;

type WaitResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** Atomics.waitAsync (V8, Node >= 16), typed by TypeScript only from lib ES2024 on. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): WaitResult }).waitAsync;

/** Calls `overrun` at most once, then stops. Returns a function that stops watching. */
export function watchCalls(state: CallState, limits: CallLimits, overrun: Overrun): () => void {
  const { i32, f64 } = state;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const check = (): void => {
    timer = undefined;
    if (stopped) return;
    const seq = Atomics.load(i32, RUNNING_SEQ);
    if (seq === 0) return sleepUntilCall();
    // Written before RUNNING_SEQ, so at least as new as `seq`; a newer one only makes the check later.
    const startedAt = f64[STARTED_AT] ?? 0;
    const wait = startedAt + limits.hardMs - preciseNow();
    // Timers count whole ms and may fire up to 1 ms early on this clock: within 1 ms counts as due.
    if (wait >= 1) {
      timer = setTimeout(check, wait);
      return;
    }
    stopped = true;
    overrun(seq, startedAt + limits.softMs);
  };

  const sleepUntilCall = (): void => {
    const waited = waitAsync(i32, RUNNING_SEQ, 0);
    if (waited.async) void waited.value.then(check);
    else check();
  };

  check();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    Atomics.notify(i32, RUNNING_SEQ); // releases a pending waitAsync, which then sees `stopped`
  };
}

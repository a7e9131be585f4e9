/**
 * What the host (main thread), the supervisor thread and a Lua worker say to each other, and the
 * shared-memory layout they all read.
 *
 * Host ↔ Lua worker: calls and answers go over a MessageChannel of their own (`callPort`), never
 * through the supervisor, so the supervisor costs no throughput. They are batched both ways: the host
 * posts many calls in one `calls` message and the worker answers with one `results` message per
 * batch, because one postMessage round trip per event caps a worker at ~32k events/s while pipelined
 * batches reach ~65k (dependencies.md §1).
 *
 * Host ↔ supervisor: the supervisor creates each Lua worker (so it can terminate it), enforces the
 * hard time limit, and reports how each worker ended.
 *
 * Shared memory lets the others see what the worker is doing without a message: which call it is
 * running and since when (the supervisor judges the hard time limit from that). The script checker
 * (script-checker.ts) flags a check's outcome in the same layout (LOAD_STATE), read while the host
 * blocks in `create()`.
 */
import type { MessagePort } from 'node:worker_threads';

/** Everything a worker needs to load the script; sent as `workerData`. */
export interface WorkerSetup {
  /** Absolute path, for messages. */
  readonly scriptPath: string;
  /** Lua chunk name (`=name.lua`): Lua prefixes errors with it, e.g. `tally.lua:12: ...`. */
  readonly chunkName: string;
  /** Script text, read once by the host so every worker (and every replacement) runs the same code. */
  readonly source: string;
  readonly timeoutMs: number;
  readonly memoryLimit: number;
  readonly allowedPaths: readonly string[];
  readonly state: SharedArrayBuffer;
  /** Worker end of the call channel: `calls` in; `loaded`, `results` and `send` out. */
  readonly callPort: MessagePort;
  /** Host → worker replies to synchronous requests (`send`), read with receiveMessageOnPort. */
  readonly replyPort: MessagePort;
}

/** One event for the script. `seq` is unique per worker slot and never 0. */
export interface LuaCall {
  readonly seq: number;
  readonly request: Readonly<Record<string, string>>;
  readonly xml: string;
}

export type FailureKind = 'error' | 'timeout' | 'memory' | 'false';

export type CallResult =
  | { readonly seq: number; readonly ok: true }
  | { readonly seq: number; readonly ok: false; readonly kind: FailureKind; readonly message: string };

export type LogLevel = 'info' | 'warn' | 'error';
export interface LogLine {
  readonly level: LogLevel;
  readonly text: string;
  /** The call that logged it (0 outside a call): the host names its event on the line. */
  readonly seq: number;
}

export type HostToWorker = { readonly type: 'calls'; readonly calls: readonly LuaCall[] };

export type WorkerToHost =
  | { readonly type: 'loaded'; readonly ok: boolean; readonly error?: string }
  | { readonly type: 'results'; readonly results: readonly CallResult[]; readonly logs: readonly LogLine[] }
  | { readonly type: 'send'; readonly id: number; readonly seq: number; readonly section: string; readonly text: string };

/** Reply to a `send` request, on the reply port. `error` absent means delivered. */
export interface SendReply {
  readonly id: number;
  readonly error?: string;
}

/** One runaway script stopped by terminating its worker. */
export interface HardStop {
  readonly seq: number;
  /** From the end of LuaTimeout to the worker being gone (terminate() resolved), ms, timed by the supervisor. */
  readonly afterLimitMs: number;
  /** Of that, how long terminate() took (ms, to 0.1 ms): the rest is the grace and timer lateness. */
  readonly terminateMs: number;
}

/** `id` names one Lua worker; the host numbers them. `hardLimitMs` is LuaTimeout + LuaHardStopGrace. */
export type HostToSupervisor =
  | { readonly type: 'spawn'; readonly id: number; readonly setup: WorkerSetup; readonly hardLimitMs: number }
  | { readonly type: 'terminate'; readonly id: number };

/** Exactly one of `hardStop`, `died` or `terminated` per spawned worker: how it ended. */
export type SupervisorToHost =
  | ({ readonly type: 'hardStop'; readonly id: number } & HardStop)
  | { readonly type: 'died'; readonly id: number; readonly reason: string }
  | { readonly type: 'terminated'; readonly id: number };

/** Int32 slots of the shared state. RUNNING_SEQ is notified when set, to wake an idle supervisor. */
export const RUNNING_SEQ = 0;
export const LOAD_STATE = 1;
export const REPLY_FLAG = 2;
/** Float64 slot (byte offset 16): preciseNow() when RUNNING_SEQ started. */
export const STARTED_AT = 2;
export const STATE_BYTES = 24;

export const LOAD_PENDING = 0;
export const LOAD_OK = 1;
export const LOAD_FAILED = 2;

/**
 * Wall-clock ms with sub-ms precision, the same in every thread (measured: within a few µs of
 * Date.now(), which counts whole ms). Call start times and the hard limit are judged on it.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Views over one worker's shared state. */
export function stateViews(buffer: SharedArrayBuffer): { i32: Int32Array; f64: Float64Array } {
  return { i32: new Int32Array(buffer, 0, 4), f64: new Float64Array(buffer, 0, 3) };
}

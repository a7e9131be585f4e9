/**
 * What the host (main thread) and a Lua worker say to each other, and the shared-memory layout they
 * both read. Messages are batched both ways: the host posts many calls in one `calls` message and the
 * worker answers with one `results` message per batch, because one postMessage round trip per event
 * caps a worker at ~32k events/s while pipelined batches reach ~65k (dependencies.md §1).
 *
 * Shared memory lets the host see what the worker is doing without a message: which call it is running
 * and since when (the hard time limit is judged from that), and whether the script has loaded (read
 * while the host blocks in `create()`).
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
  /** Load, report, and take no calls (check-config / the compile check at `create()`). */
  readonly checkOnly: boolean;
  readonly state: SharedArrayBuffer;
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

/** Int32 slots of the shared state. */
export const RUNNING_SEQ = 0;
export const LOAD_STATE = 1;
export const REPLY_FLAG = 2;
/** Float64 slot (byte offset 16): Date.now() when RUNNING_SEQ started. */
export const STARTED_AT = 2;
export const STATE_BYTES = 24;

export const LOAD_PENDING = 0;
export const LOAD_OK = 1;
export const LOAD_FAILED = 2;

/** Views over one worker's shared state. */
export function stateViews(buffer: SharedArrayBuffer): { i32: Int32Array; f64: Float64Array } {
  return { i32: new Int32Array(buffer, 0, 4), f64: new Float64Array(buffer, 0, 3) };
}

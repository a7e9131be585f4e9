/**
 * What the main thread (threaded-handler.ts) and the HttpHandler's delivery thread
 * (delivery-thread.ts) say to each other, and the form the options take to cross between them.
 *
 * Both ways are batched: the host posts every delivery queued since the last turn of its event loop
 * in one `deliver` message, and the thread answers every delivery settled since its last turn in one
 * `answers` message, log lines included. One message per event each way would cost the main thread
 * the postMessage overhead the thread exists to save (the LuaHandler measured ~32k calls/s for one
 * round trip per call against ~65k batched, dependencies.md §1).
 */
import type { LogFields, LogLevel } from '../../../common/logger.js';
import type { EventType } from '../../handler.js';
import { freezeOptions, type HttpHandlerOptions, type OptionFields } from './options.js';

/** One delivery for the thread. `seq` is unique per handler; `signal` numbers its abort signal (signal-ids.ts). */
export interface DeliveryOrder {
  readonly seq: number;
  readonly signal: number;
  readonly id: string;
  readonly type: EventType;
  readonly handler: string;
  readonly queue: string;
  readonly token?: string;
  readonly document: string;
  readonly attempt: number;
}

/** A delivery that failed: the fields of its DeliveryError, which the host builds again. */
export interface FailedAnswer {
  readonly seq: number;
  readonly message: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

export interface ThreadLogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: LogFields;
}

export type HostToThread =
  /** New deliveries, and the signal numbers no pending delivery uses any more. */
  | { readonly type: 'deliver'; readonly orders: readonly DeliveryOrder[]; readonly released: readonly number[] }
  /** The signal numbered `signal` aborted: abort its deliveries' requests. */
  | { readonly type: 'abort'; readonly signal: number }
  /** Abort everything, close the connections, then answer `closed`. */
  | { readonly type: 'close' };

export type ThreadToHost =
  /** Successes as bare seq numbers: the common answer costs one small integer to clone. */
  | { readonly type: 'answers'; readonly delivered: readonly number[]; readonly failed: readonly FailedAnswer[]; readonly logs: readonly ThreadLogLine[] }
  | { readonly type: 'closed' };

/** `workerData` of a delivery thread. */
export interface ThreadSetup {
  readonly options: HttpHandlerOptions;
}

/** A fresh copy holding exactly the bytes (a small Buffer is a view of a shared 8 KB pool, which the clone would copy whole). */
const ownCopy = (b: Uint8Array): Buffer => Buffer.from(b);

/** Every Buffer field, one level down too (`tls.cert`, `tls.key`, `tls.ca`), passed through `f`. */
function mapBytes(fields: object, f: (b: Uint8Array) => Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Uint8Array) out[k] = f(v);
    else if (typeof v === 'object' && v !== null) out[k] = mapBytes(v, f);
    else out[k] = v;
  }
  return out;
}

/** The options as they are posted: plain data, each Buffer its own copy. */
export function cloneableOptions(options: HttpHandlerOptions): HttpHandlerOptions {
  return mapBytes(options, ownCopy) as unknown as HttpHandlerOptions;
}

/**
 * The options as the thread receives them → HttpHandlerOptions again: the structured clone turns
 * Buffers into plain Uint8Arrays (Node's TLS options want Buffers) and drops the freeze.
 */
export function reviveOptions(cloned: HttpHandlerOptions): HttpHandlerOptions {
  const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return freezeOptions(mapBytes(cloned, asBuffer) as unknown as OptionFields);
}

/**
 * Entry point of an HttpHandler's delivery thread (started by threaded-handler.ts from the compiled
 * `dist/.../http/delivery-thread.js`). It builds the in-thread handler of deliver.ts (undici
 * transport, proxy, TLS, NTLM, signing) from the options the host read and checked at start-up,
 * runs the deliveries the host posts, all at once (the engine's MaxConcurrentDeliveries bounds
 * them), and answers them in batches: one `answers` message per turn of this thread's event loop.
 *
 * Why a thread: undici's request building, socket writes and response parsing cost 30-50 µs of
 * CPU per POST (bench/http-handler.ts), which the main thread, running the store and the event
 * engine, cannot spare.
 */
import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { errorText } from '../../../common/errors.js';
import type { LogFields, LogLevel, Logger } from '../../../common/logger.js';
import { DeliveryError } from '../../handler.js';
import { createHttpHandler } from './deliver.js';
import { reviveOptions, type DeliveryOrder, type FailedAnswer, type HostToThread, type ThreadLogLine, type ThreadSetup, type ThreadToHost } from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('delivery-thread.ts must run as a worker thread');

let delivered: number[] = [];
let failed: FailedAnswer[] = [];
let logs: ThreadLogLine[] = [];
let flushPending = false;

function post(message: ThreadToHost): void {
  port!.postMessage(message);
}

function flush(): void {
  flushPending = false;
  if (delivered.length === 0 && failed.length === 0 && logs.length === 0) return;
  post({ type: 'answers', delivered, failed, logs });
  delivered = [];
  failed = [];
  logs = [];
}

function scheduleFlush(): void {
  if (flushPending) return;
  flushPending = true;
  // setImmediate, not a microtask: every answer undici completes in this turn joins one message.
  setImmediate(flush);
}

/** A Logger whose lines travel to the host's logger with the next answers. */
function forwardingLogger(base: LogFields | undefined): Logger {
  const line = (level: LogLevel) => (message: string, fields?: LogFields) => {
    const all = base === undefined ? fields : { ...base, ...fields };
    logs.push(all === undefined ? { level, message } : { level, message, fields: all });
    scheduleFlush();
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), child: (fields) => forwardingLogger({ ...base, ...fields }) };
}

const setup = workerData as ThreadSetup;
const handler = createHttpHandler(reviveOptions(setup.options), forwardingLogger(undefined));
/** One controller per host signal number (signal-ids.ts), aborted when the host's signal aborts. */
const controllers = new Map<number, AbortController>();

function controllerFor(id: number): AbortController {
  let controller = controllers.get(id);
  if (controller === undefined) {
    controller = new AbortController();
    // Every delivery on it adds an abort listener inside undici: dozens at once is normal here.
    setMaxListeners(0, controller.signal);
    controllers.set(id, controller);
  }
  return controller;
}

function failureOf(seq: number, e: unknown): FailedAnswer {
  if (!(e instanceof DeliveryError)) return { seq, message: errorText(e), retryable: true };
  return { seq, message: e.message, retryable: e.retryable, ...(e.retryAfterMs !== undefined && { retryAfterMs: e.retryAfterMs }) };
}

function run(order: DeliveryOrder): void {
  const { seq, signal, ...event } = order;
  // `request` is not sent: only the LuaHandler reads it (the engine parses it lazily for that).
  handler.deliver({ ...event, request: {} }, controllerFor(signal).signal).then(
    () => {
      delivered.push(seq);
      scheduleFlush();
    },
    (e: unknown) => {
      failed.push(failureOf(seq, e));
      scheduleFlush();
    },
  );
}

/** Aborts what is still running (the host has failed those deliveries already), then closes the pools. */
async function close(): Promise<void> {
  const reason = new Error('the HttpHandler is closed');
  for (const controller of controllers.values()) controller.abort(reason);
  controllers.clear();
  try {
    await handler.close();
  } finally {
    flush();
    post({ type: 'closed' });
  }
}

port.on('message', (message: HostToThread) => {
  if (message.type === 'deliver') {
    for (const id of message.released) controllers.delete(id);
    for (const order of message.orders) run(order);
  } else if (message.type === 'abort') {
    controllers.get(message.signal)?.abort(new Error('delivery aborted'));
  } else {
    void close();
  }
});

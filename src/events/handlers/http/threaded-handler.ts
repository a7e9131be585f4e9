/**
 * The HttpHandler the factory returns: an `EventHandler` on the main thread whose HTTP work runs in
 * a delivery thread of its own (delivery-thread.ts), off the thread that runs the store and the
 * event engine. bench/http-handler.ts, concurrency 32, 2 cores: the main thread spends 31-48 µs per
 * delivery with the in-thread handler (deliver.ts), 6-15 µs with this one.
 *
 * Host side, after the LuaHandler's worker-slot.ts: deliveries wait in a queue, are posted in one
 * batch per turn of the event loop, and settle from the thread's batched answers, each failure
 * becoming a DeliveryError again (message, retryable, retryAfterMs). An abort settles the delivery
 * here at once (retryable) and is forwarded by number (signal-ids.ts) to abort the POST there.
 *
 * A thread that dies fails the deliveries it held, retryable: the POST may or may not have reached
 * the receiver, and the engine's retry (at-least-once, decisions.md "Events") decides. Deliveries
 * not yet posted wait for the replacement, which starts with the next batch. The thread is unref'd
 * while nothing is pending, so an idle handler never keeps the process alive.
 */
import { ImmediateOnce } from '../../../common/immediate-once.js';
import { Worker } from 'node:worker_threads';
import { errorText } from '../../../common/errors.js';
import type { Logger } from '../../../common/logger.js';
import { DeliveryError, type EventDelivery, type EventHandler } from '../../handler.js';
import type { HttpHandlerOptions } from './options.js';
import { SignalIds } from './signal-ids.js';
import { cloneableOptions, type DeliveryOrder, type FailedAnswer, type HostToThread, type ThreadSetup, type ThreadToHost } from './thread-protocol.js';

/** How long close() waits for the thread to close its connections before terminating it. */
const CLOSE_WAIT_MS = 2_000;

interface Pending {
  readonly seq: number;
  readonly event: EventDelivery;
  readonly signal: AbortSignal;
  readonly signalId: number;
  readonly resolve: () => void;
  readonly reject: (error: DeliveryError) => void;
  settled: boolean;
}

interface LiveThread {
  readonly worker: Worker;
  /** Set once the thread is no longer ours: later messages, errors and exits are not news. */
  retired: boolean;
  /** Called when the thread answers `closed` (or dies) during close(). */
  onClosed?: () => void;
}

const closedError = () => new DeliveryError('the HttpHandler is closed', { retryable: true });
const abortedError = (reason: unknown) => new DeliveryError('delivery aborted', { retryable: true, cause: reason });

function orderOf(p: Pending): DeliveryOrder {
  const e = p.event;
  return {
    seq: p.seq,
    signal: p.signalId,
    id: e.id,
    type: e.type,
    handler: e.handler,
    queue: e.queue,
    ...(e.token !== undefined && { token: e.token }),
    document: e.document,
    attempt: e.attempt,
  };
}

export class ThreadedHttpHandler implements EventHandler {
  private live: LiveThread | undefined;
  private queue: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();
  /** Deliveries not yet settled (queued or in flight): the thread is ref'd while there are any. */
  private pending = 0;
  private nextSeq = 1;
  private readonly flusher = new ImmediateOnce(() => this.flush());
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly signals = new SignalIds((id, reason) => this.onAbort(id, reason));
  private readonly setup: ThreadSetup;

  constructor(options: HttpHandlerOptions, private readonly log: Logger) {
    this.setup = { options: cloneableOptions(options) };
    // Started now, so the first event does not wait for undici to load in a new thread.
    this.live = this.startThread();
  }

  /** The current delivery thread, if one is running (for tests that make it die). */
  get thread(): Worker | undefined {
    return this.live?.worker;
  }

  deliver(event: EventDelivery, signal: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (signal.aborted) return Promise.reject(abortedError(signal.reason));
    return new Promise<void>((resolve, reject) => {
      const seq = this.nextSeq;
      this.nextSeq = this.nextSeq >= 0x7fffffff ? 1 : this.nextSeq + 1;
      this.queue.push({ seq, event, signal, signalId: this.signals.acquire(signal), resolve, reject, settled: false });
      if (this.pending++ === 0) this.live?.worker.ref();
      this.scheduleFlush();
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.failAll(this.queue, closedError);
    this.queue = [];
    this.failAll(this.inFlight.values(), closedError);
    this.inFlight.clear();
    const live = this.live;
    this.live = undefined;
    if (!live) return;
    // Let the thread close its pools (its requests are aborted first), but never wait on it for long.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      live.onClosed = () => {
        clearTimeout(timer);
        resolve();
      };
      this.post(live, { type: 'close' });
    });
    live.retired = true;
    await live.worker.terminate().catch(() => undefined);
  }

  /** A new delivery thread; undefined (logged) when Node cannot start one, e.g. out of memory. */
  private startThread(): LiveThread | undefined {
    let worker: Worker;
    try {
      worker = new Worker(new URL('./delivery-thread.js', import.meta.url), { workerData: this.setup });
    } catch (e) {
      this.log.error('the HttpHandler delivery thread could not be started', { error: errorText(e) });
      return undefined;
    }
    const live: LiveThread = { worker, retired: false };
    if (this.pending === 0) worker.unref();
    worker.on('message', (message: ThreadToHost) => this.onMessage(live, message));
    // Both must be listened to: an unhandled 'error' event would take the server down.
    worker.on('error', (error) => this.onDeath(live, `failed: ${error.message}`));
    worker.on('exit', (code) => this.onDeath(live, `exited (code ${code})`));
    return live;
  }

  private onMessage(live: LiveThread, message: ThreadToHost): void {
    if (message.type === 'closed') {
      live.onClosed?.();
      return;
    }
    if (live.retired) return;
    for (const line of message.logs) this.log[line.level](line.message, line.fields);
    for (const seq of message.delivered) this.finish(seq);
    for (const answer of message.failed) this.finish(answer.seq, answer);
  }

  private finish(seq: number, failure?: FailedAnswer): void {
    const p = this.inFlight.get(seq);
    if (!p) return; // settled here already (aborted)
    this.inFlight.delete(seq);
    if (failure === undefined) {
      this.settle(p);
      return;
    }
    const { message, retryable, retryAfterMs } = failure;
    this.settle(p, new DeliveryError(message, { retryable, ...(retryAfterMs !== undefined && { retryAfterMs }) }));
  }

  private onDeath(live: LiveThread, reason: string): void {
    live.onClosed?.();
    if (live.retired) return;
    live.retired = true;
    void live.worker.terminate().catch(() => undefined);
    if (this.live === live) this.live = undefined;
    if (this.closed) return;
    this.log.warn('the HttpHandler delivery thread died; its deliveries fail (retryable) and a new thread takes the next ones', { reason, inFlight: this.inFlight.size });
    const error = () => new DeliveryError(`the HttpHandler delivery thread ${reason}`, { retryable: true });
    this.failAll(this.inFlight.values(), error);
    this.inFlight.clear();
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** A signal with pending deliveries aborted: they fail here now, and the thread aborts their POSTs. */
  private onAbort(id: number, reason: unknown): void {
    const hit = (p: Pending) => p.signalId === id && !p.settled;
    for (const p of this.queue.filter(hit)) this.settle(p, abortedError(reason));
    for (const p of [...this.inFlight.values()].filter(hit)) {
      this.inFlight.delete(p.seq);
      this.settle(p, abortedError(reason));
    }
    if (this.live) this.post(this.live, { type: 'abort', signal: id });
  }

  private scheduleFlush(): void {
    if (!this.closed) this.flusher.request();
  }

  private flush(): void {
    if (this.closed) return;
    const batch = this.queue.filter((p) => !p.settled);
    this.queue = [];
    const released = this.signals.takeReleased();
    if (batch.length === 0 && (released.length === 0 || !this.live)) return;
    // A thread that died is replaced only once there is work for it.
    this.live ??= this.startThread();
    if (!this.live) {
      this.failAll(batch, () => new DeliveryError('the HttpHandler delivery thread could not be started', { retryable: true }));
      return;
    }
    for (const p of batch) this.inFlight.set(p.seq, p);
    this.post(this.live, { type: 'deliver', orders: batch.map(orderOf), released });
  }

  private post(live: LiveThread, message: HostToThread): void {
    live.worker.postMessage(message);
  }

  private failAll(calls: Iterable<Pending>, error: () => DeliveryError): void {
    for (const p of [...calls]) this.settle(p, error());
  }

  private settle(p: Pending, error?: DeliveryError): void {
    if (p.settled) return;
    p.settled = true;
    this.signals.release(p.signal);
    if (--this.pending === 0) this.live?.worker.unref();
    if (error) p.reject(error);
    else p.resolve();
  }
}

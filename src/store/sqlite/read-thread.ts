/**
 * EventInfo's listings on a thread of their own, with a read-only connection: a listing filtered
 * on a column without an index (token, id, time) scans the whole events table, and on the store's
 * thread that scan stopped everything else. Measured (session 4, when counts were such a scan too):
 * 600-730 ms per 1,000,000 events, during which every action, delivery and request waited. The
 * counts no longer scan (event-totals.ts) and stay on the store's connection. Reads see the last
 * committed state, as on the store's connection (WAL). EventInfo's counts are read here too, in the
 * listing's read transaction, so the two agree. The thread starts on first use.
 */
import { Worker } from 'node:worker_threads';
import type { EventFilter, EventListing, EventRow } from '../store.js';

export type ReadRequest =
  | { readonly id: number; readonly kind: 'listEvents' | 'listEventsCounted'; readonly filter: EventFilter }
  | { readonly id: 0; readonly kind: 'close' };
export type ReadReply = { readonly id: number; readonly value: unknown } | { readonly id: number; readonly error: string };

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class ReadThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();

  constructor(private readonly file: string) {}

  listEvents(filter: EventFilter): Promise<EventRow[]> {
    return this.ask({ id: ++this.nextId, kind: 'listEvents', filter }) as Promise<EventRow[]>;
  }

  listEventsCounted(filter: EventFilter): Promise<EventListing> {
    return this.ask({ id: ++this.nextId, kind: 'listEventsCounted', filter }) as Promise<EventListing>;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.postMessage({ id: 0, kind: 'close' } satisfies ReadRequest);
    await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  }

  private ask(request: Exclude<ReadRequest, { kind: 'close' }>): Promise<unknown> {
    const worker = this.started();
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      // Keeps the process alive while a read is asked, and only then.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage(request);
    });
  }

  /** The thread, started on first use and again after it died (its open reads failed). */
  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: { file: this.file } });
    worker.unref();
    worker.on('message', (reply: ReadReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if ('error' in reply) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.value);
    });
    const died = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the store's read thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

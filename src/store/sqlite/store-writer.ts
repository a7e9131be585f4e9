/**
 * Who applies a group commit's WritePlan (write-plan.ts): a thread of its own with its own
 * connection (WriterThread), or the store's connection on the calling thread (InThreadWriter, for
 * ':memory:' databases, which another connection cannot open).
 *
 * Why a thread: SQLite's part of a group commit (inserts, updates, the WAL write) was ~40 % of
 * the main thread's time in bench/events.ts; on the writer thread it runs while the main thread
 * runs actions and deliveries. The main thread decides everything in advance (commit-plan.ts), so
 * a batch crosses once each way: the plan (plain arrays) there, the skipped changes (usually none)
 * back.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { prepareApplyWritePlan, type WritePlan } from './write-plan.js';

export interface StoreWriter {
  /** Apply the plan in one transaction; the indexes of the changes it skipped. */
  apply(plan: WritePlan): Promise<number[]>;
  close(): Promise<void>;
}

export class InThreadWriter implements StoreWriter {
  private readonly applyPlan: (plan: WritePlan) => number[];

  constructor(db: Database.Database) {
    this.applyPlan = prepareApplyWritePlan(db);
  }

  apply(plan: WritePlan): Promise<number[]> {
    try {
      return Promise.resolve(this.applyPlan(plan));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async close(): Promise<void> {}
}

export interface WriterSetup {
  readonly file: string;
  readonly synchronous: 'NORMAL' | 'FULL';
  /** How long a transaction waits for the write lock (another connection's transaction, a checkpoint's RESTART). */
  readonly busyTimeoutMs: number;
}

/**
 * `after`: the request this plan was planned on top of, if that one was still in flight; if it
 * failed, this one fails too, unapplied (its ids, seqs and row states assumed the other's).
 */
export type WriterRequest = { readonly type: 'apply'; readonly id: number; readonly after?: number; readonly plan: WritePlan } | { readonly type: 'close' };
export type WriterReply =
  | { readonly type: 'applied'; readonly id: number; readonly skipped: number[] }
  | { readonly type: 'failed'; readonly id: number; readonly message: string; readonly code?: string }
  | { readonly type: 'closed' };

interface Waiter {
  resolve(skipped: number[]): void;
  reject(error: Error): void;
}

const BUSY_TIMEOUT_MS = 5_000;

export class WriterThread implements StoreWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();
  private readonly setup: WriterSetup;

  constructor(file: string, synchronous: WriterSetup['synchronous']) {
    this.setup = { file, synchronous, busyTimeoutMs: BUSY_TIMEOUT_MS };
  }

  apply(plan: WritePlan): Promise<number[]> {
    const worker = this.started();
    const after = this.waiting.size > 0 ? this.nextId : undefined;
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Keeps the process alive while a commit is in flight, and only then.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ type: 'apply', id, ...(after !== undefined ? { after } : {}), plan } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    await new Promise<void>((resolve) => {
      worker.on('message', (reply: WriterReply) => reply.type === 'closed' && resolve());
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies WriterRequest);
    });
    await worker.terminate();
  }

  /** The thread, started on first use and again after it died (its in-flight commits failed). */
  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./store-writer-worker.js', import.meta.url), { workerData: this.setup });
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      if (reply.type === 'closed') return;
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.type === 'applied') waiter.resolve(reply.skipped);
      else waiter.reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
    });
    const died = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the store's writer thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

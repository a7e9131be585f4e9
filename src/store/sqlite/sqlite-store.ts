/**
 * The embedded Store on better-sqlite3 (decisions.md: `DataDirectory/tocsin.db`). The driver is
 * synchronous; its answers are wrapped in promises to keep the Store interface backend-neutral.
 *
 * One process owns the database (the data directory lock, database.ts), which allows two
 * shortcuts kept inside this class:
 * - local claims: `claim` hands out waiting actions at once from memory (local-claims.ts), and
 *   their start (with OnStart) is written behind, by the next commit. A slot then never waits for
 *   a commit to get work, which removed the round trip per MaximumThreads actions that bounded
 *   throughput;
 * - delivery outcomes are written behind too, by the next commit, so the pages of recent events
 *   it appends to are written to the log once, not twice.
 * What is written behind goes with the next group commit, or on its own after a turn of the event
 * loop when none comes; every read and control operation writes it first (it sees its writes).
 */
import type Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { TocsinError } from '../../common/errors.js';
import type { ActionRecord } from '../../queue/record.js';
import {
  NO_EVENTS,
  type ActionFilter,
  type CommitBatch,
  type EventCount,
  type EventFilter,
  type EventListing,
  type DeliveryLease,
  type DeliveryOutcome,
  type EventRow,
  type CommitResult,
  type Heartbeat,
  type NodeInfo,
  type StoreListener,
  type EventPlanner,
  type NewAction,
  type QueueCounts,
  type Store,
} from '../store.js';
import { openDatabase, type Durability } from './database.js';
import { QueueSizes } from './queue-sizes.js';
import { prepareCommitBatch, type CommitOutput, type WrittenBehind } from './commit-batch.js';
import { prepareReadActions } from './read-actions.js';
import { prepareControlActions } from './control-actions.js';
import { prepareOutbox } from './outbox.js';
import { LocalClaims } from './local-claims.js';
import { Checkpointer } from './checkpointer.js';
import { ReadThread } from './read-thread.js';
import { writeTrouble } from './write-trouble.js';
import type { Logger } from '../../common/logger.js';

export interface SqliteStoreOptions {
  /** Database file, or ':memory:'. */
  readonly file: string;
  readonly durability: Durability;
  readonly planner?: EventPlanner;
  /** Where the checkpoint thread reports trouble. */
  readonly log?: Logger;
}

/**
 * How long an operation that finds the database locked keeps trying. The lock is the checkpoint
 * thread's RESTART (checkpoint-worker.ts), held for a few ms, at most its own busy timeout.
 */
const BUSY_LIMIT_MS = 10_000;
const BUSY_RETRY_MAX_MS = 20;
/** Wait before writing again what a failed commit left behind (e.g. disk full). */
const RETRY_AFTER_FAILURE_MS = 1000;

const isBusy = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
};

/**
 * Run a synchronous store operation, turning driver errors into STORE_FAILED. One that finds the
 * database locked is tried again on a timer rather than in SQLite's busy handler, which sleeps
 * the thread (and this thread is the server's); its transaction was rolled back, so running it
 * again is safe.
 */
/**
 * `explain` may add to the error of a failure. It is applied here, not by a `.catch` on the
 * result: a promise hop more on success let a commit's action start (and log) before its
 * submission's answer (test/logging).
 */
function attempt<T>(what: string, fn: () => T, explain: (e: TocsinError) => TocsinError = (e) => e): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return isBusy(e) ? retryWhileBusy(what, fn).catch((f: unknown) => Promise.reject(f instanceof TocsinError ? explain(f) : f)) : Promise.reject(explain(storeFailed(what, e)));
  }
}

async function retryWhileBusy<T>(what: string, fn: () => T): Promise<T> {
  const deadline = Date.now() + BUSY_LIMIT_MS;
  for (let wait = 1; ; wait = Math.min(wait * 2, BUSY_RETRY_MAX_MS)) {
    await delay(wait);
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e)) throw storeFailed(what, e);
      if (Date.now() >= deadline) throw storeFailed(what, new Error(`the database stayed locked for ${BUSY_LIMIT_MS / 1000} s`, { cause: e }));
    }
  }
}

/** How long writes behind wait for a group commit before the store writes them itself. */
const FLUSH_FALLBACK_MS = 20;
/** Local-claim starts allowed to wait for a commit (measured: 64 balances batch size and latency). */
const MAX_UNWRITTEN_STARTS = 64;

const NO_BATCH = (now: number, node: string): CommitBatch => ({ now, node, enqueues: [], settlements: [], reports: [], progress: [] });

const storeFailed = (what: string, e: unknown): TocsinError =>
  e instanceof TocsinError ? e : new TocsinError('STORE_FAILED', `Datastore ${what} failed: ${(e as Error).message}`, { cause: e });

interface Behind {
  starts: ActionRecord[];
  deliveries: DeliveryOutcome[];
  waiters: { resolve(): void; reject(e: unknown): void }[];
}

const nothingBehind = (): Behind => ({ starts: [], deliveries: [], waiters: [] });

export class SqliteStore implements Store {
  readonly capabilities = { shared: false, queuesOutcomes: true } as const;
  /** The open database, for the event outbox and tests. */
  readonly db: Database.Database;
  private readonly commitBatch: (batch: CommitBatch, behind: WrittenBehind) => CommitOutput;
  private readonly read: ReturnType<typeof prepareReadActions>;
  private readonly control: ReturnType<typeof prepareControlActions>;
  private readonly outbox: ReturnType<typeof prepareOutbox>;
  private readonly listeners = new Set<StoreListener>();
  private readonly localClaims: LocalClaims;
  /** Queue pause flags, read at open: this process is the only writer. */
  private readonly pausedQueues = new Set<string>();
  private behind = nothingBehind();
  private flushScheduled = false;
  /** Listeners were asked for a commit since the last one. */
  private commitAsked = false;
  private commitWaiters: (() => void)[] = [];
  private node = 'local';
  private readonly lock: Database.Database | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  /** EventInfo's listings, off this thread (none for ':memory:', which no other connection can open). */
  private readonly reads: ReadThread | undefined;
  /** The database file's folder (undefined for ':memory:'). */
  private readonly dataDirectory: string | undefined;

  constructor(options: SqliteStoreOptions) {
    this.dataDirectory = options.file === ':memory:' ? undefined : dirname(options.file);
    const opened = openDatabase(options.file, options.durability);
    this.db = opened.db;
    this.lock = opened.lock;
    this.checkpointer = opened.lock ? new Checkpointer(options.file, opened.synchronous, options.log) : undefined;
    this.reads = opened.lock ? new ReadThread(options.file) : undefined;
    const planner = options.planner ?? NO_EVENTS;
    const sizes = new QueueSizes(this.db, planner);
    this.localClaims = new LocalClaims(this.db);
    this.outbox = prepareOutbox(this.db);
    this.commitBatch = prepareCommitBatch(this.db, sizes, planner, this.localClaims, this.outbox.applyDeliveries);
    this.read = prepareReadActions(this.db);
    this.control = prepareControlActions(this.db, sizes, (rows) => this.emitEvents(rows), this.localClaims);
    for (const queue of this.read.pausedQueues()) this.pausedQueues.add(queue);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async claim(queue: string, max: number, _node: string, now: number): Promise<ActionRecord[]> {
    // The backlog of unwritten starts is bounded, which keeps commit batches (and event latency)
    // small and lets the event loop serve requests between them.
    while (this.behind.starts.length >= MAX_UNWRITTEN_STARTS) await this.nextCommit();
    if (this.pausedQueues.has(queue)) return [];
    return this.take(queue, max, now);
  }

  /**
   * The local claim itself, synchronous (tests call it to hold the start unwritten): up to `max`
   * waiting actions as Processing records, their starts written behind.
   */
  take(queue: string, max: number, now: number): ActionRecord[] {
    const records = this.localClaims.take(queue, max, now);
    if (records.length > 0) {
      this.behind.starts.push(...records);
      this.scheduleFlush();
    }
    return records;
  }

  recordOutcomes(_node: string, outcomes: readonly DeliveryOutcome[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.behind.deliveries.push(...outcomes);
      this.behind.waiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return attempt('commit', () => this.commitNow(batch), (e) => this.explained(e));
  }

  /** A failed commit's error, naming what keeps the data directory from being written (if that is it). */
  private explained(e: TocsinError): TocsinError {
    const cause = e.cause;
    const why = this.dataDirectory === undefined ? undefined : writeTrouble(this.dataDirectory, cause);
    return why === undefined ? e : new TocsinError(e.code, `${e.message} (${why})`, { cause });
  }

  /** One process owns the store: its lease never lapses, and nothing of another node's exists. */
  heartbeat(node: string): Promise<Heartbeat> {
    this.node = node;
    return Promise.resolve({ held: true });
  }
  nodes(now: number): Promise<NodeInfo[]> {
    return Promise.resolve([{ name: this.node, heartbeatAt: now, alive: true }]);
  }
  acquireDelivery(handler: string, node: string): Promise<DeliveryLease> {
    return Promise.resolve({ handler, node, generation: 1 });
  }
  /** At start, whatever was running belongs to this node's previous life; later, nothing is another's. */
  recoverExpired(_node: string, _now: number, options?: { readonly starting?: boolean }): Promise<number> {
    if (!options?.starting) return Promise.resolve(0);
    return this.writing('recovery', () => this.control.recover());
  }
  getAction(token: string): Promise<ActionRecord | undefined> {
    return this.writing('read', () => this.read.get(token));
  }
  listActions(filter: ActionFilter): Promise<ActionRecord[]> {
    return this.writing('read', () => this.read.list(filter));
  }
  queueCounts(queue: string): Promise<QueueCounts> {
    return this.writing('read', () => this.read.queueCounts(queue));
  }
  cancel(token: string, now: number): Promise<ActionRecord | undefined> {
    return this.writing('cancel', () => this.control.cancel(token, now));
  }
  changePriority(token: string, priority: number): Promise<ActionRecord | undefined> {
    return this.writing('changePriority', () => this.queued(this.control.changePriority(token, priority)));
  }
  pauseAction(token: string): Promise<ActionRecord | undefined> {
    return this.writing('pause', () => this.controlled(this.control.pauseAction(token), 'pause'));
  }
  resumeAction(token: string): Promise<ActionRecord | undefined> {
    return this.writing('resume', () => this.queued(this.controlled(this.control.resumeAction(token), 'resume')));
  }
  setQueuePaused(queue: string, paused: boolean): Promise<void> {
    return this.writing('pause', () => {
      this.control.setQueuePaused(queue, paused);
      if (paused) this.pausedQueues.add(queue);
      else if (this.pausedQueues.delete(queue)) this.emit((l) => l.workQueued?.(queue, Infinity));
    });
  }
  isQueuePaused(queue: string): Promise<boolean> {
    return Promise.resolve(this.pausedQueues.has(queue));
  }
  requestStop(token: string): Promise<boolean> {
    return this.writing('stop', () => {
      const requested = this.control.requestStop(token);
      if (requested) this.emit((l) => l.actionControl?.(token, 'stop'));
      return requested;
    });
  }
  pendingStops(node: string): Promise<number[]> {
    return this.writing('read', () => this.control.pendingStops(node));
  }
  duplicate(token: string, copy: NewAction): Promise<ActionRecord | 'full' | undefined> {
    return this.writing('duplicate', () => {
      const record = this.control.duplicate(token, copy);
      if (record && record !== 'full') this.queued(record);
      return record;
    });
  }
  purgeFinished(queues: readonly string[], endedBefore: number): Promise<number> {
    return this.writing('purge', () => this.control.purge(queues, endedBefore));
  }
  /** Single node: the lease is always this node's; the cursor is safe, seqs commit in order. */
  claimDeliveries(lease: DeliveryLease, afterSeq: number, limit: number): Promise<EventRow[]> {
    return this.writing('read', () => this.outbox.pendingEvents(lease.handler, afterSeq, limit));
  }
  listEvents(filter: EventFilter): Promise<EventRow[]> {
    this.flushNow();
    if (this.reads) return this.reads.listEvents(filter).catch((e: unknown) => Promise.reject(storeFailed('read', e)));
    return attempt('read', () => this.outbox.listEvents(filter));
  }
  listEventsCounted(filter: EventFilter): Promise<EventListing> {
    this.flushNow();
    if (this.reads) return this.reads.listEventsCounted(filter).catch((e: unknown) => Promise.reject(storeFailed('read', e)));
    return attempt('read', () => this.outbox.listEventsCounted(filter));
  }
  /** On this connection: the counts read totals and partial indexes (event-totals.ts), under a ms. */
  eventCounts(): Promise<EventCount[]> {
    return this.writing('read', () => this.outbox.eventCounts());
  }
  redeliver(handler: string, eventId: string | undefined, now: number): Promise<number[]> {
    return this.writing('redeliver', () => {
      const seqs = this.outbox.redeliver(handler, eventId, now);
      if (seqs.length > 0) this.emit((l) => l.eventsStored?.({ handlers: [handler] }));
      return seqs;
    });
  }
  adoptHandlerEvents(handler: string): Promise<number> {
    return this.writing('adopt', () => this.outbox.adoptHandlerEvents(handler));
  }
  purgeDelivered(before: number): Promise<number> {
    return this.writing('purge', () => this.outbox.purgeDelivered(before));
  }

  /** Run `fn` after writing what waits behind, so it sees this store's own writes. */
  private writing<T>(what: string, fn: () => T): Promise<T> {
    this.flushNow();
    return attempt(what, fn);
  }

  private commitNow(batch: CommitBatch): CommitResult {
    this.commitAsked = false;
    const behind = this.behind;
    this.behind = nothingBehind();
    let output: CommitOutput;
    try {
      output = this.commitBatch(batch, behind);
    } catch (e) {
      // Nothing of the batch was written: what waited behind waits for the next commit. Starts
      // describe actions already running and are never dropped; outcomes' writers retry them.
      this.behind.starts.unshift(...behind.starts);
      for (const w of behind.waiters) w.reject(storeFailed('commit', e));
      this.wakeCommitWaiters();
      if (!isBusy(e) && this.behind.starts.length > 0) this.scheduleFlush(RETRY_AFTER_FAILURE_MS);
      throw e;
    }
    for (const w of behind.waiters) w.resolve();
    this.wakeCommitWaiters();
    if (output.stored.length > 0) this.emitEvents(output.stored);
    for (const [queue, count] of output.queued) this.emit((l) => l.workQueued?.(queue, count));
    return output.result;
  }

  /** Write what waits behind now, if anything does (reads and control see their store's writes). */
  private flushNow(): void {
    const b = this.behind;
    if (b.starts.length + b.deliveries.length === 0) return;
    try {
      this.commitNow(NO_BATCH(Date.now(), this.node));
    } catch {
      // Kept behind (commitNow): the operation that asked goes on; the retry writes it later.
    }
  }

  /**
   * Writes behind go with the next group commit: the store asks its listeners for one
   * (`writesBehind`; the scheduler's committer schedules a batch, which then carries the starts
   * with their settlements, and an action that ends within the batch gets its start and end in one
   * row write). Measured: flushing them on a timer of the store's own instead put 101 of 170
   * transactions of a 10,000-action run in transactions of their own, and OnFinish came later (p50
   * 2.9 → 6.3 ms). Without a listener, or if no commit came, the store writes them itself.
   */
  private scheduleFlush(delayMs = 0): void {
    if (delayMs === 0 && !this.commitAsked) {
      this.commitAsked = true;
      let told = false;
      for (const l of this.listeners) if (l.writesBehind) (l.writesBehind(), (told = true));
      if (told) delayMs = FLUSH_FALLBACK_MS;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const flush = () => {
      this.flushScheduled = false;
      const b = this.behind;
      if (b.starts.length + b.deliveries.length === 0) return;
      attempt('commit', () => this.commitNow(NO_BATCH(Date.now(), this.node))).catch(() => {
        if (this.behind.starts.length + this.behind.deliveries.length > 0) this.scheduleFlush(RETRY_AFTER_FAILURE_MS);
      });
    };
    if (delayMs > 0) setTimeout(flush, delayMs).unref();
    else setImmediate(flush);
  }

  /** A slot waits for room among the unwritten starts: the write comes one hop later, as the committer's would. */
  private nextCommit(): Promise<void> {
    return new Promise((resolve) => {
      this.commitWaiters.push(resolve);
      this.scheduleFlush();
    });
  }

  private wakeCommitWaiters(): void {
    if (this.commitWaiters.length > 0) this.commitWaiters.splice(0).forEach((resolve) => resolve());
  }

  private emitEvents(rows: readonly EventRow[]): void {
    this.emit((l) => l.eventsStored?.({ rows }));
  }

  private emit(call: (listener: StoreListener) => void): void {
    for (const l of this.listeners) call(l);
  }

  private queued<R extends ActionRecord | undefined>(record: R): R {
    if (record?.status === 'Queued') this.emit((l) => l.workQueued?.(record.queue, 1));
    return record;
  }

  private controlled<R extends ActionRecord | undefined>(record: R, change: 'pause' | 'resume'): R {
    if (record && record.startedAt !== undefined) this.emit((l) => l.actionControl?.(record.token, change));
    return record;
  }

  async close(): Promise<void> {
    this.flushNow();
    await this.reads?.close();
    // The checkpoint thread goes first: the last connection's close then finds the WAL copied back.
    await this.checkpointer?.close();
    return attempt('close', () => {
      if (this.db.open) this.db.close();
      if (this.lock?.open) this.lock.close();
    });
  }
}

/**
 * The embedded Store on better-sqlite3 (decisions.md: `DataDirectory/tocsin.db`). The driver is
 * synchronous; its answers are wrapped in promises to keep the Store interface backend-neutral.
 */
import type Database from 'better-sqlite3';
import { setTimeout as delay } from 'node:timers/promises';
import { TocsinError } from '../../common/errors.js';
import type { ActionRecord } from '../../queue/record.js';
import {
  NO_EVENTS,
  type ActionFilter,
  type CommitBatch,
  type EventCount,
  type EventFilter,
  type EventRow,
  type EventsStoredListener,
  type CommitResult,
  type EventPlanner,
  type NewAction,
  type QueueCounts,
  type Store,
} from '../store.js';
import { openDatabase, type Durability } from './database.js';
import { QueueSizes } from './queue-sizes.js';
import { prepareCommitBatch } from './commit-batch.js';
import { prepareReadActions } from './read-actions.js';
import { prepareControlActions } from './control-actions.js';
import { prepareOutbox } from './outbox.js';
import { LocalClaims } from './local-claims.js';
import { Checkpointer } from './checkpointer.js';
import { ReadThread } from './read-thread.js';
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
function attempt<T>(what: string, fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return isBusy(e) ? retryWhileBusy(what, fn) : Promise.reject(storeFailed(what, e));
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

const storeFailed = (what: string, e: unknown): TocsinError =>
  e instanceof TocsinError ? e : new TocsinError('STORE_FAILED', `Datastore ${what} failed: ${(e as Error).message}`, { cause: e });

export class SqliteStore implements Store {
  readonly capabilities = { shared: false, localClaims: true } as const;
  /** The open database, for the event outbox and tests. */
  readonly db: Database.Database;
  private readonly commitBatch: (batch: CommitBatch) => CommitResult;
  private readonly read: ReturnType<typeof prepareReadActions>;
  private readonly control: ReturnType<typeof prepareControlActions>;
  private readonly outbox: ReturnType<typeof prepareOutbox>;
  private eventListener: EventsStoredListener = () => {};
  private readonly localClaims: LocalClaims;
  private readonly lock: Database.Database | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  /** EventInfo's listings, off this thread (none for ':memory:', which no other connection can open). */
  private readonly reads: ReadThread | undefined;

  constructor(options: SqliteStoreOptions) {
    const opened = openDatabase(options.file, options.durability);
    this.db = opened.db;
    this.lock = opened.lock;
    this.checkpointer = opened.lock ? new Checkpointer(options.file, opened.synchronous, options.log) : undefined;
    this.reads = opened.lock ? new ReadThread(options.file) : undefined;
    const planner = options.planner ?? NO_EVENTS;
    const sizes = new QueueSizes(this.db, planner);
    const onEventsStored: EventsStoredListener = (events) => this.eventListener(events);
    this.localClaims = new LocalClaims(this.db);
    this.outbox = prepareOutbox(this.db);
    this.commitBatch = prepareCommitBatch(this.db, sizes, planner, onEventsStored, this.localClaims, this.outbox.applyDeliveries);
    this.read = prepareReadActions(this.db);
    this.control = prepareControlActions(this.db, sizes, onEventsStored, this.localClaims);
  }

  /** Set the listener told of stored events once their transaction committed (delivery's fast path). */
  onEventsStored(listener: EventsStoredListener): void {
    this.eventListener = listener;
  }

  take(queue: string, max: number, now: number): ActionRecord[] {
    return this.localClaims.take(queue, max, now);
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return attempt('commit', () => this.commitBatch(batch));
  }
  recoverInterrupted(): Promise<number> {
    return attempt('recovery', () => this.control.recover());
  }
  getAction(token: string): Promise<ActionRecord | undefined> {
    return attempt('read', () => this.read.get(token));
  }
  listActions(filter: ActionFilter): Promise<ActionRecord[]> {
    return attempt('read', () => this.read.list(filter));
  }
  queueCounts(queue: string): Promise<QueueCounts> {
    return attempt('read', () => this.read.queueCounts(queue));
  }
  cancel(token: string, now: number): Promise<ActionRecord | undefined> {
    return attempt('cancel', () => this.control.cancel(token, now));
  }
  changePriority(token: string, priority: number): Promise<ActionRecord | undefined> {
    return attempt('changePriority', () => this.control.changePriority(token, priority));
  }
  pauseAction(token: string): Promise<ActionRecord | undefined> {
    return attempt('pause', () => this.control.pauseAction(token));
  }
  resumeAction(token: string): Promise<ActionRecord | undefined> {
    return attempt('resume', () => this.control.resumeAction(token));
  }
  setQueuePaused(queue: string, paused: boolean): Promise<void> {
    return attempt('pause', () => this.control.setQueuePaused(queue, paused));
  }
  isQueuePaused(queue: string): Promise<boolean> {
    return attempt('read', () => this.read.isPaused(queue));
  }
  requestStop(token: string): Promise<boolean> {
    return attempt('stop', () => this.control.requestStop(token));
  }
  pendingStops(node: string): Promise<number[]> {
    return attempt('read', () => this.control.pendingStops(node));
  }
  duplicate(token: string, copy: NewAction): Promise<ActionRecord | 'full' | undefined> {
    return attempt('duplicate', () => this.control.duplicate(token, copy));
  }
  purgeFinished(queues: readonly string[], endedBefore: number): Promise<number> {
    return attempt('purge', () => this.control.purge(queues, endedBefore));
  }
  pendingEvents(handler: string, afterSeq: number, limit: number): Promise<EventRow[]> {
    return attempt('read', () => this.outbox.pendingEvents(handler, afterSeq, limit));
  }
  listEvents(filter: EventFilter): Promise<EventRow[]> {
    if (this.reads) return this.reads.listEvents(filter).catch((e: unknown) => Promise.reject(storeFailed('read', e)));
    return attempt('read', () => this.outbox.listEvents(filter));
  }
  /** On this connection: the counts read totals and partial indexes (event-totals.ts), under a ms. */
  eventCounts(): Promise<EventCount[]> {
    return attempt('read', () => this.outbox.eventCounts());
  }
  redeliver(handler: string, eventId: string | undefined, now: number): Promise<number[]> {
    return attempt('redeliver', () => this.outbox.redeliver(handler, eventId, now));
  }
  adoptHandlerEvents(handler: string): Promise<number> {
    return attempt('adopt', () => this.outbox.adoptHandlerEvents(handler));
  }
  purgeDelivered(before: number): Promise<number> {
    return attempt('purge', () => this.outbox.purgeDelivered(before));
  }
  async close(): Promise<void> {
    await this.reads?.close();
    // The checkpoint thread goes first: the last connection's close then finds the WAL copied back.
    await this.checkpointer?.close();
    return attempt('close', () => {
      if (this.db.open) this.db.close();
      if (this.lock?.open) this.lock.close();
    });
  }
}

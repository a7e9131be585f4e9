/**
 * The PostgreSQL Store: any number of Tocsin nodes share one database (decisions.md "Many
 * machines"). PostgreSQL is the distributed engine: row locks and `FOR UPDATE SKIP LOCKED` for
 * claims, advisory locks for migrations and event order, LISTEN/NOTIFY for wake-ups, leases in
 * tables for liveness. No protocol of our own between nodes.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { TocsinError } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import type { ActionRecord } from '../../queue/record.js';
import {
  NO_EVENTS,
  type ActionFilter,
  type CommitBatch,
  type CommitResult,
  type DeliveryLease,
  type DeliveryOutcome,
  type EventCount,
  type EventFilter,
  type EventListing,
  type EventPlanner,
  type EventRow,
  type Heartbeat,
  type NewAction,
  type NodeInfo,
  type QueueCounts,
  type Store,
  type StoreListener,
} from '../store.js';
import { CHANNEL, type Notice } from './append-events.js';
import { commitBatch, type PgCommitOutput } from './commit-batch.js';
import type { PendingStart } from './start-settle.js';
import { fastCommit, fastCommitRules, NEEDS_PLANNER } from './fast-commit.js';
import { createPool, describeTarget, storeError } from './connection.js';
import { postgresControl } from './control-actions.js';
import { postgresLeases } from './leases.js';
import { Notifications } from './notifications.js';
import { listEventsCounted, postgresReads, type Read } from './reads.js';
import { foldActionCounts } from './action-counts.js';
import { Reservations } from './reservations.js';
import { migrate } from './schema.js';
import { inTransaction, query, type RunInTransaction } from './transaction.js';

/** Starts held for the next commit at most (a slot waits for that commit beyond it). */
const MAX_UNWRITTEN_STARTS = 128;
/** A commit asked of the listeners that did not come this soon is made by the store. */
const FLUSH_FALLBACK_MS = 20;

export interface PostgresStoreOptions {
  readonly connectionString: string;
  readonly planner?: EventPlanner;
  readonly log?: Logger;
  /** NodeLeaseTimeout, default 15 s. */
  readonly leaseTimeoutMs?: number | undefined;
  /** Where ConnectionString is set, for the start-up error. */
  readonly where?: { readonly file: string; readonly line: number };
  /** Pool size (connections per node). */
  readonly poolSize?: number;
  /** How long starts written behind wait for the group commit they asked for (default 20 ms; tests hold them longer). */
  readonly writeBehindFallbackMs?: number;
  /** `[Actions] Durability` (default process): see connection.ts `createPool`. */
  readonly durability?: 'process' | 'power';
}

/** Open, migrate and listen; a bad ConnectionString or a server that cannot be reached is a clear error naming the host, never the password. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const target = describeTarget(options.connectionString);
  const where = options.where ? `${options.where.file}:${options.where.line}: ` : '';
  let url: URL | undefined;
  try {
    url = new URL(options.connectionString);
  } catch {
    url = undefined;
  }
  if (!url || !/^postgres(ql)?:$/.test(url.protocol)) {
    throw new TocsinError('CONFIG_VALUE', `${where}[Actions] ConnectionString must be a postgres://user:password@host:port/database URL`);
  }
  const store = new PostgresStore(options, target);
  try {
    await store.open();
  } catch (e) {
    await store.close().catch(() => undefined);
    const reason = storeError('start-up', target, e);
    throw new TocsinError(reason.code, `${where}[Actions] ConnectionString: ${reason.message}`, { cause: e });
  }
  return store;
}

export class PostgresStore implements Store {
  readonly capabilities = { shared: true, queuesOutcomes: false } as const;
  /** The pool, for tests and move-store. */
  readonly pool: pg.Pool;
  /** How this store's commits were made (tests, bench): one statement (fast-commit.ts) or a transaction. */
  readonly commitsMade = { oneStatement: 0, transaction: 0 };
  private readonly storeId = randomBytes(8).toString('hex');
  private readonly listeners = new Set<StoreListener>();
  private readonly planner: EventPlanner;
  private readonly log: Logger;
  /** This node's reservations, made at its first claim (the node is named by the caller). */
  private reservations: Reservations | undefined;
  /** Actions handed to slots whose start the next commit writes (reservations.ts). */
  private unwritten: PendingStart[] = [];
  /** Commits of this store run one at a time (a start is written before its settlement). */
  private commits: Promise<unknown> = Promise.resolve();
  private fallback: NodeJS.Timeout | undefined;
  /** Slots waiting for the next commit to take the unwritten starts (room among them). */
  private commitWaiters: (() => void)[] = [];
  private readonly control: ReturnType<typeof postgresControl>;
  private readonly reads: ReturnType<typeof postgresReads>;
  private readonly leases: ReturnType<typeof postgresLeases>;
  private readonly notifications: Notifications;
  private readonly run: RunInTransaction;
  private readonly read: Read;

  constructor(
    private readonly options: PostgresStoreOptions,
    private readonly target: string,
  ) {
    this.planner = options.planner ?? NO_EVENTS;
    this.log = options.log ?? silentLogger;
    this.pool = createPool(options.connectionString, options.poolSize, options.durability ?? 'process');
    this.run = (what, work) => inTransaction(this.pool, target, what, work);
    this.read = (what, text, values) => query(this.pool, target, what, text, values);
    const told = (notice: Notice) => this.dispatch(notice);
    this.control = postgresControl(this.run, this.planner, this.storeId, told);
    this.reads = postgresReads(this.read);
    this.leases = postgresLeases({
      transaction: this.run,
      read: this.read,
      planner: this.planner,
      leaseMs: options.leaseTimeoutMs ?? 15_000,
      incarnation: this.storeId,
      storeId: this.storeId,
      told,
    });
    this.notifications = new Notifications(options.connectionString, this.storeId, told, this.log);
  }

  /** @internal Migrate under the advisory lock, then listen. */
  async open(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
    await this.notifications.start();
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tell this store's listeners (of its own commits, or of other nodes' notifications). */
  private dispatch(notice: Notice): void {
    for (const queue of notice.p ?? []) this.reservations?.paused(queue);
    for (const queue of notice.r ?? []) this.reservations?.resumed(queue);
    for (const [queue, , priority] of notice.w ?? []) if (priority !== undefined) this.reservations?.queued(queue, priority);
    for (const l of this.listeners) {
      if (notice.e?.length) l.eventsStored?.({ handlers: notice.e });
      for (const [queue, count] of notice.w ?? []) l.workQueued?.(queue, count);
      for (const [token, change] of notice.c ?? []) l.actionControl?.(token, change);
    }
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    const run = this.commits.then(() => this.commitNow(batch));
    this.commits = run.catch(() => undefined);
    return run;
  }

  private async commitNow(batch: CommitBatch): Promise<CommitResult> {
    const starts = this.unwritten;
    this.unwritten = [];
    // Room among the unwritten starts: the slots run the next page while this commit writes.
    const waiters = this.commitWaiters;
    this.commitWaiters = [];
    for (const w of waiters) w();
    let out: PgCommitOutput;
    try {
      const fast = await this.commitInOneStatement(batch, starts);
      if (fast) this.commitsMade.oneStatement++;
      else this.commitsMade.transaction++;
      out = fast ?? (await this.run('commit', (sql) => commitBatch(sql, batch, starts, this.planner, this.storeId)));
    } catch (e) {
      // Written by the next commit, still ahead of anything claimed since.
      this.unwritten = [...starts, ...this.unwritten];
      throw e;
    }
    this.dispatch({ e: out.handlers, w: out.queued });
    // Cancelled, paused or taken over between its reservation and its start: the run must end.
    if (out.lostStarts.length > 0) this.dispatch({ c: out.lostStarts.map((r) => [r.token, 'stop'] as const) });
    return out.result;
  }

  /** fast-commit.ts where the batch allows it; undefined where the step-by-step transaction must do it. */
  private async commitInOneStatement(batch: CommitBatch, starts: readonly PendingStart[]): Promise<PgCommitOutput | undefined> {
    const rules = fastCommitRules(batch, starts, this.planner);
    if (!rules) return undefined;
    try {
      return await fastCommit(this.pool, batch, starts, rules, this.planner, this.storeId);
    } catch (e) {
      const code = (e as { code?: string }).code;
      // The planner must judge a queue's step, or a deadlock with a cancel: the transaction (which retries) does it.
      if (code === NEEDS_PLANNER || code === '40P01' || code === '40001') return undefined;
      throw storeError('commit', this.target, e);
    }
  }

  /** Write the starts held for the next commit now: what is read next shows them (read-your-writes on this node). */
  private async flushStarts(): Promise<void> {
    if (this.unwritten.length > 0) await this.commit({ now: Date.now(), node: this.unwritten[0]!.record.owner ?? '', enqueues: [], settlements: [], reports: [], progress: [] });
    // A commit in flight may be writing starts handed out before this call.
    else await this.commits;
  }

  /** Wait for the starts written behind before a read or change (a no-op when none are held). */
  private async after<T>(work: () => Promise<T>): Promise<T> {
    await this.flushStarts();
    return work();
  }

  async claim(queue: string, max: number, node: string, now: number): Promise<ActionRecord[]> {
    // The backlog of unwritten starts is bounded (as on SQLite): commit batches, and the time
    // from a start to its OnStart, stay small.
    while (this.unwritten.length >= MAX_UNWRITTEN_STARTS) {
      this.askForCommit();
      await new Promise<void>((resolve) => this.commitWaiters.push(resolve));
    }
    this.reservations ??= new Reservations(this.read, node, (q, count) => this.released(q, count));
    const records = await this.reservations.take(queue, max, now);
    if (records.length > 0) {
      for (const record of records) this.unwritten.push({ record });
      this.askForCommit();
    }
    return records;
  }

  /**
   * Starts held here go with the next group commit: the listeners (the scheduler's committer) are
   * asked for one, so they ride with the settlements. If none is listening, or no commit came
   * within FLUSH_FALLBACK_MS, the store writes them itself.
   */
  private askForCommit(): void {
    let told = false;
    for (const l of this.listeners) if (l.writesBehind) (l.writesBehind(), (told = true));
    if (this.fallback) return;
    this.fallback = setTimeout(
      () => {
        this.fallback = undefined;
        this.flushStarts().catch(() => {
          if (this.unwritten.length > 0) this.askForCommit();
        });
      },
      told ? (this.options.writeBehindFallbackMs ?? FLUSH_FALLBACK_MS) : 0,
    );
    this.fallback.unref();
  }

  /** Reserved rows given back: this node's idle slots and the other nodes may take them. */
  private released(queue: string, count: number): void {
    const notice: Notice = { w: [[queue, count]] };
    this.dispatch(notice);
    void this.read('release', 'SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ ...notice, s: this.storeId })]).catch(() => undefined);
  }

  async heartbeat(node: string): Promise<Heartbeat> {
    const beat = await this.leases.heartbeat(node);
    // The count changes appended since the last beat go into the counts (action-counts.ts).
    await foldActionCounts(this.read).catch((e: unknown) => this.log.warn('folding the action counts failed', { error: (e as Error).message }));
    if (!beat.held && this.reservations) {
      // Taken for dead: what this node reserved or began may be another's now. Starts not yet
      // written are dropped (their runs are stopped by the scheduler), and what is still reserved
      // here goes back.
      this.unwritten = [];
      this.reservations.forgetAll();
      const rows = await this.read<{ queue: string; n: number }>(
        'release',
        `WITH r AS (UPDATE actions SET owner = NULL WHERE owner = $1 AND status = 'Queued' RETURNING queue) SELECT queue, count(*)::int AS n FROM r GROUP BY queue`,
        [node],
      );
      for (const r of rows) this.released(r.queue, r.n);
    }
    return beat;
  }
  recoverExpired(node: string, now: number, options?: { readonly starting?: boolean }): Promise<number> {
    return this.after(() => this.leases.recoverExpired(node, now, options?.starting ?? false));
  }
  nodes(): Promise<NodeInfo[]> {
    return this.leases.nodes();
  }
  getAction(token: string): Promise<ActionRecord | undefined> {
    return this.after(() => this.reads.getAction(token));
  }
  listActions(filter: ActionFilter): Promise<ActionRecord[]> {
    return this.after(() => this.reads.listActions(filter));
  }
  queueCounts(queue: string): Promise<QueueCounts> {
    return this.after(() => this.reads.queueCounts(queue));
  }
  cancel(token: string, now: number): Promise<ActionRecord | undefined> {
    return this.after(() => this.control.cancel(token, now));
  }
  changePriority(token: string, priority: number): Promise<ActionRecord | undefined> {
    return this.after(() => this.control.changePriority(token, priority));
  }
  pauseAction(token: string): Promise<ActionRecord | undefined> {
    return this.after(() => this.control.pauseAction(token));
  }
  resumeAction(token: string): Promise<ActionRecord | undefined> {
    return this.after(() => this.control.resumeAction(token));
  }
  setQueuePaused(queue: string, paused: boolean): Promise<void> {
    return this.control.setQueuePaused(queue, paused);
  }
  isQueuePaused(queue: string): Promise<boolean> {
    return this.reads.isQueuePaused(queue);
  }
  requestStop(token: string): Promise<boolean> {
    return this.after(() => this.control.requestStop(token));
  }
  pendingStops(node: string): Promise<number[]> {
    return this.after(() => this.reads.pendingStops(node));
  }
  duplicate(token: string, copy: NewAction): Promise<ActionRecord | 'full' | undefined> {
    return this.after(() => this.control.duplicate(token, copy));
  }
  purgeFinished(queues: readonly string[], endedBefore: number): Promise<number> {
    return this.control.purge(queues, endedBefore);
  }
  acquireDelivery(handler: string, node: string, _now?: number): Promise<DeliveryLease | undefined> {
    return this.leases.acquireDelivery(handler, node);
  }
  claimDeliveries(lease: DeliveryLease, afterSeq: number, limit: number): Promise<EventRow[]> {
    // Not after the starts written behind: a delivery read on every commit would commit them alone,
    // apart from their settlements (measured: ~10 % more CPU per action). Their OnStart comes with
    // the commit that writes them, which tells the deliverer again.
    return this.leases.claimDeliveries(lease, afterSeq, limit);
  }
  recordOutcomes(node: string, outcomes: readonly DeliveryOutcome[]): Promise<void> {
    return this.leases.recordOutcomes(node, outcomes);
  }
  listEvents(filter: EventFilter): Promise<EventRow[]> {
    return this.after(() => this.reads.listEvents(filter));
  }
  eventCounts(): Promise<EventCount[]> {
    return this.after(() => this.reads.eventCounts());
  }
  listEventsCounted(filter: EventFilter): Promise<EventListing> {
    return this.after(() => listEventsCounted(this.run, filter));
  }
  async redeliver(handler: string, eventId: string | undefined, now: number): Promise<number[]> {
    const rows = await this.read<{ seq: number }>(
      'redeliver',
      `UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = $1 WHERE handler = $2 AND state = 'failed' ${eventId === undefined ? '' : 'AND event_id = $3'} RETURNING seq`,
      eventId === undefined ? [now, handler] : [now, handler, eventId],
    );
    const seqs = rows.map((r) => r.seq);
    if (seqs.length > 0) {
      this.dispatch({ e: [handler] });
      await this.read('redeliver', 'SELECT pg_notify($1, $2)', ['tocsin', JSON.stringify({ e: [handler], s: this.storeId })]);
    }
    return seqs;
  }
  async purgeDelivered(before: number): Promise<number> {
    const rows = await this.read<{ n: number }>('purge', `WITH d AS (DELETE FROM events WHERE state = 'delivered' AND created_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM d`, [before]);
    return rows[0]?.n ?? 0;
  }
  async adoptHandlerEvents(handler: string): Promise<number> {
    const rows = await this.read<{ n: number }>(
      'adopt',
      `WITH a AS (UPDATE events SET handler = $1 WHERE state IN ('pending', 'failed') AND lower(handler) = lower($1) AND handler <> $1 RETURNING 1) SELECT count(*)::int AS n FROM a`,
      [handler],
    );
    return rows[0]?.n ?? 0;
  }
  async close(): Promise<void> {
    if (this.fallback) clearTimeout(this.fallback);
    await this.flushStarts().catch(() => undefined);
    await this.reservations?.releaseAll().catch(() => undefined);
    this.reservations?.close();
    await this.notifications.close();
    await this.pool.end().catch(() => undefined);
  }
}

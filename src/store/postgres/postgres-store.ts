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
  type EventPlanner,
  type EventRow,
  type Heartbeat,
  type NewAction,
  type NodeInfo,
  type QueueCounts,
  type Store,
  type StoreListener,
} from '../store.js';
import type { Notice } from './append-events.js';
import { ClaimBatcher, type RunInTransaction } from './claims.js';
import { commitBatch } from './commit-batch.js';
import { createPool, describeTarget, storeError } from './connection.js';
import { postgresControl } from './control-actions.js';
import { postgresLeases } from './leases.js';
import { Notifications } from './notifications.js';
import { postgresReads, type Read } from './reads.js';
import { migrate } from './schema.js';
import { inTransaction, query } from './transaction.js';

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
  readonly capabilities = { shared: true } as const;
  /** The pool, for tests and move-store. */
  readonly pool: pg.Pool;
  private readonly storeId = randomBytes(8).toString('hex');
  private readonly listeners = new Set<StoreListener>();
  private readonly planner: EventPlanner;
  private readonly log: Logger;
  private readonly claims: ClaimBatcher;
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
    this.claims = new ClaimBatcher(this.run, this.planner, this.storeId, (handlers) => told({ e: handlers }));
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
    for (const l of this.listeners) {
      if (notice.e?.length) l.eventsStored?.({ handlers: notice.e });
      for (const [queue, count] of notice.w ?? []) l.workQueued?.(queue, count);
      for (const [token, change] of notice.c ?? []) l.actionControl?.(token, change);
    }
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    const out = await this.run('commit', (sql) => commitBatch(sql, batch, this.planner, this.storeId));
    this.dispatch({ e: out.handlers, w: out.queued });
    return out.result;
  }
  claim(queue: string, max: number, node: string, now: number): Promise<ActionRecord[]> {
    return this.claims.claim(queue, max, node, now);
  }
  heartbeat(node: string): Promise<Heartbeat> {
    return this.leases.heartbeat(node);
  }
  recoverExpired(node: string, now: number, options?: { readonly starting?: boolean }): Promise<number> {
    return this.leases.recoverExpired(node, now, options?.starting ?? false);
  }
  nodes(): Promise<NodeInfo[]> {
    return this.leases.nodes();
  }
  getAction(token: string): Promise<ActionRecord | undefined> {
    return this.reads.getAction(token);
  }
  listActions(filter: ActionFilter): Promise<ActionRecord[]> {
    return this.reads.listActions(filter);
  }
  queueCounts(queue: string): Promise<QueueCounts> {
    return this.reads.queueCounts(queue);
  }
  cancel(token: string, now: number): Promise<ActionRecord | undefined> {
    return this.control.cancel(token, now);
  }
  changePriority(token: string, priority: number): Promise<ActionRecord | undefined> {
    return this.control.changePriority(token, priority);
  }
  pauseAction(token: string): Promise<ActionRecord | undefined> {
    return this.control.pauseAction(token);
  }
  resumeAction(token: string): Promise<ActionRecord | undefined> {
    return this.control.resumeAction(token);
  }
  setQueuePaused(queue: string, paused: boolean): Promise<void> {
    return this.control.setQueuePaused(queue, paused);
  }
  isQueuePaused(queue: string): Promise<boolean> {
    return this.reads.isQueuePaused(queue);
  }
  requestStop(token: string): Promise<boolean> {
    return this.control.requestStop(token);
  }
  pendingStops(node: string): Promise<number[]> {
    return this.reads.pendingStops(node);
  }
  duplicate(token: string, copy: NewAction): Promise<ActionRecord | 'full' | undefined> {
    return this.control.duplicate(token, copy);
  }
  purgeFinished(queues: readonly string[], endedBefore: number): Promise<number> {
    return this.control.purge(queues, endedBefore);
  }
  acquireDelivery(handler: string, node: string, _now?: number): Promise<DeliveryLease | undefined> {
    return this.leases.acquireDelivery(handler, node);
  }
  claimDeliveries(lease: DeliveryLease, afterSeq: number, limit: number): Promise<EventRow[]> {
    return this.leases.claimDeliveries(lease, afterSeq, limit);
  }
  recordOutcomes(node: string, outcomes: readonly DeliveryOutcome[]): Promise<void> {
    return this.leases.recordOutcomes(node, outcomes);
  }
  listEvents(filter: EventFilter): Promise<EventRow[]> {
    return this.reads.listEvents(filter);
  }
  eventCounts(): Promise<EventCount[]> {
    return this.reads.eventCounts();
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
    await this.notifications.close();
    await this.pool.end().catch(() => undefined);
  }
}

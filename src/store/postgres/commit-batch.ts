/**
 * The group commit on PostgreSQL: one transaction applies a batch's enqueues, the starts of the
 * actions this node's slots took from their reservations (reservations.ts), settlements, error
 * reports and progress, and appends the events they cause (store.ts invariants).
 *
 * Order: queue rows are locked first (queue-tally.ts locking rule), then starts and settlements,
 * reports and progress, then enqueues; events, queue sizes and the notification last, in one
 * statement (append-events.ts). A settlement applies only to an action still running on the
 * committing node in the same attempt (fencing: a node taken for dead whose action was re-queued
 * or re-claimed elsewhere changes nothing).
 */
import type { ActionRecord } from '../../queue/record.js';
import { rowToRecord, type ActionRow } from '../action-row.js';
import { finalRecord } from '../final-record.js';
import type { CommitBatch, CommitResult, DuplicateSubmission, EnqueueOutcome, EventPlanner, NewAction, NewEvent } from '../store.js';
import { BatchKeys, keySlot } from '../submission-keys.js';
import { insertActions, storedKeyHolders } from './idempotency-keys.js';
import { appendAndNotify, handlersOf } from './append-events.js';
import { QueueTally } from './queue-tally.js';
import { splitStartsAndSettlements, startSettleCtes, startSettleValues, type PendingStart } from './start-settle.js';
import type { Sql } from './transaction.js';

const REPORTS_KEPT = 100;

export interface PgCommitOutput {
  readonly result: CommitResult;
  readonly handlers: readonly string[];
  readonly queued: readonly (readonly [string, number, number])[];
  /** Starts not written: the row was cancelled, paused or taken over since it was reserved. */
  readonly lostStarts: readonly ActionRecord[];
}

export async function commitBatch(sql: Sql, batch: CommitBatch, starts: readonly PendingStart[], planner: EventPlanner, storeId: string): Promise<PgCommitOutput> {
  const { now } = batch;
  const enqueueQueues = batch.enqueues.map((a) => a.queue);
  const tally = await QueueTally.lock(sql, [...enqueueQueues, ...starts.map((s) => s.record.queue)], planner, enqueueQueues);
  const events: NewEvent[] = [];
  const { settled, lostStarts } = await startAndSettle(sql, batch, starts, tally, planner, events);
  for (const r of batch.reports) {
    const row = (await sql.query<ActionRow>('SELECT * FROM actions WHERE id = $1 FOR UPDATE', [r.id])).rows[0];
    if (!row) continue;
    const reports = [...(row.reports ? (JSON.parse(row.reports) as unknown[]) : []), { time: r.time, message: r.message }].slice(-REPORTS_KEPT);
    const updated = (await sql.query<ActionRow>('UPDATE actions SET reports = $1 WHERE id = $2 RETURNING *', [JSON.stringify(reports), r.id])).rows[0]!;
    events.push(...planner.forAction('OnErrorReport', rowToRecord(updated), now));
  }
  if (batch.progress.length > 0) {
    await sql.query(
      `UPDATE actions a SET progress = p.progress FROM unnest($1::bigint[], $2::text[]) AS p(id, progress)
        WHERE a.id = p.id AND a.status IN ('Processing', 'Paused')`,
      [batch.progress.map((p) => p.id), batch.progress.map((p) => JSON.stringify(p.progress))],
    );
  }
  const { enqueued, queued } = await enqueue(sql, batch, tally, events);
  const handlers = handlersOf(events);
  await appendAndNotify(sql, events, tally.changes(), { e: handlers, w: queued, s: storeId });
  return { result: { enqueued, settled }, handlers, queued, lostStarts };
}

/** The batch's starts and settlements in one statement (start-settle.ts), then their events. */
async function startAndSettle(sql: Sql, batch: CommitBatch, starts: readonly PendingStart[], tally: QueueTally, planner: EventPlanner, events: NewEvent[]) {
  const applied = new Set<number>();
  if (starts.length + batch.settlements.length > 0) {
    const rows = await sql.query<{ id: number }>(
      `WITH ${startSettleCtes()}
       SELECT id FROM st UNION ALL SELECT id FROM se UNION ALL SELECT id FROM sb`,
      startSettleValues(batch, splitStartsAndSettlements(batch, starts)),
    );
    for (const r of rows.rows) applied.add(r.id);
  }
  const lostStarts: ActionRecord[] = [];
  for (const s of starts) {
    const record = s.record;
    if (!applied.has(record.id)) {
      lostStarts.push(record);
      continue;
    }
    tally.change(record.queue, -1, record.startedAt ?? batch.now, events);
    events.push(...planner.forAction('OnStart', record, record.startedAt ?? batch.now));
  }
  const settled = batch.settlements.map((x) => {
    if (!applied.has(x.id)) return undefined;
    const record = finalRecord(x);
    events.push(...planner.forAction(x.status === 'Error' ? 'OnError' : 'OnFinish', record, batch.now));
    return record;
  });
  return { settled, lostStarts };
}

async function enqueue(sql: Sql, batch: CommitBatch, tally: QueueTally, events: NewEvent[]) {
  const stored = await storedKeyHolders(sql, batch.enqueues);
  const inBatch = new BatchKeys();
  // Per enqueue: a duplicate's holder (stored, or accepted earlier in this batch), 'full', or 'new'.
  const fates = batch.enqueues.map((a): DuplicateSubmission | 'full' | 'new' => {
    const holder = a.idempotencyKey === undefined ? undefined : (stored.get(keySlot(a.queue, a.idempotencyKey)) ?? inBatch.takenBy(a));
    if (holder) return { duplicateOf: holder };
    if (tally.size(a.queue) >= a.maxQueueSize) return 'full';
    tally.change(a.queue, +1, batch.now, events);
    if (a.idempotencyKey !== undefined) inBatch.take(a, queuedRecord(a, 0));
    return 'new';
  });
  const ids = await insertActions(sql, batch.enqueues.filter((_, i) => fates[i] === 'new'));
  const queued = new Map<string, [string, number, number]>();
  const enqueued = batch.enqueues.map((a, i): EnqueueOutcome => {
    const fate = fates[i]!;
    if (fate !== 'new') return fate === 'full' ? fate : { duplicateOf: withId(fate.duplicateOf, ids) };
    const q = queued.get(a.queue);
    if (q) (q[1] += 1), (q[2] = Math.max(q[2], a.priority));
    else queued.set(a.queue, [a.queue, 1, a.priority]);
    return queuedRecord(a, ids.get(a.token)!);
  });
  return { enqueued, queued: [...queued.values()] };
}

const queuedRecord = (a: NewAction, id: number): ActionRecord => ({
  id, token: a.token, queue: a.queue, status: 'Queued', priority: a.priority, params: a.params, queuedAt: a.queuedAt, attempts: 0, reports: [],
});

/** A holder accepted earlier in this batch got its id only from the INSERT. */
const withId = (holder: ActionRecord, ids: ReadonlyMap<string, number>): ActionRecord => {
  const id = ids.get(holder.token);
  return id === undefined ? holder : { ...holder, id };
};

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
import type { Sql } from './transaction.js';

const REPORTS_KEPT = 100;
const RUNNING = `(a.status = 'Processing' OR (a.status = 'Paused' AND a.started_at IS NOT NULL))`;

export interface PgCommitOutput {
  readonly result: CommitResult;
  readonly handlers: readonly string[];
  readonly queued: readonly (readonly [string, number, number])[];
  /** Starts not written: the row was cancelled, paused or taken over since it was reserved. */
  readonly lostStarts: readonly ActionRecord[];
}

/** A reserved action handed to a slot (reservations.ts), its start not yet written. */
export interface PendingStart {
  readonly record: ActionRecord;
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

/**
 * The starts, the settlements, and both at once for an action that started and ended within the
 * batch (one row write instead of two: most no-op and short actions), in one statement. Each row
 * is in one part only, so the parts never see each other's changes (one snapshot per statement).
 * Fencing: a start applies only to a row still Queued and reserved by this node; a settlement
 * only to an action still running on this node in the same attempt.
 */
async function startAndSettle(sql: Sql, batch: CommitBatch, starts: readonly PendingStart[], tally: QueueTally, planner: EventPlanner, events: NewEvent[]) {
  const settling = new Map(batch.settlements.map((x) => [x.id, x]));
  const startOnly = starts.filter((s) => !settling.has(s.record.id));
  const starting = new Set(starts.map((s) => s.record.id));
  const both = batch.settlements.filter((x) => starting.has(x.id));
  const settleOnly = batch.settlements.filter((x) => !starting.has(x.id));
  const applied = new Set<number>();
  if (starts.length + batch.settlements.length > 0) {
    const json = (x: (typeof batch.settlements)[number]) => (x.result ? JSON.stringify(x.result) : null);
    const rows = await sql.query<{ id: number }>(
      `WITH st AS (
              UPDATE actions a SET status = 'Processing', started_at = s.started_at, attempts = a.attempts + 1, stop_requested = false
                FROM unnest($2::bigint[], $3::bigint[]) AS s(id, started_at)
               WHERE a.id = s.id AND a.owner = $1 AND a.status = 'Queued'
              RETURNING a.id),
            se AS (
              UPDATE actions a SET status = s.status, ended_at = s.ended_at, result = s.result, error = s.error, progress = NULL, stop_requested = false
                FROM unnest($4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::int[]) AS s(id, status, ended_at, result, error, attempts)
               WHERE a.id = s.id AND a.owner = $1 AND a.attempts = s.attempts AND ${RUNNING}
              RETURNING a.id),
            sb AS (
              UPDATE actions a SET status = s.status, started_at = s.started_at, attempts = a.attempts + 1, ended_at = s.ended_at,
                                   result = s.result, error = s.error, progress = NULL, stop_requested = false
                FROM unnest($10::bigint[], $11::text[], $12::bigint[], $13::bigint[], $14::text[], $15::text[]) AS s(id, status, started_at, ended_at, result, error)
               WHERE a.id = s.id AND a.owner = $1 AND a.status = 'Queued'
              RETURNING a.id)
       SELECT id FROM st UNION ALL SELECT id FROM se UNION ALL SELECT id FROM sb`,
      [
        batch.node,
        startOnly.map((s) => s.record.id),
        startOnly.map((s) => s.record.startedAt ?? batch.now),
        settleOnly.map((x) => x.id),
        settleOnly.map((x) => x.status),
        settleOnly.map((x) => x.endedAt),
        settleOnly.map(json),
        settleOnly.map((x) => x.error ?? null),
        settleOnly.map((x) => x.running.attempts),
        both.map((x) => x.id),
        both.map((x) => x.status),
        both.map((x) => x.running.startedAt ?? batch.now),
        both.map((x) => x.endedAt),
        both.map(json),
        both.map((x) => x.error ?? null),
      ],
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

/**
 * The group commit on PostgreSQL: one transaction applies a batch's enqueues, settlements, error
 * reports and progress, and appends the events they cause (store.ts invariants).
 *
 * Order: queue rows are locked first (queue-tally.ts locking rule), then settlements, reports and
 * progress, then enqueues; events last (append-events.ts). A settlement applies only to an action
 * still running on the committing node in the same attempt (fencing: a node taken for dead whose
 * action was re-queued or re-claimed elsewhere changes nothing).
 */
import type { ActionRecord } from '../../queue/record.js';
import { rowToRecord, type ActionRow } from '../action-row.js';
import { finalRecord } from '../final-record.js';
import type { CommitBatch, CommitResult, DuplicateSubmission, EnqueueOutcome, EventPlanner, NewAction, NewEvent } from '../store.js';
import { BatchKeys, keySlot } from '../submission-keys.js';
import { insertActions, storedKeyHolders } from './idempotency-keys.js';
import { appendEvents, handlersOf, notify } from './append-events.js';
import { QueueTally } from './queue-tally.js';
import type { Sql } from './transaction.js';

const REPORTS_KEPT = 100;
const RUNNING = `(a.status = 'Processing' OR (a.status = 'Paused' AND a.started_at IS NOT NULL))`;

export interface PgCommitOutput {
  readonly result: CommitResult;
  readonly handlers: readonly string[];
  readonly queued: readonly (readonly [string, number])[];
}

export async function commitBatch(sql: Sql, batch: CommitBatch, planner: EventPlanner, storeId: string): Promise<PgCommitOutput> {
  const { now } = batch;
  const tally = await QueueTally.lock(sql, batch.enqueues.map((a) => a.queue), planner);
  const events: NewEvent[] = [];
  const settled = await settle(sql, batch, planner, events);
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
  await appendEvents(sql, events);
  await tally.write(sql);
  const handlers = handlersOf(events);
  await notify(sql, { e: handlers, w: queued, s: storeId });
  return { result: { enqueued, settled }, handlers, queued };
}

async function settle(sql: Sql, batch: CommitBatch, planner: EventPlanner, events: NewEvent[]): Promise<(ActionRecord | undefined)[]> {
  const s = batch.settlements;
  if (s.length === 0) return [];
  const applied = await sql.query<{ id: number }>(
    `UPDATE actions a SET status = s.status, ended_at = s.ended_at, result = s.result, error = s.error, progress = NULL, stop_requested = false
       FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::int[]) AS s(id, status, ended_at, result, error, attempts)
      WHERE a.id = s.id AND a.owner = $7 AND a.attempts = s.attempts AND ${RUNNING}
      RETURNING a.id`,
    [
      s.map((x) => x.id),
      s.map((x) => x.status),
      s.map((x) => x.endedAt),
      s.map((x) => (x.result ? JSON.stringify(x.result) : null)),
      s.map((x) => x.error ?? null),
      s.map((x) => x.running.attempts),
      batch.node,
    ],
  );
  const done = new Set(applied.rows.map((r) => r.id));
  return s.map((x) => {
    if (!done.has(x.id)) return undefined;
    const record = finalRecord(x);
    events.push(...planner.forAction(x.status === 'Error' ? 'OnError' : 'OnFinish', record, batch.now));
    return record;
  });
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
  const queued = new Map<string, number>();
  const enqueued = batch.enqueues.map((a, i): EnqueueOutcome => {
    const fate = fates[i]!;
    if (fate !== 'new') return fate === 'full' ? fate : { duplicateOf: withId(fate.duplicateOf, ids) };
    queued.set(a.queue, (queued.get(a.queue) ?? 0) + 1);
    return queuedRecord(a, ids.get(a.token)!);
  });
  return { enqueued, queued: [...queued] };
}

const queuedRecord = (a: NewAction, id: number): ActionRecord => ({
  id, token: a.token, queue: a.queue, status: 'Queued', priority: a.priority, params: a.params, queuedAt: a.queuedAt, attempts: 0, reports: [],
});

/** A holder accepted earlier in this batch got its id only from the INSERT. */
const withId = (holder: ActionRecord, ids: ReadonlyMap<string, number>): ActionRecord => {
  const id = ids.get(holder.token);
  return id === undefined ? holder : { ...holder, id };
};

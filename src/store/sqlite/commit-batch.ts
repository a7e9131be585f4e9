/**
 * The group commit: one transaction applies a whole batch of enqueues, settlements, error reports,
 * progress updates and claims, and appends the events they cause (store.ts invariants).
 *
 * The store adds what it wrote behind (sqlite-store.ts): the starts of locally claimed actions
 * and the delivery outcomes recorded since the last commit.
 *
 * Order inside the transaction: starts of locally claimed actions first (their OnStart precedes
 * everything else of theirs), then settlements, reports and progress, then enqueues; delivery
 * outcomes last (they concern events of earlier commits only).
 */
import type Database from 'better-sqlite3';
import type { ActionRecord } from '../../queue/record.js';
import type { CommitBatch, CommitResult, DeliveryOutcome, EnqueueOutcome, EventPlanner, EventRow, NewAction, NewEvent, Settlement } from '../store.js';
import { rowToRecord, type ActionRow, type StartRow } from './rows.js';
import { prepareAppendEvents } from './events-sql.js';
import { finalRecord } from '../final-record.js';
import { prepareMultiRowInsert } from './multi-row-insert.js';
import type { QueueSizes, QueueSizeStage } from './queue-sizes.js';
import type { LocalClaims } from './local-claims.js';
import { BatchKeys } from '../submission-keys.js';
import { prepareKeyHolder } from './idempotency-keys.js';

const REPORTS_KEPT = 100;

const resultJson = (s: Settlement): string | null => (s.result ? JSON.stringify(s.result) : null);

/** What the store wrote behind since its last commit, written by the next one. */
export interface WrittenBehind {
  readonly starts: readonly ActionRecord[];
  readonly deliveries: readonly DeliveryOutcome[];
}

export interface CommitOutput {
  readonly result: CommitResult;
  /** The events the transaction stored, for the delivery fast path. */
  readonly stored: readonly EventRow[];
  /** Waiting actions added per queue (for workQueued). */
  readonly queued: ReadonlyMap<string, number>;
}

export function prepareCommitBatch(
  db: Database.Database,
  sizes: QueueSizes,
  planner: EventPlanner,
  localClaims: LocalClaims,
  applyDeliveries: (outcomes: readonly DeliveryOutcome[], now: number) => void,
): (batch: CommitBatch, behind: WrittenBehind) => CommitOutput {
  const appendEvents = prepareAppendEvents(db);
  // Ids assigned as SQLite would (the largest plus one), so a batch's rows go in with a few
  // multi-row statements (multi-row-insert.ts).
  const lastActionId = db.prepare<[], number>('SELECT COALESCE(MAX(id), 0) FROM actions').pluck();
  const insertActions = prepareMultiRowInsert(db, 'INSERT INTO actions (id, token, queue, status, priority, params, queued_at, idempotency_key)', 8);
  const keyHolder = prepareKeyHolder(db);
  const settle = db.prepare<[string, number, string | null, string | null, number]>(
    `UPDATE actions SET status = ?, ended_at = ?, result = ?, error = ?, progress = NULL, stop_requested = 0
     WHERE id = ? AND (status = 'Processing' OR (status = 'Paused' AND started_at IS NOT NULL))`,
  );
  // A locally taken action that also ended within the batch: its start and its end in one write
  // (the row goes from Queued to its final status). Short actions mostly end before their start is
  // committed, so this halves the row writes of a batch. Both events are still stored, in order.
  const startAndSettle = db.prepare<[string, number, number, string | null, string | null, number]>(
    `UPDATE actions SET status = ?, started_at = ?, ended_at = ?, attempts = attempts + 1, result = ?, error = ?, progress = NULL, stop_requested = 0
     WHERE id = ? AND status = 'Queued'`,
  );
  const readReports = db.prepare<[number], ActionRow>('SELECT * FROM actions WHERE id = ?');
  const writeReports = db.prepare<[string, number]>('UPDATE actions SET reports = ? WHERE id = ? RETURNING *');
  const writeProgress = db.prepare<[string, number]>(
    `UPDATE actions SET progress = ? WHERE id = ? AND (status = 'Processing' OR status = 'Paused')`,
  );

  // Rows enqueued by the running transaction, for local claims once it commits.
  let enqueuedRows: [queue: string, row: StartRow][] = [];

  function enqueueAll(actions: readonly NewAction[], stage: QueueSizeStage, events: NewEvent[], now: number): EnqueueOutcome[] {
    if (actions.length === 0) return [];
    let id = lastActionId.get()!;
    const values: unknown[] = [];
    const keys = new BatchKeys();
    const records = actions.map((a): EnqueueOutcome => {
      // A key held already (earlier in this batch, or stored) answers its holder, full queue or not.
      if (a.idempotencyKey !== undefined) {
        const holder = keys.takenBy(a) ?? keyHolder(a.queue, a.idempotencyKey);
        if (holder) return { duplicateOf: holder };
      }
      if (stage.size(a.queue) >= a.maxQueueSize) return 'full';
      id++;
      const params = JSON.stringify(a.params);
      values.push(id, a.token, a.queue, 'Queued', a.priority, params, a.queuedAt, a.idempotencyKey ?? null);
      enqueuedRows.push([a.queue, [id, a.token, a.priority, params, a.queuedAt, 0, null]]);
      stage.change(a.queue, +1, now, events);
      const record: ActionRecord = { id, token: a.token, queue: a.queue, status: 'Queued', priority: a.priority, params: a.params, queuedAt: a.queuedAt, attempts: 0, reports: [] };
      keys.take(a, record);
      return record;
    });
    insertActions(values);
    return records;
  }

  const run = db.transaction((batch: CommitBatch, behind: WrittenBehind, stage: QueueSizeStage): [CommitResult, EventRow[]] => {
    const { now } = batch;
    const events: NewEvent[] = [];
    const endings = behind.starts.length > 0 && batch.settlements.length > 0 ? new Map(batch.settlements.map((s) => [s.id, s])) : undefined;
    // Starts written together with their settlement (their settlement writes nothing more).
    const ended = new Set<number>();
    for (const record of behind.starts) {
      const s = endings?.get(record.id);
      // Always true: control operations leave taken actions alone (local-claims.ts invariant).
      const written = s
        ? startAndSettle.run(s.status, record.startedAt ?? now, s.endedAt, resultJson(s), s.error ?? null, s.id).changes === 1
        : localClaims.writeStart(record);
      if (!written) continue;
      if (s) ended.add(s.id);
      stage.change(record.queue, -1, now, events);
      events.push(...planner.forAction('OnStart', record, record.startedAt ?? now));
    }
    const settled = batch.settlements.map((s) => {
      const changed = ended.has(s.id) ? 1 : settle.run(s.status, s.endedAt, resultJson(s), s.error ?? null, s.id).changes;
      if (changed === 0) return undefined;
      const record = finalRecord(s);
      events.push(...planner.forAction(s.status === 'Error' ? 'OnError' : 'OnFinish', record, now));
      return record;
    });
    for (const r of batch.reports) {
      const row = readReports.get(r.id);
      if (!row) continue;
      const reports = [...(row.reports ? (JSON.parse(row.reports) as unknown[]) : []), { time: r.time, message: r.message }].slice(-REPORTS_KEPT);
      const updated = writeReports.get(JSON.stringify(reports), r.id) as ActionRow;
      events.push(...planner.forAction('OnErrorReport', rowToRecord(updated), now));
    }
    for (const p of batch.progress) writeProgress.run(JSON.stringify(p.progress), p.id);
    const enqueued = enqueueAll(batch.enqueues, stage, events, now);
    const stored = appendEvents(events);
    stage.persist();
    if (behind.deliveries.length > 0) applyDeliveries(behind.deliveries, now);
    return [{ enqueued, settled }, stored];
  });

  return (batch, behind) => {
    const stage = sizes.stage();
    enqueuedRows = [];
    const [result, stored] = run(batch, behind, stage);
    stage.publish();
    const queued = new Map<string, number>();
    for (const [queue, row] of enqueuedRows) {
      localClaims.enqueued(queue, row);
      queued.set(queue, (queued.get(queue) ?? 0) + 1);
    }
    for (const record of behind.starts) localClaims.release(record);
    return { result, stored, queued };
  };
}

/**
 * The group commit: one transaction applies a whole batch of enqueues, settlements, error reports,
 * progress updates and claims, and appends the events they cause (store.ts invariants).
 *
 * Order inside the transaction: starts of locally claimed actions first (their OnStart precedes
 * everything else of theirs), then settlements, reports and progress, then enqueues, then claims,
 * so a batch may claim an action it enqueued; delivery outcomes last (they concern events of
 * earlier commits only).
 */
import type Database from 'better-sqlite3';
import type { ActionRecord } from '../../queue/record.js';
import type { CommitBatch, CommitResult, DeliveryOutcome, EventPlanner, EventRow, EventsStoredListener, NewAction, NewEvent, Settlement } from '../store.js';
import { byClaimOrder, rowToRecord, START_COLUMNS, startedRecord, type ActionRow, type StartRow } from './rows.js';
import { prepareAppendEvents } from './events-sql.js';
import { prepareMultiRowInsert } from './multi-row-insert.js';
import type { QueueSizes, QueueSizeStage } from './queue-sizes.js';
import type { LocalClaims } from './local-claims.js';

const REPORTS_KEPT = 100;

const resultJson = (s: Settlement): string | null => (s.result ? JSON.stringify(s.result) : null);

/**
 * The record after a settlement, without reading the row back. Spelled out rather than spread: it
 * runs for every action, and the rest-and-spread version was most of a settlement's garbage.
 */
function finalRecord(s: Settlement): ActionRecord {
  const r = s.running;
  const record: { -readonly [K in keyof ActionRecord]: ActionRecord[K] } = {
    id: r.id,
    token: r.token,
    queue: r.queue,
    status: s.status,
    priority: r.priority,
    params: r.params,
    queuedAt: r.queuedAt,
    attempts: r.attempts,
    reports: r.reports,
    endedAt: s.endedAt,
  };
  if (r.startedAt !== undefined) record.startedAt = r.startedAt;
  if (r.owner !== undefined) record.owner = r.owner;
  if (s.result) record.result = s.result;
  if (s.error !== undefined) record.error = s.error;
  return record;
}

export function prepareCommitBatch(
  db: Database.Database,
  sizes: QueueSizes,
  planner: EventPlanner,
  onEventsStored: EventsStoredListener,
  localClaims: LocalClaims,
  applyDeliveries: (outcomes: readonly DeliveryOutcome[], now: number) => void,
): (batch: CommitBatch) => CommitResult {
  const appendEvents = prepareAppendEvents(db);
  // Ids assigned as SQLite would (the largest plus one), so a batch's rows go in with a few
  // multi-row statements (multi-row-insert.ts).
  const lastActionId = db.prepare<[], number>('SELECT COALESCE(MAX(id), 0) FROM actions').pluck();
  const insertActions = prepareMultiRowInsert(db, 'INSERT INTO actions (id, token, queue, status, priority, params, queued_at)', 7);
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
  // Only the columns a claimed record needs, as arrays: measured, this halves the cost of a claim
  // against RETURNING * (materialising 16 columns as an object dominated it). No owner is written:
  // one process owns a SQLite store.
  const claim = db
    .prepare<[number, string, number]>(
      `UPDATE actions SET status = 'Processing', started_at = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM actions WHERE queue = ? AND status = 'Queued' ORDER BY priority DESC, id LIMIT ?)
       RETURNING ${START_COLUMNS}`,
    )
    .raw();

  // Rows enqueued by the running transaction, for local claims once it commits.
  let enqueuedRows: [queue: string, row: StartRow][] = [];

  function enqueueAll(actions: readonly NewAction[], stage: QueueSizeStage, events: NewEvent[], now: number): (ActionRecord | 'full')[] {
    if (actions.length === 0) return [];
    let id = lastActionId.get()!;
    const values: unknown[] = [];
    const records = actions.map((a): ActionRecord | 'full' => {
      if (stage.size(a.queue) >= a.maxQueueSize) return 'full';
      id++;
      const params = JSON.stringify(a.params);
      values.push(id, a.token, a.queue, 'Queued', a.priority, params, a.queuedAt);
      enqueuedRows.push([a.queue, [id, a.token, a.priority, params, a.queuedAt, 0, null]]);
      stage.change(a.queue, +1, now, events);
      return { id, token: a.token, queue: a.queue, status: 'Queued', priority: a.priority, params: a.params, queuedAt: a.queuedAt, attempts: 0, reports: [] };
    });
    insertActions(values);
    return records;
  }

  const run = db.transaction((batch: CommitBatch, stage: QueueSizeStage): [CommitResult, EventRow[]] => {
    const { now } = batch;
    const events: NewEvent[] = [];
    const endings = batch.starts.length > 0 && batch.settlements.length > 0 ? new Map(batch.settlements.map((s) => [s.id, s])) : undefined;
    // Starts written together with their settlement (their settlement writes nothing more).
    const ended = new Set<number>();
    for (const record of batch.starts) {
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
    const claimed = batch.claims.map((c) => {
      if (c.max <= 0) return [];
      const records = (claim.all(now, c.queue, c.max) as StartRow[]).map((row) => startedRecord(c.queue, now, row, row[5])).sort(byClaimOrder);
      // Rows local claims may have read ahead are no longer waiting.
      if (records.length > 0) localClaims.reset(c.queue);
      for (const record of records) {
        stage.change(c.queue, -1, now, events);
        events.push(...planner.forAction('OnStart', record, now));
      }
      return records;
    });
    const stored = appendEvents(events);
    stage.persist();
    if (batch.deliveries.length > 0) applyDeliveries(batch.deliveries, now);
    return [{ enqueued, claimed, settled }, stored];
  });

  return (batch) => {
    const stage = sizes.stage();
    enqueuedRows = [];
    const [result, stored] = run(batch, stage);
    stage.publish();
    for (const [queue, row] of enqueuedRows) localClaims.enqueued(queue, row);
    for (const record of batch.starts) localClaims.release(record);
    if (stored.length > 0) onEventsStored(stored);
    return result;
  };
}

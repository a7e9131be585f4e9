/**
 * A group commit's writes, decided in advance (commit-plan.ts) and applied in one transaction,
 * possibly by another thread (store-writer.ts): plain data, cheap to pass between threads.
 *
 * Applying checks each row change's condition (the row is still as the plan expected); a change
 * that finds its row otherwise is skipped, with the events it caused, and reported back by its
 * index (`changes` first, then `claims`). Within one process that owns the database this does not
 * happen (local-claims.ts invariant); the check keeps a surprise from storing a false event.
 *
 * Locking: one IMMEDIATE transaction (the write lock from the start: another connection of this
 * process may have written since this one last read).
 */
import type Database from 'better-sqlite3';
import type { DeliveryOutcome } from '../store.js';
import { DOCUMENT_COLUMNS, EVENT_COLUMNS, prepareEventInserts } from './events-sql.js';
import { prepareMultiRowInsert } from './multi-row-insert.js';
import { prepareApplyDeliveries } from './delivery-outcomes.js';

export type RowChange =
  /** A locally taken action started (its row still Queued). */
  | { readonly kind: 'start'; readonly id: number; readonly startedAt: number }
  /** Taken and ended within the batch: Queued straight to its final status. */
  | { readonly kind: 'startAndSettle'; readonly id: number; readonly status: string; readonly startedAt: number; readonly endedAt: number; readonly result: string | null; readonly error: string | null }
  /** A running action ended. */
  | { readonly kind: 'settle'; readonly id: number; readonly status: string; readonly endedAt: number; readonly result: string | null; readonly error: string | null }
  | { readonly kind: 'reports'; readonly id: number; readonly reports: string }
  | { readonly kind: 'progress'; readonly id: number; readonly progress: string };

export interface WritePlan {
  readonly now: number;
  /** In order, before the enqueues. */
  readonly changes: readonly RowChange[];
  /** Values of new action rows (ACTION_COLUMNS per row: id, token, queue, status, priority, params, queued_at). */
  readonly enqueues: readonly unknown[];
  /** After the enqueues (a batch may claim what it enqueued): the ids of claimed rows, all started at `now`. */
  readonly claims: readonly number[];
  /** events-sql.ts eventWrites' values, and per event row the index of the change that caused it (-1: none). */
  readonly eventValues: readonly unknown[];
  readonly documentValues: readonly unknown[];
  readonly eventOwners: readonly number[];
  /** Queue event state machine positions to store: [queue, last event]. */
  readonly lastQueueEvents: readonly (readonly [string, string])[];
  readonly deliveries: readonly DeliveryOutcome[];
}

export const ACTION_COLUMNS = 7;

/** Returns the indexes of the changes and claims skipped because their row was not as expected. */
export function prepareApplyWritePlan(db: Database.Database): (plan: WritePlan) => number[] {
  const start = db.prepare<[number, number]>(`UPDATE actions SET status = 'Processing', started_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'Queued'`);
  const startAndSettle = db.prepare<[string, number, number, string | null, string | null, number]>(
    `UPDATE actions SET status = ?, started_at = ?, ended_at = ?, attempts = attempts + 1, result = ?, error = ?, progress = NULL, stop_requested = 0
     WHERE id = ? AND status = 'Queued'`,
  );
  const settle = db.prepare<[string, number, string | null, string | null, number]>(
    `UPDATE actions SET status = ?, ended_at = ?, result = ?, error = ?, progress = NULL, stop_requested = 0
     WHERE id = ? AND (status = 'Processing' OR (status = 'Paused' AND started_at IS NOT NULL))`,
  );
  const writeReports = db.prepare<[string, number]>('UPDATE actions SET reports = ? WHERE id = ?');
  const writeProgress = db.prepare<[string, number]>(`UPDATE actions SET progress = ? WHERE id = ? AND (status = 'Processing' OR status = 'Paused')`);
  const insertActions = prepareMultiRowInsert(db, 'INSERT INTO actions (id, token, queue, status, priority, params, queued_at)', ACTION_COLUMNS);
  const insertEvents = prepareEventInserts(db);
  const writeLast = db.prepare<[string, string]>(
    `INSERT INTO queues (name, last_event) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_event = excluded.last_event`,
  );
  const applyDeliveries = prepareApplyDeliveries(db);

  function change(c: RowChange): number {
    switch (c.kind) {
      case 'start':
        return start.run(c.startedAt, c.id).changes;
      case 'startAndSettle':
        return startAndSettle.run(c.status, c.startedAt, c.endedAt, c.result, c.error, c.id).changes;
      case 'settle':
        return settle.run(c.status, c.endedAt, c.result, c.error, c.id).changes;
      case 'reports':
        return writeReports.run(c.reports, c.id).changes;
      case 'progress':
        // Progress of an action that ended meanwhile is dropped; nothing depends on it.
        writeProgress.run(c.progress, c.id);
        return 1;
    }
  }

  const apply = db.transaction((plan: WritePlan): number[] => {
    const skipped: number[] = [];
    plan.changes.forEach((c, i) => {
      if (change(c) === 0) skipped.push(i);
    });
    if (plan.enqueues.length > 0) insertActions(plan.enqueues as unknown[]);
    plan.claims.forEach((id, k) => {
      if (start.run(plan.now, id).changes === 0) skipped.push(plan.changes.length + k);
    });
    if (skipped.length === 0) insertEvents(plan.eventValues as unknown[], plan.documentValues as unknown[]);
    else insertEvents(...withoutSkipped(plan, new Set(skipped)));
    for (const [queue, last] of plan.lastQueueEvents) writeLast.run(queue, last);
    if (plan.deliveries.length > 0) applyDeliveries(plan.deliveries, plan.now);
    return skipped;
  });
  return (plan) => apply.immediate(plan);
}

/** The event rows and documents of a plan, less those caused by skipped changes. */
function withoutSkipped(plan: WritePlan, skipped: ReadonlySet<number>): [unknown[], unknown[]] {
  const events: unknown[] = [];
  const dropped = new Set<unknown>();
  plan.eventOwners.forEach((owner, k) => {
    const row = plan.eventValues.slice(k * EVENT_COLUMNS, (k + 1) * EVENT_COLUMNS);
    if (skipped.has(owner)) dropped.add(row[0]);
    else events.push(...row);
  });
  const documents: unknown[] = [];
  for (let d = 0; d < plan.documentValues.length; d += DOCUMENT_COLUMNS) {
    if (!dropped.has(plan.documentValues[d])) documents.push(...plan.documentValues.slice(d, d + DOCUMENT_COLUMNS));
  }
  return [events, documents];
}

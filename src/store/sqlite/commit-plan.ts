/**
 * The group commit, first half: everything a batch of enqueues, starts, settlements, error
 * reports, progress updates, claims and delivery outcomes will write, decided on the main thread
 * (ids, seqs, records, events and their documents, queue sizes), as a WritePlan that one
 * transaction applies (write-plan.ts), possibly on the writer thread (store-writer.ts). Then
 * `finish` makes it visible in memory.
 *
 * Why in advance: the main thread never waits on SQLite's work for the batch, only on its end,
 * and runs actions and deliveries meanwhile, or plans the next batch. Decided from the committed
 * state and the plans still in flight (`inFlight`): ids and seqs then continue from the last plan,
 * and queue sizes from its stage (published when planned; a failed plan makes them recounted).
 * A batch that reads rows (error reports, claims) is planned only with nothing in flight, and no
 * other write runs while plans are (sqlite-store.ts).
 *
 * Order inside the transaction: starts of locally claimed actions first (their OnStart precedes
 * everything else of theirs), then settlements, reports and progress, then enqueues, then claims,
 * so a batch may claim an action it enqueued; delivery outcomes last (they concern events of
 * earlier commits only).
 */
import type Database from 'better-sqlite3';
import type { ActionRecord } from '../../queue/record.js';
import type { CommitBatch, CommitResult, EventPlanner, EventRow, EventsStoredListener, NewAction, NewEvent, Settlement } from '../store.js';
import { rowToRecord, START_COLUMNS, startedRecord, type ActionRow, type StartRow } from './rows.js';
import { eventWrites, prepareLastSeq } from './events-sql.js';
import type { QueueSizes, QueueSizeStage } from './queue-sizes.js';
import type { LocalClaims } from './local-claims.js';
import type { RowChange, WritePlan } from './write-plan.js';

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

/** Claim order of start rows: priority first, then arrival. */
const byRowClaimOrder = (a: StartRow, b: StartRow): number => b[2] - a[2] || a[0] - b[0];

export interface PlannedCommit {
  readonly plan: WritePlan;
  /** After the plan's transaction committed; `skipped`: what write-plan.ts reported skipped. */
  finish(skipped: readonly number[]): CommitResult;
  /** The plan was not applied: the queue sizes it published are recounted. */
  failed(): void;
}

/** Does planning this batch read rows (so it needs every earlier plan applied first)? */
export const readsRows = (batch: CommitBatch): boolean => batch.reports.length > 0 || batch.claims.some((c) => c.max > 0);

export function prepareCommitPlanner(
  db: Database.Database,
  sizes: QueueSizes,
  planner: EventPlanner,
  onEventsStored: EventsStoredListener,
  localClaims: LocalClaims,
): (batch: CommitBatch, inFlight: boolean) => PlannedCommit {
  const lastSeq = prepareLastSeq(db);
  // The last id and seq planned, for planning while earlier plans are in flight.
  let plannedId = 0;
  let plannedSeq = 0;
  const lastActionId = db.prepare<[], number>('SELECT COALESCE(MAX(id), 0) FROM actions').pluck();
  const readRow = db.prepare<[number], ActionRow>('SELECT * FROM actions WHERE id = ?');
  const waitingRows = db
    .prepare<[string, number]>(`SELECT ${START_COLUMNS} FROM actions WHERE queue = ? AND status = 'Queued' ORDER BY priority DESC, id LIMIT ?`)
    .raw();

  return (batch, inFlight) => {
    const { now } = batch;
    const stage = sizes.stage();
    const events: NewEvent[] = [];
    /** Per event: the index of the change that caused it, or -1. */
    const owners: number[] = [];
    const changes: RowChange[] = [];
    const addEvents = (caused: readonly NewEvent[], owner: number) => {
      for (const e of caused) {
        events.push(e);
        owners.push(owner);
      }
    };
    const sizeChange = (queue: string, delta: number) => {
      const before = events.length;
      stage.change(queue, delta, now, events);
      for (let i = before; i < events.length; i++) owners.push(-1);
    };
    /** The record of each action as the batch leaves it so far (for the documents of reports). */
    const current = new Map<number, ActionRecord>();

    // Starts, each with its settlement when the action also ended within the batch (one write).
    const endings = batch.starts.length > 0 && batch.settlements.length > 0 ? new Map(batch.settlements.map((s) => [s.id, s])) : undefined;
    const startChange = new Map<number, number>();
    for (const record of batch.starts) {
      const s = endings?.get(record.id);
      const startedAt = record.startedAt ?? now;
      const index = changes.length;
      changes.push(
        s
          ? { kind: 'startAndSettle', id: s.id, status: s.status, startedAt, endedAt: s.endedAt, result: resultJson(s), error: s.error ?? null }
          : { kind: 'start', id: record.id, startedAt },
      );
      if (s) startChange.set(s.id, index);
      sizeChange(record.queue, -1);
      addEvents(planner.forAction('OnStart', record, startedAt), index);
      current.set(record.id, record);
    }

    const settledAt = batch.settlements.map((s) => {
      let index = startChange.get(s.id);
      if (index === undefined) {
        index = changes.length;
        changes.push({ kind: 'settle', id: s.id, status: s.status, endedAt: s.endedAt, result: resultJson(s), error: s.error ?? null });
      }
      const record = finalRecord(s);
      addEvents(planner.forAction(s.status === 'Error' ? 'OnError' : 'OnFinish', record, now), index);
      current.set(s.id, record);
      return { record, index };
    });

    // Reports add to the stored list (the row's, with this batch's earlier reports).
    const reportLists = new Map<number, ActionRecord['reports']>();
    for (const r of batch.reports) {
      let stored = reportLists.get(r.id);
      let base = current.get(r.id);
      if (stored === undefined || base === undefined) {
        const row = readRow.get(r.id);
        if (!row) continue;
        const fromRow = rowToRecord(row);
        stored ??= fromRow.reports;
        base ??= fromRow;
      }
      const reports = [...stored, { time: r.time, message: r.message }].slice(-REPORTS_KEPT);
      reportLists.set(r.id, reports);
      const index = changes.length;
      changes.push({ kind: 'reports', id: r.id, reports: JSON.stringify(reports) });
      const record = { ...base, reports };
      addEvents(planner.forAction('OnErrorReport', record, now), index);
      current.set(r.id, record);
    }
    for (const p of batch.progress) changes.push({ kind: 'progress', id: p.id, progress: JSON.stringify(p.progress) });

    const enqueues = planEnqueues(batch.enqueues, stage, sizeChange, inFlight ? plannedId : lastActionId.get()!);
    plannedId = enqueues.lastId;

    // Claims: the waiting rows in claim order, this batch's enqueues among them; none that this
    // batch starts or that local claims hold.
    const claims: number[] = [];
    const claimed = batch.claims.map((c) => {
      if (c.max <= 0) return [];
      const committed = (waitingRows.all(c.queue, c.max + current.size + claims.length + localClaims.takenCount) as StartRow[]).filter(
        (row) => !current.has(row[0]) && !claims.includes(row[0]) && !localClaims.isTaken(row[0]),
      );
      const fresh = enqueues.rows.filter(([queue, row]) => queue === c.queue && !claims.includes(row[0])).map(([, row]) => row);
      const rows = [...committed, ...fresh].sort(byRowClaimOrder).slice(0, c.max);
      return rows.map((row) => {
        const record = startedRecord(c.queue, now, row, row[5] + 1);
        const index = changes.length + claims.length;
        claims.push(record.id);
        sizeChange(c.queue, -1);
        addEvents(planner.forAction('OnStart', record, now), index);
        return { record, index };
      });
    });

    const firstSeq = inFlight ? plannedSeq : lastSeq();
    const writes = eventWrites(events, firstSeq);
    plannedSeq = firstSeq + events.length;
    const plan: WritePlan = {
      now,
      changes,
      enqueues: enqueues.values,
      claims,
      eventValues: writes.eventValues,
      documentValues: writes.documentValues,
      eventOwners: owners,
      lastQueueEvents: stage.lastEvents(),
      deliveries: batch.deliveries,
    };
    stage.publish();

    function finish(skippedList: readonly number[]): CommitResult {
      const skipped = new Set(skippedList);
      // A start the store refused (local-claims.ts says it cannot happen): recount the sizes.
      if ([...skipped].some((i) => i >= changes.length || changes[i]!.kind === 'start' || changes[i]!.kind === 'startAndSettle')) sizes.reset();
      for (const [queue, row] of enqueues.rows) localClaims.enqueued(queue, row);
      for (const record of batch.starts) localClaims.release(record);
      batch.claims.forEach((c, i) => {
        if (claimed[i]!.length > 0) localClaims.reset(c.queue);
      });
      const stored: EventRow[] = skipped.size === 0 ? writes.rows : writes.rows.filter((_, k) => !skipped.has(owners[k]!));
      if (stored.length > 0) onEventsStored(stored);
      return {
        enqueued: enqueues.records,
        claimed: claimed.map((list) => list.filter((c) => !skipped.has(c.index)).map((c) => c.record)),
        settled: settledAt.map((s) => (skipped.has(s.index) ? undefined : s.record)),
      };
    }
    return { plan, finish, failed: () => sizes.reset() };
  };
}

interface PlannedEnqueues {
  readonly records: (ActionRecord | 'full')[];
  /** The largest id given (lastId when none). */
  readonly lastId: number;
  /** ACTION_COLUMNS values per accepted action. */
  readonly values: unknown[];
  /** The accepted rows, for claims in this batch and for local claims once committed. */
  readonly rows: [queue: string, row: StartRow][];
}

/** Ids assigned as SQLite would (the largest plus one), so the rows go in with multi-row statements. */
function planEnqueues(actions: readonly NewAction[], stage: QueueSizeStage, sizeChange: (queue: string, delta: number) => void, lastId: number): PlannedEnqueues {
  let id = lastId;
  const values: unknown[] = [];
  const rows: [string, StartRow][] = [];
  const records = actions.map((a): ActionRecord | 'full' => {
    if (stage.size(a.queue) >= a.maxQueueSize) return 'full';
    id++;
    const params = JSON.stringify(a.params);
    values.push(id, a.token, a.queue, 'Queued', a.priority, params, a.queuedAt);
    rows.push([a.queue, [id, a.token, a.priority, params, a.queuedAt, 0, null]]);
    sizeChange(a.queue, +1);
    return { id, token: a.token, queue: a.queue, status: 'Queued', priority: a.priority, params: a.params, queuedAt: a.queuedAt, attempts: 0, reports: [] };
  });
  return { records, values, rows, lastId: id };
}

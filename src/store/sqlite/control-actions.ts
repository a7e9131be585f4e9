/**
 * QueueInfo's changes to single actions and queues (idol-reference.md §7.2): cancel,
 * changePriority, pause, resume, stop requests, duplicate; and crash recovery and purge.
 * Each runs in its own transaction; those that change a queue's size go through QueueSizes so
 * queue events fire and are stored in the same transaction.
 */
import type Database from 'better-sqlite3';
import { FINAL_STATUSES, type ActionRecord } from '../../queue/record.js';
import type { EventRow, NewAction, NewEvent } from '../store.js';
import { rowToRecord, type ActionRow } from './rows.js';
import type { QueueSizes } from './queue-sizes.js';
import { prepareAppendEvents } from './events-sql.js';
import type { LocalClaims } from './local-claims.js';

const WAITING = `(status = 'Queued' OR (status = 'Paused' AND started_at IS NULL))`;

export function prepareControlActions(db: Database.Database, sizes: QueueSizes, onEventsStored: (rows: readonly EventRow[]) => void, localClaims: LocalClaims) {
  const appendEvents = prepareAppendEvents(db);
  const cancelStmt = db.prepare<[number, string]>(`UPDATE actions SET status = 'Cancelled', ended_at = ? WHERE token = ? AND ${WAITING} RETURNING *`);
  const priorityStmt = db.prepare<[number, string]>(`UPDATE actions SET priority = ? WHERE token = ? AND ${WAITING} RETURNING *`);
  const pauseStmt = db.prepare<[string]>(`UPDATE actions SET status = 'Paused' WHERE token = ? AND status IN ('Queued', 'Processing') RETURNING *`);
  const resumeStmt = db.prepare<[string]>(
    `UPDATE actions SET status = CASE WHEN started_at IS NULL THEN 'Queued' ELSE 'Processing' END
     WHERE token = ? AND status = 'Paused' RETURNING *`,
  );
  const queuePausedStmt = db.prepare<[string, number]>(
    `INSERT INTO queues (name, paused) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused`,
  );
  const stopStmt = db.prepare<[string]>(
    `UPDATE actions SET stop_requested = 1 WHERE token = ? AND (status = 'Processing' OR (status = 'Paused' AND started_at IS NOT NULL)) RETURNING id`,
  );
  const pendingStopsStmt = db.prepare<[string], number>(
    `SELECT id FROM actions WHERE owner = ? AND stop_requested = 1 AND status IN ('Processing', 'Paused')`,
  ).pluck();
  const sourceStmt = db.prepare<[string], ActionRow>(`SELECT * FROM actions WHERE token = ? AND status IN ('Queued', 'Processing', 'Paused')`);
  const insertStmt = db.prepare<[string, string, number, string, number]>(
    `INSERT INTO actions (token, queue, status, priority, params, queued_at) VALUES (?, ?, 'Queued', ?, ?, ?) RETURNING *`,
  );
  const recoverStmt = db.prepare<[]>(
    `UPDATE actions SET status = 'Queued', started_at = NULL, owner = NULL, progress = NULL, stop_requested = 0
     WHERE status = 'Processing' OR (status = 'Paused' AND started_at IS NOT NULL)`,
  );
  // Walks actions_claim (queue, status) in slices, so a large purge never holds the lock for long.
  const purgeStmt = db.prepare<[string, string, number]>(
    `DELETE FROM actions WHERE id IN (SELECT id FROM actions WHERE queue = ? AND status = ? AND ended_at < ? LIMIT 2000)`,
  );

  /** Run `change` in a transaction with a QueueSizes stage; store the queue events it causes. */
  function withSizes<T>(change: (stage: ReturnType<QueueSizes['stage']>, events: NewEvent[]) => T): T {
    const stage = sizes.stage();
    const [result, stored] = db.transaction((): [T, EventRow[]] => {
      const events: NewEvent[] = [];
      const value = change(stage, events);
      const rows = appendEvents(events);
      stage.persist();
      return [value, rows];
    })();
    stage.publish();
    if (stored.length > 0) onEventsStored(stored);
    return result;
  }

  const one = (row: unknown): ActionRecord | undefined => (row ? rowToRecord(row as ActionRow) : undefined);
  const idOf = db.prepare<[string], number>('SELECT id FROM actions WHERE token = ?').pluck();
  /** Tell local claims of a row that is (again) waiting, so their cursor does not pass it. */
  const waiting = (record: ActionRecord | undefined): ActionRecord | undefined => {
    if (record?.status === 'Queued') localClaims.noteWaiting(record.queue, record.priority, record.id);
    return record;
  };
  /** A waiting row changed: local claims must not hand out what they read of it before. */
  const forget = (record: ActionRecord | undefined): ActionRecord | undefined => {
    if (record) localClaims.reset(record.queue);
    return record;
  };
  /** Taken by a local claim: running, though its row still says Queued (local-claims.ts). */
  const taken = (token: string): boolean => {
    const id = idOf.get(token);
    return id !== undefined && localClaims.isTaken(id);
  };

  return {
    cancel: (token: string, now: number) =>
      withSizes((stage, events) => {
        if (taken(token)) return undefined;
        const record = one(cancelStmt.get(now, token));
        if (record) {
          stage.change(record.queue, -1, now, events);
          localClaims.reset(record.queue);
        }
        return record;
      }),
    changePriority: (token: string, priority: number) => waiting(forget(taken(token) ? undefined : one(priorityStmt.get(priority, token)))),
    pauseAction: (token: string) => forget(taken(token) ? undefined : one(pauseStmt.get(token))),
    resumeAction: (token: string) => waiting(one(resumeStmt.get(token))),
    setQueuePaused: (queue: string, paused: boolean) => void queuePausedStmt.run(queue, paused ? 1 : 0),
    requestStop: (token: string) => stopStmt.get(token) !== undefined,
    pendingStops: (node: string) => pendingStopsStmt.all(node),
    duplicate: (token: string, copy: NewAction) =>
      withSizes((stage, events): ActionRecord | 'full' | undefined => {
        const source = sourceStmt.get(token);
        if (!source) return undefined;
        if (stage.size(copy.queue) >= copy.maxQueueSize) return 'full';
        const record = waiting(rowToRecord(insertStmt.get(copy.token, copy.queue, source.priority, source.params, copy.queuedAt) as ActionRow))!;
        stage.change(copy.queue, +1, copy.queuedAt, events);
        return record;
      }),
    recover: (): number => {
      // Runs before any claim; the cached sizes are rebuilt from the table afterwards.
      const changes = db.transaction(() => recoverStmt.run().changes)();
      sizes.reset();
      localClaims.reset();
      return changes;
    },
    purge: (queues: readonly string[], before: number): number => {
      let total = 0;
      for (const queue of queues) {
        for (const status of FINAL_STATUSES) {
          let deleted: number;
          do {
            deleted = purgeStmt.run(queue, status, before).changes;
            total += deleted;
          } while (deleted > 0);
        }
      }
      return total;
    },
  };
}

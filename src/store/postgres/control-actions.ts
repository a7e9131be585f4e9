/**
 * QueueInfo's changes to single actions and queues on PostgreSQL (idol-reference.md §7.2): cancel,
 * changePriority, pause, resume, stop requests, duplicate, queue pause, and the retention purge.
 * Each is one transaction; those that change a queue's size take its tally first (locking rule)
 * and store the queue events they cause. The node that runs an action learns of a stop, pause or
 * resume through the notification (and polls stop requests as the floor, scheduler.ts).
 */
import { FINAL_STATUSES, type ActionRecord } from '../../queue/record.js';
import { rowToRecord, type ActionRow } from '../action-row.js';
import type { EventPlanner, NewAction, NewEvent } from '../store.js';
import { appendEvents, handlersOf, notify, type Notice } from './append-events.js';
import type { RunInTransaction } from './transaction.js';
import { QueueTally } from './queue-tally.js';
import type { Sql } from './transaction.js';

const WAITING = `(status = 'Queued' OR (status = 'Paused' AND started_at IS NULL))`;
const RUNNING = `(status = 'Processing' OR (status = 'Paused' AND started_at IS NOT NULL))`;

const one = (rows: ActionRow[]): ActionRecord | undefined => (rows[0] ? rowToRecord(rows[0]) : undefined);

export function postgresControl(transaction: RunInTransaction, planner: EventPlanner, storeId: string, told: (notice: Notice) => void) {
  /** A transaction that tells the cluster (and this store's listeners) what it changed. */
  async function changing<T>(what: string, work: (sql: Sql, notice: { e?: string[]; w?: [string, number][]; c?: [string, 'stop' | 'pause' | 'resume'][]; p?: string[]; r?: string[] }) => Promise<T>): Promise<T> {
    const notice: { e?: string[]; w?: [string, number][]; c?: [string, 'stop' | 'pause' | 'resume'][]; p?: string[]; r?: string[] } = {};
    const result = await transaction(what, async (sql) => {
      const value = await work(sql, notice);
      await notify(sql, { ...notice, s: storeId });
      return value;
    });
    told(notice);
    return result;
  }

  /** Lock the queue of a token's action (queue rows before action rows). */
  async function tallyFor(sql: Sql, token: string): Promise<QueueTally | undefined> {
    const found = await sql.query<{ queue: string }>('SELECT queue FROM actions WHERE token = $1', [token]);
    const queue = found.rows[0]?.queue;
    return queue === undefined ? undefined : QueueTally.lock(sql, [queue], planner);
  }

  async function storeEvents(sql: Sql, tally: QueueTally, events: NewEvent[], notice: { e?: string[] }): Promise<void> {
    await appendEvents(sql, events);
    await tally.write(sql);
    if (events.length > 0) notice.e = handlersOf(events);
  }

  return {
    cancel: (token: string, now: number) =>
      changing('cancel', async (sql, notice) => {
        const tally = await tallyFor(sql, token);
        if (!tally) return undefined;
        // A reservation does not hold a waiting action back from a cancel: the node that reserved it
        // then fails to start it (commit-batch.ts fencing) and stops its run.
        const record = one((await sql.query<ActionRow>(`UPDATE actions SET status = 'Cancelled', ended_at = $1, owner = NULL WHERE token = $2 AND ${WAITING} RETURNING *`, [now, token])).rows);
        if (!record) return undefined;
        const events: NewEvent[] = [];
        tally.change(record.queue, -1, now, events);
        await storeEvents(sql, tally, events, notice);
        return record;
      }),
    changePriority: (token: string, priority: number) =>
      changing('changePriority', async (sql, notice) => {
        const record = one((await sql.query<ActionRow>(`UPDATE actions SET priority = $1 WHERE token = $2 AND ${WAITING} RETURNING *`, [priority, token])).rows);
        if (record?.status === 'Queued') notice.w = [[record.queue, 1]];
        return record;
      }),
    pauseAction: (token: string) =>
      changing('pause', async (sql, notice) => {
        const record = one((await sql.query<ActionRow>(`UPDATE actions SET status = 'Paused', owner = CASE WHEN status = 'Queued' THEN NULL ELSE owner END WHERE token = $1 AND status IN ('Queued', 'Processing') RETURNING *`, [token])).rows);
        if (record?.startedAt !== undefined) notice.c = [[token, 'pause']];
        return record;
      }),
    resumeAction: (token: string) =>
      changing('resume', async (sql, notice) => {
        const record = one(
          (await sql.query<ActionRow>(`UPDATE actions SET status = CASE WHEN started_at IS NULL THEN 'Queued' ELSE 'Processing' END WHERE token = $1 AND status = 'Paused' RETURNING *`, [token])).rows,
        );
        if (record?.status === 'Queued') notice.w = [[record.queue, 1]];
        if (record?.status === 'Processing') notice.c = [[token, 'resume']];
        return record;
      }),
    setQueuePaused: (queue: string, paused: boolean) =>
      changing('pause', async (sql, notice) => {
        await sql.query('INSERT INTO queues (name, paused) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused', [queue, paused]);
        if (!paused) (notice.w = [[queue, 1_000_000]]), (notice.r = [queue]);
        else {
          // Reserved rows of a paused queue go back (reservations.ts): nodes forget their buffers on
          // this notice, and a run that began from one is stopped when its start is refused
          // (commit-batch.ts fencing); the row waits, Queued, for the resume.
          await sql.query(`UPDATE actions SET owner = NULL WHERE queue = $1 AND status = 'Queued' AND owner IS NOT NULL`, [queue]);
          notice.p = [queue];
        }
      }),
    requestStop: (token: string) =>
      changing('stop', async (sql, notice) => {
        const rows = await sql.query(`UPDATE actions SET stop_requested = true WHERE token = $1 AND ${RUNNING} RETURNING id`, [token]);
        if (rows.rowCount === 0) return false;
        notice.c = [[token, 'stop']];
        return true;
      }),
    duplicate: (token: string, copy: NewAction) =>
      changing('duplicate', async (sql, notice): Promise<ActionRecord | 'full' | undefined> => {
        const tally = await QueueTally.lock(sql, [copy.queue], planner);
        const source = (await sql.query<ActionRow>(`SELECT * FROM actions WHERE token = $1 AND status IN ('Queued', 'Processing', 'Paused')`, [token])).rows[0];
        if (!source) return undefined;
        if (tally.size(copy.queue) >= copy.maxQueueSize) return 'full';
        const inserted = await sql.query<ActionRow>(
          `INSERT INTO actions (token, queue, status, priority, params, queued_at) VALUES ($1, $2, 'Queued', $3, $4, $5) RETURNING *`,
          [copy.token, copy.queue, source.priority, source.params, copy.queuedAt],
        );
        const events: NewEvent[] = [];
        tally.change(copy.queue, +1, copy.queuedAt, events);
        await storeEvents(sql, tally, events, notice);
        notice.w = [[copy.queue, 1]];
        return rowToRecord(inserted.rows[0]!);
      }),
    purge: async (queues: readonly string[], before: number): Promise<number> => {
      let total = 0;
      for (;;) {
        // Slices, so a large purge never holds locks for long.
        const deleted = await transaction('purge', async (sql) =>
          (await sql.query(
            `DELETE FROM actions WHERE id IN (SELECT id FROM actions WHERE queue = ANY($1::text[]) AND status = ANY($2::text[]) AND ended_at < $3 LIMIT 2000)`,
            [queues, [...FINAL_STATUSES], before],
          )).rowCount ?? 0,
        );
        total += deleted;
        if (deleted === 0) return total;
      }
    },
  };
}

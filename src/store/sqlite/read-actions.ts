/**
 * Reading action records: by token, by QueueInfo filter (idol-reference.md §7.1), and a queue's
 * counts per status from the tally the triggers keep (migrations.ts v5), not from the actions.
 * Read-only; no locking beyond SQLite's snapshot.
 */
import type Database from 'better-sqlite3';
import type { ActionRecord } from '../../queue/record.js';
import type { ActionFilter, QueueCounts } from '../store.js';
import { rowToRecord, type ActionRow } from './rows.js';
import { actionListing } from '../listing-filters.js';

/** A queue's actions per status (the statement the query-plan test checks). */
export const COUNTS_SQL = 'SELECT status, n FROM action_counts WHERE queue = ?';
const LISTINGS_KEPT = 64;

export function prepareReadActions(db: Database.Database) {
  const byToken = db.prepare<[string], ActionRow>('SELECT * FROM actions WHERE token = ?');
  const counts = db.prepare<[string], { status: string; n: number }>(COUNTS_SQL);
  const paused = db.prepare<[string], number>('SELECT paused FROM queues WHERE name = ?').pluck();
  const pausedQueues = db.prepare<[], string>('SELECT name FROM queues WHERE paused = 1').pluck();

  // Listings differ only by which filters are given: a few shapes, each prepared once.
  const listings = new Map<string, Database.Statement>();
  function list(f: ActionFilter): ActionRecord[] {
    const { sql, args } = actionListing(f, 'sqlite');
    let statement = listings.get(sql);
    if (!statement) {
      if (listings.size >= LISTINGS_KEPT) listings.clear();
      listings.set(sql, (statement = db.prepare(sql)));
    }
    return (statement.all(...args) as ActionRow[]).map(rowToRecord);
  }

  function queueCounts(queue: string): QueueCounts {
    const c = { paused: (paused.get(queue) ?? 0) === 1, queued: 0, processing: 0, pausedActions: 0, finished: 0, error: 0, cancelled: 0, stopped: 0 };
    for (const row of counts.all(queue)) {
      switch (row.status) {
        case 'Queued': c.queued += row.n; break;
        case 'Processing': c.processing += row.n; break;
        case 'Paused': c.pausedActions += row.n; break;
        case 'Finished': c.finished += row.n; break;
        case 'Error': c.error += row.n; break;
        case 'Cancelled': c.cancelled += row.n; break;
        case 'Stopped': c.stopped += row.n; break;
      }
    }
    return c;
  }

  return {
    get: (token: string): ActionRecord | undefined => {
      const row = byToken.get(token);
      return row ? rowToRecord(row) : undefined;
    },
    list,
    queueCounts,
    pausedQueues: (): string[] => pausedQueues.all(),
  };
}

/**
 * Reading actions and events on PostgreSQL: by token, QueueInfo and EventInfo listings
 * (idol-reference.md §7.1), counts. Read-only, outside transactions (each statement sees a
 * committed snapshot).
 */
import { rowToRecord, type ActionRow } from '../action-row.js';
import { toEventRow, type EventDbRow } from '../event-row.js';
import type { ActionRecord } from '../../queue/record.js';
import type { ActionFilter, EventCount, EventFilter, EventListing, EventRow, EventState, QueueCounts } from '../store.js';
import { actionListing, eventListing } from '../listing-filters.js';
import type { RunInTransaction } from './transaction.js';
import { ACTION_COUNTS_SQL } from './action-counts.js';

import type { Read } from './read.js';

export type { Read };


const STATUS_FIELDS: Record<string, keyof Omit<QueueCounts, 'paused'>> = {
  Queued: 'queued',
  Processing: 'processing',
  Paused: 'pausedActions',
  Finished: 'finished',
  Error: 'error',
  Cancelled: 'cancelled',
  Stopped: 'stopped',
};

export function postgresReads(read: Read) {
  return {
    async getAction(token: string): Promise<ActionRecord | undefined> {
      const [row] = await read<ActionRow & Record<string, unknown>>('read', 'SELECT * FROM actions WHERE token = $1', [token]);
      return row ? rowToRecord(row) : undefined;
    },
    async listActions(f: ActionFilter): Promise<ActionRecord[]> {
      const { sql, args } = actionListing(f, 'postgres');
      return (await read<ActionRow & Record<string, unknown>>('read', sql, args)).map(rowToRecord);
    },
    async queueCounts(queue: string): Promise<QueueCounts> {
      const c = { paused: false, queued: 0, processing: 0, pausedActions: 0, finished: 0, error: 0, cancelled: 0, stopped: 0 };
      const [q] = await read<{ paused: boolean }>('read', 'SELECT paused FROM queues WHERE name = $1', [queue]);
      c.paused = q?.paused ?? false;
      for (const row of await read<{ status: string; n: number }>('read', ACTION_COUNTS_SQL, [queue])) {
        const field = STATUS_FIELDS[row.status];
        if (field) c[field] += row.n;
      }
      return c;
    },
    async isQueuePaused(queue: string): Promise<boolean> {
      const [q] = await read<{ paused: boolean }>('read', 'SELECT paused FROM queues WHERE name = $1', [queue]);
      return q?.paused ?? false;
    },
    async pendingStops(node: string): Promise<number[]> {
      const rows = await read<{ id: number }>('read', `SELECT id FROM actions WHERE owner = $1 AND stop_requested AND status IN ('Processing', 'Paused')`, [node]);
      return rows.map((r) => r.id);
    },
    listEvents: (f: EventFilter): Promise<EventRow[]> => listEvents(read, f),
    eventCounts: (): Promise<EventCount[]> => eventCounts(read),
  };
}

async function listEvents(read: Read, f: EventFilter): Promise<EventRow[]> {
  const { where, tail } = eventListing(f, true, 'lower(handler) = lower(?)');
  const sql = `SELECT * FROM events${where}${tail}`;
  return (await read<EventDbRow & Record<string, unknown>>('read', sql, where.args)).map(toEventRow);
}

function eventCounts(read: Read): Promise<EventCount[]> {
  return read<{ handler: string; state: EventState; count: number }>('read', 'SELECT handler, state, count(*)::int AS count FROM events GROUP BY handler, state ORDER BY handler, state');
}

/**
 * EventInfo's listing and counts in one REPEATABLE READ transaction: both statements see one
 * snapshot, so a delivery committed between them shows in both or in neither.
 */
export async function listEventsCounted(run: RunInTransaction, f: EventFilter): Promise<EventListing> {
  return run('read', async (sql) => {
    await sql.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const read: Read = async (_what, text, values) => (await sql.query(text, values)).rows;
    return { events: await listEvents(read, f), counts: await eventCounts(read) };
  });
}

/**
 * The WHERE and ORDER BY of QueueInfo's and EventInfo's listings (idol-reference.md §7.1), the same
 * for every store: only the parameter style (`numbered` for PostgreSQL's `$1`) and the spelling of
 * a case-insensitive handler match differ.
 */
import type { ActionFilter, EventFilter, SortKey } from './store.js';
import { WhereClause } from './where-clause.js';

const SORT_COLUMNS: Record<SortKey, string> = {
  'queue-time': 'queued_at',
  'start-time': 'started_at',
  'finish-time': 'ended_at',
  priority: 'priority',
  status: 'status',
};

/** ` WHERE ...` with its arguments, and the ORDER BY / LIMIT tail of an action listing. */
export function actionListing(f: ActionFilter, numbered: boolean): { where: WhereClause; tail: string } {
  const where = new WhereClause(numbered)
    .add('queue = ?', f.queue)
    .add('token = ?', f.token)
    .add('queued_at > ?', f.queuedAfter)
    .add('queued_at < ?', f.queuedBefore)
    .add('ended_at > ?', f.finishedAfter)
    .add('ended_at < ?', f.finishedBefore)
    .add('priority >= ?', f.minPriority)
    .add('priority <= ?', f.maxPriority)
    .in('status', f.statuses);
  const direction = f.descending ? 'DESC' : 'ASC';
  const column = SORT_COLUMNS[f.sortBy];
  // NULLs (not started / not finished) sort last either way; id breaks ties in arrival order.
  const tail = ` ORDER BY (${column} IS NULL), ${column} ${direction}, id ${direction}` + (f.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(f.limit))}` : '');
  return { where, tail };
}

/** The same for an event listing; `handlerMatch` is the store's case-insensitive `handler = ?`. */
export function eventListing(f: EventFilter, numbered: boolean, handlerMatch: string, seqColumn = 'seq'): { where: WhereClause; tail: string } {
  const where = new WhereClause(numbered)
    .in('state', f.states)
    .in('type', f.types)
    .add(handlerMatch, f.handler)
    .add('token = ?', f.token)
    .add('event_id = ?', f.eventId)
    .add('created_at > ?', f.createdAfter)
    .add('created_at < ?', f.createdBefore);
  return { where, tail: ` ORDER BY ${seqColumn} ${f.descending ? 'DESC' : 'ASC'} LIMIT ${Math.max(0, Math.floor(f.limit))}` };
}

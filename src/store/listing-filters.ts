/**
 * The SQL of QueueInfo's and EventInfo's listings (idol-reference.md §7.1), the same for every
 * store: only the parameter style (`numbered` for PostgreSQL's `$1`) and the spelling of a
 * case-insensitive handler match differ.
 *
 * A queue-time listing with a limit (the console's pages, QueueInfo with MaxResults) reads one
 * index range per status on `(queue, status, queued_at, id)` and merges them in order, so a page
 * costs its own rows whatever the queue holds: no sort of the queue, no scan of other statuses
 * (SQLite: MERGE (UNION ALL); PostgreSQL: the first rows of each range, then a sort of those). A keyed page (`after`) splits each range
 * in two, the rows tied with the last time shown (`queued_at = t AND id < i`) and those before it
 * (`queued_at < t`), because SQLite does not seek on a row value `(queued_at, id) < (t, i)`:
 * measured, 200,000 actions queued in one millisecond, a page deep in them took 31 ms as a row
 * value and 0.1 ms as two ranges.
 */
import { ACTION_STATUSES } from '../queue/record.js';
import type { ActionFilter, EventFilter, SortKey } from './store.js';
import { WhereClause } from './where-clause.js';

const SORT_COLUMNS: Record<SortKey, string> = {
  'queue-time': 'queued_at',
  'start-time': 'started_at',
  'finish-time': 'ended_at',
  priority: 'priority',
  status: 'status',
};
/** Columns declared NOT NULL: their order needs no `IS NULL` term, which would keep an index from giving it. */
const NEVER_NULL: ReadonlySet<SortKey> = new Set(['queue-time', 'priority', 'status']);

export interface Listing {
  readonly sql: string;
  readonly args: (string | number)[];
}

export type Dialect = 'sqlite' | 'postgres';

/** `SELECT * FROM actions ...` for a QueueInfo filter, with its arguments. */
export function actionListing(f: ActionFilter, dialect: Dialect): Listing {
  const numbered = dialect === 'postgres';
  const direction = f.descending ? 'DESC' : 'ASC';
  const limit = f.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(f.limit))}` : '';
  if (f.sortBy === 'queue-time' && f.limit !== undefined && f.token === undefined) return numberedIf(numbered, mergedByStatus(f, dialect, direction, limit));
  if (f.after) throw new Error('actionListing: a keyed page needs sortBy queue-time and a limit');
  const where = filterTerms(f).in('status', f.statuses);
  const column = SORT_COLUMNS[f.sortBy];
  // NULLs (not started / not finished) sort last either way; id breaks ties in arrival order.
  const nulls = NEVER_NULL.has(f.sortBy) ? '' : `(${column} IS NULL), `;
  return numberedIf(numbered, { sql: `SELECT * FROM actions${where} ORDER BY ${nulls}${column} ${direction}, id ${direction}${limit}`, args: where.args });
}

/** One index range per status (two per status after a key), merged by queue time then id. */
function mergedByStatus(f: ActionFilter, dialect: Dialect, direction: string, limit: string): Listing {
  const beyond = f.descending ? '<' : '>';
  const key = f.after;
  const ranges: ((w: WhereClause) => WhereClause)[] = key
    ? [(w) => w.add('queued_at = ?', key.queuedAt).add(`id ${beyond} ?`, key.id), (w) => w.add(`queued_at ${beyond} ?`, key.queuedAt)]
    : [(w) => w];
  const orderBy = ` ORDER BY queued_at ${direction}, id ${direction}`;
  const arms: string[] = [];
  const args: (string | number)[] = [];
  for (const status of f.statuses?.length ? f.statuses : ACTION_STATUSES) {
    for (const range of ranges) {
      const where = range(filterTerms(f).add('status = ?', status));
      arms.push(dialect === 'postgres' ? `(SELECT * FROM actions${where}${orderBy}${limit})` : `SELECT * FROM actions${where}`);
      args.push(...where.args);
    }
  }
  // SQLite merges the ranges in order and stops at the limit. PostgreSQL (15) does not see that a
  // range of one status comes in queue-time order (the status is fixed only inside its arm), so
  // it would sort every row of the union: each arm takes its own first `limit` rows (a backward
  // index scan under a Limit), and only those, at most limit x arms, are sorted.
  return { sql: `SELECT * FROM (${arms.join(' UNION ALL ')}) ranges${orderBy}${limit}`, args };
}

/** Every condition but the status. */
function filterTerms(f: ActionFilter): WhereClause {
  return new WhereClause()
    .add('queue = ?', f.queue)
    .add('token = ?', f.token)
    .add('queued_at > ?', f.queuedAfter)
    .add('queued_at < ?', f.queuedBefore)
    .add('ended_at > ?', f.finishedAfter)
    .add('ended_at < ?', f.finishedBefore)
    .add('priority >= ?', f.minPriority)
    .add('priority <= ?', f.maxPriority);
}

/** PostgreSQL numbers its parameters: each `?` in order becomes `$1`, `$2`, ... (no literal holds a `?`). */
function numberedIf(numbered: boolean, l: Listing): Listing {
  if (!numbered) return l;
  let n = 0;
  return { sql: l.sql.replace(/\?/g, () => `$${++n}`), args: l.args };
}

/** The WHERE and ORDER BY of an event listing; `handlerMatch` is the store's case-insensitive `handler = ?`. */
export function eventListing(f: EventFilter, numbered: boolean, handlerMatch: string, seqColumn = 'seq'): { where: WhereClause; tail: string } {
  const where = new WhereClause(numbered)
    .in('state', f.states)
    .in('type', f.types)
    .add(handlerMatch, f.handler)
    .add('token = ?', f.token)
    .add('event_id = ?', f.eventId)
    .add('created_at > ?', f.createdAfter)
    .add('created_at < ?', f.createdBefore)
    .add(`${seqColumn} < ?`, f.beforeSeq);
  return { where, tail: ` ORDER BY ${seqColumn} ${f.descending ? 'DESC' : 'ASC'} LIMIT ${Math.max(0, Math.floor(f.limit))}` };
}

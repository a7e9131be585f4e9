/**
 * Appending events to the outbox inside the transaction of the change that caused them
 * (decisions.md "Events"), and the notification that tells every node.
 *
 * Why the lock: a bigserial is taken at insert but becomes visible at commit, and PostgreSQL
 * commits transactions in any order, so a reader's cursor over seq could pass a seq still being
 * written and never see it. Every appending transaction takes one transaction-scoped advisory
 * lock just before its insert and holds it to its commit: every committed seq is then below every
 * seq still being written, and a cursor never skips one. It serialises only the tail of appending
 * transactions (insert to commit); measured cost in bench/ (postgres scenarios).
 *
 * Locking rule: take it last, after queue rows and action rows.
 */
import type { NewEvent } from '../store.js';
import type { Sql } from './transaction.js';

export const EVENT_APPEND_LOCK = 0x746f6365; // 'toce'
export const CHANNEL = 'tocsin';

/**
 * The parameters of an events insert, one array per column: event_id, type, handler, queue,
 * token, document, request, created_at (the order of every `unnest` over them here and in
 * fast-commit.ts).
 */
export function eventColumns(events: readonly NewEvent[]): unknown[] {
  const col = <K extends keyof NewEvent>(key: K) => events.map((e) => e[key] ?? null);
  return [col('eventId'), col('type'), col('handler'), col('queue'), col('token'), col('document'), col('request'), col('createdAt')];
}

export async function appendEvents(sql: Sql, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sql.query('SELECT pg_advisory_xact_lock($1)', [EVENT_APPEND_LOCK]);
  await sql.query(
    `INSERT INTO events (event_id, type, handler, queue, token, document, request, next_attempt_at, created_at)
     SELECT e.event_id, e.type, e.handler, e.queue, e.token, e.document, e.request, e.created_at, e.created_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
         WITH ORDINALITY AS e(event_id, type, handler, queue, token, document, request, created_at, n)
      ORDER BY e.n`,
    eventColumns(events),
  );
}

/**
 * The tail of a commit in one statement: the events appended under the lock (joined into the
 * insert's source, so it is taken before the first seq), the queues' new sizes and last events,
 * and the notification. One round trip where appendEvents, QueueTally.write and notify take three.
 */
export async function appendAndNotify(sql: Sql, events: readonly NewEvent[], queues: readonly QueueWrite[], notice: Notice): Promise<void> {
  const notifying = Boolean(notice.e?.length || notice.w?.length || notice.c?.length || notice.p?.length);
  if (events.length === 0 && queues.length === 0 && !notifying) return;
  await sql.query(
    `WITH lk AS (SELECT pg_advisory_xact_lock($1) WHERE $2::int > 0),
          ev AS (INSERT INTO events (event_id, type, handler, queue, token, document, request, next_attempt_at, created_at)
                 SELECT e.event_id, e.type, e.handler, e.queue, e.token, e.document, e.request, e.created_at, e.created_at
                   FROM lk, unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
                        WITH ORDINALITY AS e(event_id, type, handler, queue, token, document, request, created_at, n)
                  ORDER BY e.n
                 RETURNING 1),
          q AS (UPDATE queues q SET size = c.size, last_event = c.last
                  FROM unnest($11::text[], $12::int[], $13::text[]) AS c(name, size, last) WHERE q.name = c.name RETURNING 1)
     SELECT (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM q) AS queues${notifying ? ', pg_notify($14, $15)' : ''}`,
    [
      EVENT_APPEND_LOCK,
      events.length,
      ...eventColumns(events),
      queues.map((q) => q.name),
      queues.map((q) => q.size),
      queues.map((q) => q.last),
      ...(notifying ? [CHANNEL, JSON.stringify(notice)] : []),
    ],
  );
}

/** A queue row's new size and last queue event (queue-tally.ts). */
export interface QueueWrite {
  readonly name: string;
  readonly size: number;
  readonly last: string;
}

/** What one transaction changed, for the other nodes (and this one's listeners). */
export interface Notice {
  /** Handlers that got events. */
  readonly e?: readonly string[];
  /**
   * Queues that got claimable actions, with how many and (for enqueues) the highest priority
   * among them: a node holding reservations of a lower priority gives them back (reservations.ts).
   */
  readonly w?: readonly (readonly [queue: string, count: number, priority?: number])[];
  /** Queues paused: every reservation of theirs was cleared. */
  readonly p?: readonly string[];
  /** Queues resumed. */
  readonly r?: readonly string[];
  /** Running actions to stop, pause or resume. */
  readonly c?: readonly (readonly [string, 'stop' | 'pause' | 'resume'])[];
  /** The store instance that sent it (its own listeners were told already). */
  readonly s?: string;
}

/** NOTIFY is delivered at commit, and not at all if the transaction rolls back. */
export async function notify(sql: Sql, notice: Notice): Promise<void> {
  if (!notice.e?.length && !notice.w?.length && !notice.c?.length && !notice.p?.length && !notice.r?.length) return;
  await sql.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(notice)]);
}

export function handlersOf(events: readonly NewEvent[]): string[] {
  return [...new Set(events.map((e) => e.handler))];
}

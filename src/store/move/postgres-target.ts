/**
 * The PostgreSQL side of `tocsin move-store`: one operation per function, each run inside the
 * move's one transaction (move-store.ts), so a failure anywhere leaves the target as it was.
 *
 * Locking follows the PostgreSQL store's rules, so that nodes already running on the target
 * (`--merge`) wait for the move instead of interleaving with it: queue rows first, in name order
 * (queue-tally.ts), then action rows, then the event append lock (append-events.ts), each held to
 * commit. Another move-store waits on an advisory lock of its own.
 *
 * Ids and seqs are the target's (bigserial): rows go in in the source's id and seq order, so the
 * claim order (priority, then id) and every handler's delivery order are the source's.
 */
import { EVENT_APPEND_LOCK } from '../postgres/append-events.js';
import type { ActionRow } from '../action-row.js';
import type { EventDbRow } from '../event-row.js';
import { notify, type Notice } from '../postgres/append-events.js';
import type { Sql } from '../postgres/transaction.js';
import type { SourceQueue } from './sqlite-source.js';

/** One move at a time per target database. */
const MOVE_LOCK_KEY = 0x746f636d; // 'tocm'
/**
 * The lock every PostgreSQL transaction that appends events takes just before its insert and
 * holds to commit (append-events.ts EVENT_APPEND_LOCK, same key): seqs then become visible in
 * order, and a node's delivery cursor never passes a moved event.
 */
/** pg_notify's payload must stay under 8,000 bytes. */
const NOTICE_LIMIT = 7_000;

/** What the target returns for each action it took. */
export interface InsertedAction {
  readonly token: string;
  readonly queue: string;
  readonly status: string;
  readonly started_at: number | null;
}

export async function lockAgainstOtherMoves(sql: Sql): Promise<void> {
  await sql.query('SELECT pg_advisory_xact_lock($1)', [MOVE_LOCK_KEY]);
}

/** How many actions the target holds already. */
export async function countActions(sql: Sql): Promise<number> {
  const rows = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM actions');
  return rows.rows[0]?.n ?? 0;
}

/**
 * Make and lock the rows of the source's queues. A queue new to the target takes the source's
 * pause flag and last queue event; one it has keeps its own when merging (the cluster's state),
 * and takes the source's otherwise (the target holds no actions, so nothing of its own is lost).
 * Sizes start where they are and grow by `addQueueSizes`.
 */
export async function lockQueues(sql: Sql, queues: readonly SourceQueue[], merge: boolean): Promise<void> {
  if (queues.length === 0) return;
  const names = queues.map((q) => q.name);
  await sql.query('SELECT name FROM queues WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE', [names]);
  const conflict = merge ? 'DO NOTHING' : 'DO UPDATE SET paused = excluded.paused, last_event = excluded.last_event';
  await sql.query(
    `INSERT INTO queues (name, paused, last_event)
     SELECT * FROM unnest($1::text[], $2::boolean[], $3::text[]) ORDER BY 1
     ON CONFLICT (name) ${conflict}`,
    [names, queues.map((q) => q.paused), queues.map((q) => q.lastEvent)],
  );
}

/**
 * Insert actions in the given order; a token the target holds already is skipped. Idempotency
 * keys come along; one the target's queue already holds (a --merge) stays with the target's
 * action, and the moved action comes without it. Running actions
 * arrive with no owner: every node treats an owner-less running action as a dead node's and
 * queues it again (leases.ts recoverExpired), counting the attempt.
 */
export async function insertActions(sql: Sql, rows: readonly ActionRow[]): Promise<InsertedAction[]> {
  if (rows.length === 0) return [];
  const col = <K extends keyof ActionRow>(key: K) => rows.map((r) => r[key]);
  const running = (r: ActionRow) => r.status === 'Processing' || (r.status === 'Paused' && r.started_at !== null);
  const inserted = await sql.query<InsertedAction>(
    `INSERT INTO actions (token, queue, status, priority, params, queued_at, started_at, ended_at, attempts, result, error, reports, progress, owner, stop_requested, idempotency_key)
     SELECT a.token, a.queue, a.status, a.priority, a.params, a.queued_at, a.started_at, a.ended_at, a.attempts, a.result, a.error, a.reports, a.progress, a.owner, a.stop_requested,
            CASE WHEN EXISTS (SELECT 1 FROM actions t WHERE t.queue = a.queue AND t.idempotency_key = a.key) THEN NULL ELSE a.key END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::int[],
                   $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::boolean[], $16::text[])
         WITH ORDINALITY AS a(token, queue, status, priority, params, queued_at, started_at, ended_at, attempts, result, error, reports, progress, owner, stop_requested, key, n)
      ORDER BY a.n
     ON CONFLICT (token) DO NOTHING
     RETURNING token, queue, status, started_at`,
    [
      col('token'), col('queue'), col('status'), col('priority'), col('params'), col('queued_at'), col('started_at'), col('ended_at'), col('attempts'),
      col('result'), col('error'), col('reports'), col('progress'),
      rows.map((r) => (running(r) ? null : r.owner)),
      rows.map((r) => Boolean(r.stop_requested)),
      rows.map((r) => r.idempotency_key ?? null),
    ],
  );
  return inserted.rows;
}

/** Add the moved waiting actions to the queues' sizes (rows locked by `lockQueues`). */
export async function addQueueSizes(sql: Sql, added: ReadonlyMap<string, number>): Promise<void> {
  if (added.size === 0) return;
  await sql.query(
    'UPDATE queues q SET size = q.size + d.n FROM unnest($1::text[], $2::int[]) AS d(name, n) WHERE q.name = d.name',
    [[...added.keys()], [...added.values()]],
  );
}

/** Take the event append lock (last of all locks); held to commit. */
export async function lockEventAppends(sql: Sql): Promise<void> {
  await sql.query('SELECT pg_advisory_xact_lock($1)', [EVENT_APPEND_LOCK]);
}

/** Event id and handler of the target's queue events (no token), to skip those moved before. */
export async function queueEventKeys(sql: Sql): Promise<Set<string>> {
  const rows = await sql.query<{ event_id: string; handler: string }>('SELECT event_id, handler FROM events WHERE token IS NULL');
  return new Set(rows.rows.map((r) => eventKey(r)));
}

export const eventKey = (e: { event_id: string; handler: string }): string => `${e.event_id}\u0000${e.handler}`;

/** Insert events in the given order, with their state, attempts, times and document. */
export async function insertEvents(sql: Sql, rows: readonly EventDbRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof EventDbRow>(key: K) => rows.map((r) => r[key]);
  await sql.query(
    `INSERT INTO events (event_id, type, handler, queue, token, document, request, state, attempts, next_attempt_at, created_at, delivered_at, last_error)
     SELECT e.event_id, e.type, e.handler, e.queue, e.token, e.document, e.request, e.state, e.attempts, e.next_attempt_at, e.created_at, e.delivered_at, e.last_error
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[])
         WITH ORDINALITY AS e(event_id, type, handler, queue, token, document, request, state, attempts, next_attempt_at, created_at, delivered_at, last_error, n)
      ORDER BY e.n`,
    [
      col('event_id'), col('type'), col('handler'), col('queue'), col('token'), col('document'), col('request'), col('state'), col('attempts'),
      col('next_attempt_at'), col('created_at'), col('delivered_at'), col('last_error'),
    ],
  );
}

/**
 * Make sure the id and seq sequences are past every row. They are already (the rows took their
 * values from them); this is the guard, and it only ever moves a sequence forward, since nodes
 * running on the target may have taken values not yet visible here.
 */
export async function keepSequencesAhead(sql: Sql): Promise<void> {
  for (const [table, column] of [['actions', 'id'], ['events', 'seq']] as const) {
    await sql.query(
      `SELECT setval(s.seq, m.top)
         FROM (SELECT pg_get_serial_sequence('${table}', '${column}')::regclass AS seq) s, (SELECT max(${column}) AS top FROM ${table}) m
        WHERE m.top IS NOT NULL AND m.top > COALESCE(pg_sequence_last_value(s.seq), 0)`,
    );
  }
}

/**
 * Tell the nodes already running on the target (delivered at commit): queues with new waiting
 * actions wake their slots, handlers with new pending events their deliverers. Without it they
 * would find them at their next poll.
 */
export async function notifyNodes(sql: Sql, queued: readonly (readonly [string, number])[], handlers: readonly string[]): Promise<void> {
  for (const notice of packNotices(queued, handlers)) await notify(sql, notice);
}

interface MoveNotice {
  readonly w: (readonly [string, number])[];
  readonly e: string[];
  readonly s: string;
}

/** Notices that each fit pg_notify's payload; an entry too long on its own is left to the nodes' poll. */
export function packNotices(queued: readonly (readonly [string, number])[], handlers: readonly string[]): Notice[] {
  const fresh = (): MoveNotice => ({ w: [], e: [], s: 'move-store' });
  const fits = (n: MoveNotice) => Buffer.byteLength(JSON.stringify(n)) <= NOTICE_LIMIT;
  const notices = [fresh()];
  const place = (put: (n: MoveNotice) => void, take: (n: MoveNotice) => void) => {
    let last = notices[notices.length - 1]!;
    put(last);
    if (fits(last)) return;
    take(last);
    notices.push((last = fresh()));
    put(last);
    if (!fits(last)) take(last);
  };
  for (const q of queued) place((n) => n.w.push(q), (n) => n.w.pop());
  for (const h of handlers) place((n) => n.e.push(h), (n) => n.e.pop());
  return notices.filter((n) => n.w.length + n.e.length > 0);
}

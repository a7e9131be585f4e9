/**
 * The common group commit on PostgreSQL in ONE statement: starts and settlements, the queues'
 * sizes and queue events, the events they cause, and the notification. A statement is its own
 * transaction, so this is as atomic as commit-batch.ts's transaction of five round trips.
 *
 * Why: on our machines each round trip costs the node and the database ~0.1-0.2 ms of system time
 * (measured: socket writes were a sixth of a node's CPU), more than the rows of a batch of 40.
 *
 * Taken when the batch has no enqueues, error reports or progress (commit-batch.ts takes those),
 * and every queue with starts has a rule the database can apply (EventPlanner.queueRule). What
 * needs the planner between statements is prepared ahead: every event a start or settlement could
 * cause (tagged with its action and kind), and for each queue the documents of the two queue
 * events a start can fire (QueueEmptying at the first size below the threshold, QueueEmpty at 0);
 * the statement keeps those whose action changed or whose queue event fired (tocsin_drain,
 * schema.ts). A queue in a state only the planner can judge raises TQ001: the caller then commits
 * step by step.
 *
 * Order of locks as in commit-batch.ts: the queue rows of the starts first (every action update
 * waits on them), then action rows, then the event append lock.
 */
import type pg from 'pg';
import type { ActionRecord } from '../../queue/record.js';
import { finalRecord } from '../final-record.js';
import type { CommitBatch, EventPlanner, NewEvent, QueueRule } from '../store.js';
import { CHANNEL, EVENT_APPEND_LOCK, eventColumns, handlersOf } from './append-events.js';
import type { PgCommitOutput } from './commit-batch.js';
import { splitStartsAndSettlements, startSettleCtes, startSettleValues, type PendingStart } from './start-settle.js';

const START = 1;
const SETTLE = 2;
const QUEUE = 3;

/** The SQLSTATE tocsin_drain raises for a queue state the planner must judge. */
export const NEEDS_PLANNER = 'TQ001';

interface Tagged {
  readonly kind: number;
  readonly key: string;
  readonly event: NewEvent;
}

/** Whether `batch` can be committed here; the rules of the starts' queues when it can. */
export function fastCommitRules(batch: CommitBatch, starts: readonly PendingStart[], planner: EventPlanner): Map<string, QueueRule | undefined> | undefined {
  if (batch.enqueues.length + batch.reports.length + batch.progress.length > 0) return undefined;
  const rules = new Map<string, QueueRule | undefined>();
  for (const s of starts) {
    const queue = s.record.queue;
    if (!planner.queueRule) return undefined;
    if (!rules.has(queue)) rules.set(queue, planner.queueRule(queue));
  }
  return rules;
}

/** The first size below the emptying threshold: where a shrinking queue fires QueueEmptying. */
function emptyingAt(rule: QueueRule): number {
  return Math.ceil(rule.emptying * rule.max) - 1;
}

export async function fastCommit(
  pool: pg.Pool,
  batch: CommitBatch,
  starts: readonly PendingStart[],
  rules: ReadonlyMap<string, QueueRule | undefined>,
  planner: EventPlanner,
  storeId: string,
): Promise<PgCommitOutput> {
  const tagged: Tagged[] = [];
  for (const s of starts) {
    const at = s.record.startedAt ?? batch.now;
    for (const event of planner.forAction('OnStart', s.record, at)) tagged.push({ kind: START, key: String(s.record.id), event });
  }
  const queues = [...rules.keys()].sort();
  for (const queue of queues) {
    const rule = rules.get(queue);
    if (!rule) continue;
    const candidates: [string, number, 'QueueFull' | 'QueueFilling'][] = [
      ['QueueEmptying', emptyingAt(rule), 'QueueFilling'],
      ['QueueEmpty', 0, 'QueueFull'],
    ];
    for (const [type, size, before] of candidates) {
      if (size < 0) continue;
      const fired = planner.forQueueSize(queue, size, before, batch.now);
      if (fired?.type !== type) continue;
      for (const event of fired.events) tagged.push({ kind: QUEUE, key: `${queue}:${type}`, event });
    }
  }
  const finals = batch.settlements.map((x) => finalRecord(x));
  batch.settlements.forEach((x, i) => {
    for (const event of planner.forAction(x.status === 'Error' ? 'OnError' : 'OnFinish', finals[i]!, batch.now)) tagged.push({ kind: SETTLE, key: String(x.id), event });
  });

  const handlers = handlersOf(tagged.map((t) => t.event));
  const rows = await pool.query<{ kind: number; key: string }>(
    `WITH qr AS (
            SELECT q.name, q.size, q.last_event, r.max, r.filling, r.emptying, r.emptying_at
              FROM queues q JOIN unnest($16::text[], $17::int[], $18::float8[], $19::float8[], $20::int[]) AS r(name, max, filling, emptying, emptying_at) ON r.name = q.name
             ORDER BY q.name FOR UPDATE OF q),
          locked AS (SELECT count(*) AS n FROM qr),
          ${startSettleCtes(' AND (SELECT n FROM locked) >= 0')},
          drains AS (SELECT queue, count(*)::int AS n FROM (SELECT queue FROM st UNION ALL SELECT queue FROM sb) x GROUP BY queue),
          steps AS (
            SELECT qr.name, d.n, tocsin_drain(qr.size, d.n, qr.max, qr.filling, qr.emptying, qr.emptying_at, qr.last_event) AS fired
              FROM qr JOIN drains d ON d.queue = qr.name),
          qu AS (
            UPDATE queues q SET size = q.size - s.n, last_event = COALESCE(s.fired[array_length(s.fired, 1)], q.last_event)
              FROM steps s WHERE q.name = s.name
            RETURNING q.name),
          applied AS (
            SELECT ${START} AS kind, id::text AS key FROM st UNION ALL SELECT ${START}, id::text FROM sb
            UNION ALL SELECT ${SETTLE}, id::text FROM se UNION ALL SELECT ${SETTLE}, id::text FROM sb
            UNION ALL SELECT ${QUEUE}, s.name || ':' || f FROM steps s, unnest(s.fired) AS f),
          lk AS (SELECT pg_advisory_xact_lock($21) AS l WHERE EXISTS (SELECT 1 FROM applied) AND $22::int > 0),
          ev AS (
            INSERT INTO events (event_id, type, handler, queue, token, document, request, next_attempt_at, created_at)
            SELECT e.event_id, e.type, e.handler, e.queue, e.token, e.document, e.request, e.created_at, e.created_at
              FROM lk, unnest($23::int[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[], $32::bigint[])
                   WITH ORDINALITY AS e(kind, key, event_id, type, handler, queue, token, document, request, created_at, n)
             WHERE (e.kind, e.key) IN (SELECT kind, key FROM applied)
             ORDER BY e.n
            RETURNING 1),
          nt AS (SELECT pg_notify($33, $34) WHERE EXISTS (SELECT 1 FROM ev))
     SELECT a.kind, a.key, (SELECT count(*) FROM qu) AS queues, (SELECT count(*) FROM nt) AS notified FROM applied a`,
    [
      ...startSettleValues(batch, splitStartsAndSettlements(batch, starts)),
      queues,
      queues.map((q) => rules.get(q)?.max ?? null),
      queues.map((q) => rules.get(q)?.filling ?? null),
      queues.map((q) => rules.get(q)?.emptying ?? null),
      queues.map((q) => {
        const rule = rules.get(q);
        return rule ? emptyingAt(rule) : null;
      }),
      EVENT_APPEND_LOCK,
      tagged.length,
      tagged.map((t) => t.kind),
      tagged.map((t) => t.key),
      ...eventColumns(tagged.map((t) => t.event)),
      CHANNEL,
      JSON.stringify({ e: handlers, s: storeId }),
    ],
  );

  const applied = new Set(rows.rows.map((r) => `${r.kind}:${r.key}`));
  const lostStarts: ActionRecord[] = starts.filter((s) => !applied.has(`${START}:${s.record.id}`)).map((s) => s.record);
  const settled = batch.settlements.map((x, i) => (applied.has(`${SETTLE}:${x.id}`) ? finals[i] : undefined));
  const stored = handlersOf(tagged.filter((t) => applied.has(`${t.kind}:${t.key}`)).map((t) => t.event));
  return { result: { enqueued: [], settled }, handlers: stored, queued: [], lostStarts };
}

/**
 * Idempotency keys on PostgreSQL (store.ts `NewAction.idempotencyKey`), for the enqueue part of
 * the group commit: which enqueues of a batch name a key the database already holds, and the
 * INSERT that stores the others without ever storing a key twice.
 *
 * Locking rule: called after the batch's QueueTally has locked its queues' rows (queue-tally.ts),
 * so no other node's enqueue to those queues commits between the look-up and the INSERT and the
 * look-up is exact. The unique index `actions_idempotency` (migration 3) is the guarantee
 * underneath: should a key be stored by a transaction that did not hold the queue's row, the
 * INSERT skips the row (ON CONFLICT DO NOTHING) and `insertActions` throws a serialization
 * failure, so the whole batch runs again (transaction.ts retries 40001) and its look-up finds it.
 */
import type { ActionRecord } from '../../queue/record.js';
import { rowToRecord, type ActionRow } from '../action-row.js';
import type { NewAction } from '../store.js';
import { keySlot } from '../submission-keys.js';
import type { Sql } from './transaction.js';

/**
 * The stored holders of the keys these enqueues carry, by keySlot(queue, key).
 * Parameters: queues and keys of the keyed enqueues. Returns their rows. Uses actions_idempotency.
 */
export async function storedKeyHolders(sql: Sql, actions: readonly NewAction[]): Promise<Map<string, ActionRecord>> {
  const keyed = actions.filter((a) => a.idempotencyKey !== undefined);
  const holders = new Map<string, ActionRecord>();
  if (keyed.length === 0) return holders;
  const rows = await sql.query<ActionRow & { idempotency_key: string }>(
    `SELECT a.* FROM actions a JOIN unnest($1::text[], $2::text[]) AS k(queue, key)
        ON a.queue = k.queue AND a.idempotency_key = k.key`,
    [keyed.map((a) => a.queue), keyed.map((a) => a.idempotencyKey)],
  );
  for (const row of rows.rows) holders.set(keySlot(row.queue, row.idempotency_key), rowToRecord(row));
  return holders;
}

/**
 * INSERT the batch's accepted actions in order (ids in arrival order). Parameters: the actions.
 * Returns their ids by token. A row whose key another transaction stored meanwhile fails the batch
 * with a retryable serialization failure (see the locking rule above).
 */
export async function insertActions(sql: Sql, accepted: readonly NewAction[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (accepted.length === 0) return ids;
  const rows = await sql.query<{ id: number; token: string }>(
    `INSERT INTO actions (token, queue, status, priority, params, queued_at, idempotency_key)
     SELECT a.token, a.queue, 'Queued', a.priority, a.params, a.queued_at, a.key
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS a(token, queue, priority, params, queued_at, key, n)
      ORDER BY a.n
     ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING id, token`,
    [
      accepted.map((a) => a.token),
      accepted.map((a) => a.queue),
      accepted.map((a) => a.priority),
      accepted.map((a) => JSON.stringify(a.params)),
      accepted.map((a) => a.queuedAt),
      accepted.map((a) => a.idempotencyKey ?? null),
    ],
  );
  if (rows.rows.length < accepted.length) {
    throw Object.assign(new Error('an idempotency key of this batch was stored by another transaction meanwhile; the batch runs again'), { code: '40001' });
  }
  for (const r of rows.rows) ids.set(r.token, r.id);
  return ids;
}

/**
 * The stored holder of an idempotency key (store.ts `NewAction.idempotencyKey`), looked up inside
 * the commit's transaction. SQLite has one writer (the data directory lock), so what this finds
 * cannot change before the batch's INSERT; the unique index `actions_idempotency` (migration 4)
 * is the guarantee underneath.
 *
 * Parameters: queue, key. Returns the action's row, or undefined. Uses `actions_idempotency`.
 */
import type Database from 'better-sqlite3';
import type { ActionRecord } from '../../queue/record.js';
import { rowToRecord, type ActionRow } from './rows.js';

export function prepareKeyHolder(db: Database.Database): (queue: string, key: string) => ActionRecord | undefined {
  const select = db.prepare<[string, string], ActionRow>('SELECT * FROM actions WHERE queue = ? AND idempotency_key = ?');
  return (queue, key) => {
    const row = select.get(queue, key);
    return row ? rowToRecord(row) : undefined;
  };
}

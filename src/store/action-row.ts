/**
 * The `actions` row as both stores return it (same columns; times in epoch ms), and its
 * conversion to the storage-blind ActionRecord.
 */
import type { ActionRecord, ActionStatus } from '../queue/record.js';

export interface ActionRow {
  id: number;
  token: string;
  queue: string;
  status: string;
  priority: number;
  params: string;
  queued_at: number;
  started_at: number | null;
  ended_at: number | null;
  attempts: number;
  result: string | null;
  error: string | null;
  reports: string | null;
  progress: string | null;
  owner: string | null;
  stop_requested: number | boolean;
  /** IdempotencyKey (absent in a SQLite store older than migration 4). */
  idempotency_key?: string | null;
}

export function rowToRecord(row: ActionRow): ActionRecord {
  const record: {
    -readonly [K in keyof ActionRecord]: ActionRecord[K];
  } = {
    id: row.id,
    token: row.token,
    queue: row.queue,
    status: row.status as ActionStatus,
    priority: row.priority,
    params: JSON.parse(row.params) as [string, string][],
    queuedAt: row.queued_at,
    attempts: row.attempts,
    reports: row.reports ? (JSON.parse(row.reports) as ActionRecord['reports']) : [],
  };
  if (row.started_at !== null) record.startedAt = row.started_at;
  if (row.ended_at !== null) record.endedAt = row.ended_at;
  if (row.result !== null) record.result = JSON.parse(row.result) as ActionRecord['result'];
  if (row.error !== null) record.error = row.error;
  if (row.progress !== null) record.progress = JSON.parse(row.progress) as ActionRecord['progress'];
  // A Queued row's owner is a PostgreSQL node's reservation (reservations.ts), not a run.
  if (row.owner !== null && row.status !== 'Queued') record.owner = row.owner;
  return record;
}

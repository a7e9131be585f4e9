/**
 * The `actions` row as SQLite returns it, and its conversion to the storage-blind ActionRecord.
 */
import type { ActionRecord, ActionStatus } from '../../queue/record.js';

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
  stop_requested: number;
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
  if (row.owner !== null) record.owner = row.owner;
  return record;
}

/** Sort claimed rows best first: RETURNING gives no order guarantee. */
export function byClaimOrder(a: ActionRecord, b: ActionRecord): number {
  return b.priority - a.priority || a.id - b.id;
}

/** The columns a starting action's record needs (claims read only these; measured cheaper than *). */
export const START_COLUMNS = 'id, token, priority, params, queued_at, attempts, reports';
export type StartRow = [id: number, token: string, priority: number, params: string, queuedAt: number, attempts: number, reports: string | null];

/** The record of an action that starts at `startedAt`, its `attempts` counting this run. */
export function startedRecord(queue: string, startedAt: number, row: StartRow, attempts: number): ActionRecord {
  const [id, token, priority, params, queuedAt, , reports] = row;
  return {
    id, token, queue, priority, queuedAt, status: 'Processing', startedAt, attempts,
    params: JSON.parse(params) as [string, string][],
    reports: reports ? (JSON.parse(reports) as ActionRecord['reports']) : [],
  };
}

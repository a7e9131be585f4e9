/**
 * The columns a starting action's record needs, as both stores read them when claiming (measured
 * on SQLite: cheaper than the whole row), and the record they make.
 */
import type { ActionRecord } from '../queue/record.js';

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

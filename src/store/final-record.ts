/**
 * The final record of a settled action, as every store returns it and as its OnFinish/OnError
 * event shows it.
 */
import type { ActionRecord } from '../queue/record.js';
import type { Settlement } from './store.js';

/**
 * The record after a settlement, without reading the row back. Spelled out rather than spread: it
 * runs for every action, and the rest-and-spread version was most of a settlement's garbage.
 */
export function finalRecord(s: Settlement): ActionRecord {
  const r = s.running;
  const record: { -readonly [K in keyof ActionRecord]: ActionRecord[K] } = {
    id: r.id,
    token: r.token,
    queue: r.queue,
    status: s.status,
    priority: r.priority,
    params: r.params,
    queuedAt: r.queuedAt,
    attempts: r.attempts,
    reports: r.reports,
    endedAt: s.endedAt,
  };
  if (r.startedAt !== undefined) record.startedAt = r.startedAt;
  if (r.owner !== undefined) record.owner = r.owner;
  if (s.result) record.result = s.result;
  if (s.error !== undefined) record.error = s.error;
  return record;
}

/**
 * The `events` row (with its document) as both stores return it, and its conversion to EventRow.
 */
import type { EventType } from '../events/handler.js';
import type { EventRow, EventState } from './store.js';

export interface EventDbRow {
  seq: number;
  event_id: string;
  type: string;
  handler: string;
  queue: string;
  token: string | null;
  document: string;
  request: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

export function toEventRow(r: EventDbRow): EventRow {
  return {
    seq: r.seq,
    eventId: r.event_id,
    type: r.type as EventType,
    handler: r.handler,
    queue: r.queue,
    ...(r.token !== null ? { token: r.token } : {}),
    document: r.document,
    request: r.request,
    state: r.state as EventState,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at } : {}),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  };
}

/**
 * Appending events to the outbox. Called only inside the transaction of the status change that
 * caused them (decisions.md "Events": at-least-once delivery starts with this write).
 *
 * Parameters: NewEvent fields; returns the stored row (with its seq), so the delivery engine can
 * take it from memory once the transaction commits. Locking: inside the caller's transaction.
 */
import type Database from 'better-sqlite3';
import type { EventRow, NewEvent } from '../store.js';

export function prepareAppendEvent(db: Database.Database): (event: NewEvent) => EventRow {
  const insert = db.prepare(
    `INSERT INTO events (event_id, type, handler, queue, token, document, request, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (e) => {
    const seq = Number(insert.run(e.eventId, e.type, e.handler, e.queue, e.token ?? null, e.document, e.request, e.createdAt, e.createdAt).lastInsertRowid);
    // Spelled out, not spread: one object shape for every row (this runs for every event).
    return {
      seq,
      eventId: e.eventId,
      type: e.type,
      handler: e.handler,
      queue: e.queue,
      token: e.token,
      document: e.document,
      request: e.request,
      createdAt: e.createdAt,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: e.createdAt,
    };
  };
}

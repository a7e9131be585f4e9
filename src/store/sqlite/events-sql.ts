/**
 * Appending events to the outbox. Called only inside the transaction of the status change that
 * caused them (decisions.md "Events": at-least-once delivery starts with this write).
 *
 * Parameters: NewEvent fields; returns nothing. Locking: inside the caller's transaction.
 */
import type Database from 'better-sqlite3';
import type { NewEvent } from '../store.js';

export function prepareAppendEvent(db: Database.Database): (event: NewEvent) => void {
  const insert = db.prepare(
    `INSERT INTO events (event_id, type, handler, queue, token, document, request, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (e) => {
    insert.run(e.eventId, e.type, e.handler, e.queue, e.token ?? null, e.document, e.request, e.createdAt, e.createdAt);
  };
}

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
  const insert = db.prepare<[string, string, string, string, string | null, number | null, number, number]>(
    `INSERT INTO events (event_id, type, handler, queue, token, doc_id, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertDocument = db.prepare<[number, string, string]>('INSERT INTO event_documents (id, document, request) VALUES (?, ?, ?)');
  // The handlers of one event come one after another (the planner makes them together): the
  // first row's seq names the document, the others point at it.
  let lastEventId: string | undefined;
  let lastDocument = 0;
  return (e) => {
    const shared = e.eventId === lastEventId;
    const seq = Number(insert.run(e.eventId, e.type, e.handler, e.queue, e.token ?? null, shared ? lastDocument : null, e.createdAt, e.createdAt).lastInsertRowid);
    if (!shared) {
      insertDocument.run(seq, e.document, e.request);
      lastEventId = e.eventId;
      lastDocument = seq;
    }
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

/**
 * Appending events to the outbox. Called only inside the transaction of the status change that
 * caused them (decisions.md "Events": at-least-once delivery starts with this write).
 *
 * Parameters: the NewEvents of one transaction, the handlers of one event one after another (the
 * planner makes them together); returns the stored rows (with their seqs), so the delivery engine
 * can take them from memory once the transaction commits. Also adds them to the totals per handler
 * (event-totals.ts). Locking: inside the caller's transaction.
 *
 * Seqs are assigned here, as SQLite would (the largest so far plus one, row after row), so that
 * all rows and documents go in with a few multi-row statements: an event's document has the seq
 * of its first row as id, and the other handlers' rows name it in doc_id (migrations.ts v2).
 */
import type Database from 'better-sqlite3';
import type { EventRow, NewEvent } from '../store.js';
import { prepareMultiRowInsert } from './multi-row-insert.js';
import { prepareEventTotals } from './event-totals.js';

export function prepareAppendEvents(db: Database.Database): (events: readonly NewEvent[]) => EventRow[] {
  const totals = prepareEventTotals(db);
  const lastSeq = db.prepare<[], number>('SELECT COALESCE(MAX(seq), 0) FROM events').pluck();
  const insertEvents = prepareMultiRowInsert(db, 'INSERT INTO events (seq, event_id, type, handler, queue, token, doc_id, next_attempt_at, created_at)', 9);
  const insertDocuments = prepareMultiRowInsert(db, 'INSERT INTO event_documents (id, document, request)', 3);
  return (events) => {
    if (events.length === 0) return [];
    let seq = lastSeq.get()!;
    const eventValues: unknown[] = [];
    const documentValues: unknown[] = [];
    const rows: EventRow[] = [];
    let lastEventId: string | undefined;
    let documentId = 0;
    const perHandler = new Map<string, number>();
    for (const e of events) {
      seq++;
      perHandler.set(e.handler, (perHandler.get(e.handler) ?? 0) + 1);
      const shared = e.eventId === lastEventId;
      if (!shared) {
        lastEventId = e.eventId;
        documentId = seq;
        documentValues.push(seq, e.document, e.request);
      }
      eventValues.push(seq, e.eventId, e.type, e.handler, e.queue, e.token ?? null, shared ? documentId : null, e.createdAt, e.createdAt);
      // Spelled out, not spread: one object shape for every row (this runs for every event).
      rows.push({
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
      });
    }
    insertEvents(eventValues);
    insertDocuments(documentValues);
    totals.tally(perHandler);
    return rows;
  };
}

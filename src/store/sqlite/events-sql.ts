/**
 * Appending events to the outbox. Always inside the transaction of the status change that caused
 * them (decisions.md "Events": at-least-once delivery starts with this write).
 *
 * Seqs are assigned here, as SQLite would (the largest so far plus one, row after row), so that
 * all rows and documents go in with a few multi-row statements: an event's document has the seq
 * of its first row as id, and the other handlers' rows name it in doc_id (migrations.ts v2).
 * The handlers of one event come one after another (the planner makes them together).
 */
import type Database from 'better-sqlite3';
import type { EventRow, NewEvent } from '../store.js';
import { prepareMultiRowInsert } from './multi-row-insert.js';

/** Values per row of `eventValues` and of `documentValues`. */
export const EVENT_COLUMNS = 9;
export const DOCUMENT_COLUMNS = 3;

/** The rows to insert for some events, and the stored rows they become (for delivery). */
export interface EventWrites {
  readonly rows: EventRow[];
  /** EVENT_COLUMNS per row, in `rows` order. */
  readonly eventValues: unknown[];
  /** DOCUMENT_COLUMNS per document: id (its first row's seq), document, request. */
  readonly documentValues: unknown[];
}

/** Parameters: the events and the largest seq so far. Pure: writes nothing. */
export function eventWrites(events: readonly NewEvent[], lastSeq: number): EventWrites {
  let seq = lastSeq;
  const eventValues: unknown[] = [];
  const documentValues: unknown[] = [];
  const rows: EventRow[] = [];
  let lastEventId: string | undefined;
  let documentId = 0;
  for (const e of events) {
    seq++;
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
  return { rows, eventValues, documentValues };
}

/** The largest seq so far (0 for none). Read where the seqs of the next writes are assigned. */
export function prepareLastSeq(db: Database.Database): () => number {
  const last = db.prepare<[], number>('SELECT COALESCE(MAX(seq), 0) FROM events').pluck();
  return () => last.get()!;
}

/** Inserts the values of eventWrites. Locking: inside the caller's transaction. */
export function prepareEventInserts(db: Database.Database): (eventValues: unknown[], documentValues: unknown[]) => void {
  const insertEvents = prepareMultiRowInsert(db, 'INSERT INTO events (seq, event_id, type, handler, queue, token, doc_id, next_attempt_at, created_at)', EVENT_COLUMNS);
  const insertDocuments = prepareMultiRowInsert(db, 'INSERT INTO event_documents (id, document, request)', DOCUMENT_COLUMNS);
  return (eventValues, documentValues) => {
    insertEvents(eventValues);
    insertDocuments(documentValues);
  };
}

/**
 * Parameters: the NewEvents of one transaction; returns the stored rows (with their seqs), so the
 * delivery engine can take them from memory once the transaction commits. Locking: inside the
 * caller's transaction.
 */
export function prepareAppendEvents(db: Database.Database): (events: readonly NewEvent[]) => EventRow[] {
  const lastSeq = prepareLastSeq(db);
  const insert = prepareEventInserts(db);
  return (events) => {
    if (events.length === 0) return [];
    const writes = eventWrites(events, lastSeq());
    insert(writes.eventValues, writes.documentValues);
    return writes.rows;
  };
}

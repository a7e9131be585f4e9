/**
 * Reading the outbox: a handler's pending events in seq order, listings for EventInfo, counts per
 * handler and state (event-totals.ts). Read-only: used by the store's connection and by the read
 * thread's (read-thread.ts), which runs the listings (they can scan the table).
 */
import type Database from 'better-sqlite3';
import type { EventCount, EventFilter, EventListing, EventRow } from '../store.js';
import { toEventRow, type EventDbRow } from '../event-row.js';
import { eventListing } from '../listing-filters.js';
import { prepareEventCounts } from './event-totals.js';

/** Event rows with their document (migrations.ts v2: a NULL doc_id means the row's own seq). */
const EVENTS_WITH_DOCUMENTS = 'events e JOIN event_documents d ON d.id = COALESCE(e.doc_id, e.seq)';
const EVENT_COLUMNS = 'e.*, d.document, d.request';

/** The SQL of an EventInfo or console event listing (exported for the test of its query plan). */
export function eventListingSql(f: EventFilter): { sql: string; args: (string | number)[] } {
  const { where, tail } = eventListing(f, false, 'handler = ? COLLATE NOCASE', 'e.seq');
  return { sql: `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_WITH_DOCUMENTS}${where}${tail}`, args: where.args };
}

export function prepareEventReads(db: Database.Database) {
  const pending = db.prepare<[string, number, number], EventDbRow>(
    `SELECT ${EVENT_COLUMNS} FROM ${EVENTS_WITH_DOCUMENTS} WHERE e.handler = ? AND e.state = 'pending' AND e.seq > ? ORDER BY e.seq LIMIT ?`,
  );
  const counts = prepareEventCounts(db);

  function list(f: EventFilter): EventRow[] {
    const { sql, args } = eventListingSql(f);
    return (db.prepare(sql).all(...args) as EventDbRow[]).map(toEventRow);
  }

  const listCounted = db.transaction((f: EventFilter): EventListing => ({ events: list(f), counts: counts() }));

  return {
    pendingEvents: (handler: string, afterSeq: number, limit: number): EventRow[] => pending.all(handler, afterSeq, limit).map(toEventRow),
    listEvents: list,
    eventCounts: (): EventCount[] => counts(),
    /** One read transaction: a delivery committed meanwhile shows in both or in neither. */
    listEventsCounted: (f: EventFilter): EventListing => listCounted(f),
  };
}

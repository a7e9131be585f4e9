/**
 * EventInfo's counts per handler and state without reading every event (migrations.ts v3).
 *
 * `event_totals` holds the rows stored per handler name (exact case, as in `events.handler`): the
 * commit that appends events adds to it (`tally`), the purge of delivered events takes from it
 * (`untally`), and a case-only rename of a handler's events recounts the names involved
 * (`recount`, rare: once at start after such a rename). Pending and failed rows are counted on
 * their partial indexes, which hold only those rows, so the delivered count is what is left.
 * Why: EventInfo counted with `GROUP BY handler, state` over the whole table: 420-730 ms per
 * 1,000,000 events (on a read thread in session 4); now 0.1-0.2 ms, on the store's connection. An
 * operator's view asks for counts often.
 * Locking: tally, untally and recount run inside the caller's transaction; the counts read in a
 * read transaction of their own.
 */
import type Database from 'better-sqlite3';
import type { EventCount, EventState } from '../store.js';

export function prepareEventTotals(db: Database.Database) {
  const add = db.prepare<[string, number]>(
    'INSERT INTO event_totals (handler, stored) VALUES (?, ?) ON CONFLICT (handler) DO UPDATE SET stored = stored + excluded.stored',
  );
  const subtract = db.prepare<[number, string]>('UPDATE event_totals SET stored = stored - ? WHERE handler = ?');
  const dropEmpty = db.prepare('DELETE FROM event_totals WHERE stored <= 0');
  const forgetNames = db.prepare<[string]>('DELETE FROM event_totals WHERE handler = ? COLLATE NOCASE');
  const countNames = db.prepare<[string]>('INSERT INTO event_totals (handler, stored) SELECT handler, COUNT(*) FROM events WHERE handler = ? COLLATE NOCASE GROUP BY handler');
  return {
    /** Inside the transaction that stored the events: `stored` per handler name. */
    tally(stored: ReadonlyMap<string, number>): void {
      for (const [handler, count] of stored) add.run(handler, count);
    },
    /** Inside the purge's transaction, before its DELETE: the rows about to go, per handler. */
    untally(purged: readonly { handler: string; count: number }[]): void {
      for (const { handler, count } of purged) subtract.run(count, handler);
      if (purged.length > 0) dropEmpty.run();
    },
    /** After rows moved between names that differ only in case: count those names again. */
    recount(handler: string): void {
      forgetNames.run(handler);
      countNames.run(handler);
    },
  };
}

/** The counting statements (exported for the test that checks their query plans). */
export const COUNT_SQL = {
  // `state = '<literal>'` so that SQLite uses the partial index of that state (migrations.ts).
  pending: `SELECT handler, COUNT(*) AS count FROM events WHERE state = 'pending' GROUP BY handler`,
  failed: `SELECT handler, COUNT(*) AS count FROM events WHERE state = 'failed' GROUP BY handler`,
  stored: 'SELECT handler, stored FROM event_totals',
} as const;

/** Reads the counts (on the store's connection: no scan, so nothing to move off its thread). */
export function prepareEventCounts(db: Database.Database): () => EventCount[] {
  const pending = db.prepare<[], { handler: string; count: number }>(COUNT_SQL.pending);
  const failed = db.prepare<[], { handler: string; count: number }>(COUNT_SQL.failed);
  const totals = db.prepare<[], { handler: string; stored: number }>(COUNT_SQL.stored);
  // One read transaction, so the three reads agree on any connection (another thread may commit between them).
  return db.transaction((): EventCount[] => {
    const byHandler = new Map<string, { stored: number; pending: number; failed: number }>();
    const entry = (handler: string) => {
      let counts = byHandler.get(handler);
      if (!counts) byHandler.set(handler, (counts = { stored: 0, pending: 0, failed: 0 }));
      return counts;
    };
    for (const t of totals.all()) entry(t.handler).stored = t.stored;
    for (const p of pending.all()) entry(p.handler).pending = p.count;
    for (const f of failed.all()) entry(f.handler).failed = f.count;
    const rows: EventCount[] = [];
    for (const handler of [...byHandler.keys()].sort()) {
      const { stored, pending, failed } = byHandler.get(handler)!;
      const counts: Record<EventState, number> = { delivered: Math.max(0, stored - pending - failed), failed, pending };
      // In the order of a GROUP BY handler, state.
      for (const state of ['delivered', 'failed', 'pending'] as const) if (counts[state] > 0) rows.push({ handler, state, count: counts[state] });
    }
    return rows;
  });
}

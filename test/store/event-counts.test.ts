/**
 * EventInfo's counts per handler and state come from the totals kept per handler and the partial
 * indexes of pending and failed events (event-totals.ts, migration 3), not from a scan of every
 * event: after every kind of change (stored, delivered, retried, failed, redelivered, purged,
 * adopted by a section renamed in case, a restart, a migration) they equal a full count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { COUNT_SQL } from '../../src/store/sqlite/event-totals.js';
import type { ActionRecord } from '../../src/queue/record.js';
import type { DeliveryOutcome, EventCount, NewEvent } from '../../src/store/store.js';
import type { EventType } from '../../src/events/handler.js';
import { newAction, TestPlanner } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';
import { databaseAtVersion } from './database-at-version.js';

/** Every action event goes to the handler sections named in `handlers` (one event, one id). */
class Handlers extends TestPlanner {
  handlers = ['H1', 'H2'];
  override forAction(type: Exclude<EventType, 'OnQueueEvent'>, record: ActionRecord, now: number): NewEvent[] {
    return super.forAction(type, record, now).flatMap((e) => this.handlers.map((handler) => ({ ...e, handler })));
  }
}

const empty = { node: 'n', enqueues: [], settlements: [], reports: [], progress: [] };

/** The counts the slow way: every event read. */
function fullCount(db: Database.Database): EventCount[] {
  return db.prepare('SELECT handler, state, COUNT(*) AS count FROM events GROUP BY handler, state ORDER BY handler, state').all() as EventCount[];
}

async function assertCountsExact(store: SqliteStore, when: string): Promise<void> {
  assert.deepEqual(await store.eventCounts(), fullCount(store.db), when);
}

/** Enqueue and claim `n` actions at `now`: each claim stores an OnStart per handler. */
async function startActions(store: SqliteStore, n: number, now: number): Promise<void> {
  await store.commit({ ...empty, now, enqueues: Array.from({ length: n }, () => newAction('Q')) });
    await store.claim('Q', n, 'n', now);
    await store.commit({ ...empty, now: now });
}

const seqsOf = (store: SqliteStore, handler: string, state: string): number[] =>
  store.db.prepare('SELECT seq FROM events WHERE handler = ? AND state = ? ORDER BY seq').pluck().all(handler, state) as number[];

test('counts equal a full count after events are stored, delivered, retried, failed, redelivered, purged and adopted, and after a restart', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const planner = new Handlers();
  let store = new SqliteStore({ file, durability: 'process', planner });
  try {
    await startActions(store, 40, 10);
    await assertCountsExact(store, 'stored');
    assert.deepEqual(await store.eventCounts(), [
      { handler: 'H1', state: 'pending', count: 40 },
      { handler: 'H2', state: 'pending', count: 40 },
    ]);

    const h1 = seqsOf(store, 'H1', 'pending');
    const h2 = seqsOf(store, 'H2', 'pending');
    const deliveries: DeliveryOutcome[] = [
      ...h1.slice(0, 25).map((seq) => ({ seq, handler: 'H', result: 'delivered' as const })),
      ...h2.slice(0, 4).map((seq) => ({ seq, handler: 'H', result: 'failed' as const, attempts: 4, error: 'down' })),
      ...h2.slice(4, 7).map((seq) => ({ seq, handler: 'H', result: 'retry' as const, attempts: 1, nextAttemptAt: 99, error: '503' })),
      ...h2.slice(7, 17).map((seq) => ({ seq, handler: 'H', result: 'delivered' as const })),
    ];
    await store.recordOutcomes('n', deliveries);
    await assertCountsExact(store, 'delivered, failed and retried');

    assert.equal((await store.redeliver('H2', undefined, 30)).length, 4);
    await assertCountsExact(store, 'redelivered');

    // Delivered events created before 15 (all of them so far) go; the later ones stay.
    await startActions(store, 5, 40);
    await store.recordOutcomes('n', seqsOf(store, 'H1', 'pending').slice(-5).map((seq) => ({ seq, handler: 'H', result: 'delivered' as const })) );
    assert.equal(await store.purgeDelivered(15), 35);
    await assertCountsExact(store, 'purged');
    assert.equal((await store.eventCounts()).find((c) => c.handler === 'H1' && c.state === 'delivered')?.count, 5);

    // Events stored for [h1] before the section was renamed [H1] become H1's at start.
    planner.handlers = ['h1'];
    await startActions(store, 6, 50);
    await store.recordOutcomes('n', seqsOf(store, 'h1', 'pending').slice(0, 2).map((seq) => ({ seq, handler: 'H', result: 'delivered' as const })) );
    await assertCountsExact(store, 'stored under h1');
    assert.equal(await store.adoptHandlerEvents('H1'), 4);
    await assertCountsExact(store, 'adopted by H1');

    await store.close();
    store = new SqliteStore({ file, durability: 'process', planner });
    await assertCountsExact(store, 'after a restart');
  } finally {
    await store.close();
  }
});

test('the counts read the partial indexes of pending and failed events, never the whole table', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new Handlers() });
  try {
    const plan = (sql: string) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    assert.match(plan(COUNT_SQL.pending), /USING COVERING INDEX events_pending\b/);
    assert.match(plan(COUNT_SQL.failed), /USING COVERING INDEX events_failed\b/);
    assert.doesNotMatch(plan(COUNT_SQL.pending) + plan(COUNT_SQL.failed), /TEMP B-TREE/);
    assert.match(plan(COUNT_SQL.stored), /SCAN event_totals/);
  } finally {
    await store.close();
  }
});

test('a database from before the totals (migration 2) gets them counted from its events', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const v2 = databaseAtVersion(file, 2);
  const insert = v2.prepare(`INSERT INTO events (event_id, type, handler, queue, state, next_attempt_at, created_at) VALUES (?, 'OnFinish', ?, 'Q', ?, 1, 1)`);
  for (let i = 0; i < 30; i++) insert.run(`e${i}`, i % 3 === 0 ? 'A' : 'B', ['pending', 'delivered', 'failed'][i % 5 === 0 ? 2 : i % 2]!);
  v2.close();

  const store = new SqliteStore({ file, durability: 'process', planner: new Handlers() });
  try {
    await assertCountsExact(store, 'migrated');
    assert.equal((await store.eventCounts()).reduce((n, c) => n + c.count, 0), 30);
  } finally {
    await store.close();
  }
});

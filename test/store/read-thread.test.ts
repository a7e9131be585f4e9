/**
 * EventInfo's counts and listings run on the store's read thread (read-thread.ts): they see what
 * is committed, and the event loop keeps turning while they scan (a listing filtered on a column
 * without an index reads every event; counts read only the totals and the partial indexes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newAction, TestPlanner } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';

const empty = { node: 'n', enqueues: [], settlements: [], reports: [], progress: [] };

test('a listing that scans 100,000 events leaves the event loop turning, and the counts and listings are those committed', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
  try {
    const insert = store.db.prepare(`INSERT INTO events (event_id, type, handler, queue, token, state, next_attempt_at, created_at) VALUES (?, 'OnFinish', ?, 'Q', 't', ?, 1, 1)`);
    store.db.transaction(() => {
      for (let i = 0; i < 100_000; i++) insert.run(`e${i}`, i % 2 === 0 ? 'A' : 'B', i % 1000 === 0 ? 'failed' : 'delivered');
      // Rows written behind the store's back: their totals too, as migration 3 would count them.
      store.db.exec('DELETE FROM event_totals; INSERT INTO event_totals (handler, stored) SELECT handler, COUNT(*) FROM events GROUP BY handler');
    })();
    let turns = 0;
    let done = false;
    const spin = () => {
      turns++;
      if (!done) setImmediate(spin);
    };
    const listing = store.listEvents({ descending: true, limit: 10, token: 'no such token' }).finally(() => (done = true));
    setImmediate(spin);
    assert.deepEqual(await listing, []);
    assert.ok(turns >= 10, `the event loop turned ${turns} times while the listing scanned`);
    const counts = await store.eventCounts();
    const count = (handler: string, state: string) => counts.find((c) => c.handler === handler && c.state === state)?.count;
    assert.deepEqual([count('A', 'delivered'), count('A', 'failed'), count('B', 'delivered'), count('B', 'failed')], [49_900, 100, 50_000, undefined]);

    // A commit made on the store's connection is seen by the next read.
    await store.commit({ ...empty, now: 5, enqueues: [newAction('Q')] });
    await store.claim('Q', 1, 'n', 5);
    await store.commit({ ...empty, now: 5 });
    const [newest] = await store.listEvents({ descending: true, limit: 1 });
    assert.deepEqual([newest?.type, newest?.state, newest?.handler], ['OnStart', 'pending', 'H']);
    assert.equal((await store.eventCounts()).find((c) => c.handler === 'H')?.count, 1);
  } finally {
    await store.close();
  }
});

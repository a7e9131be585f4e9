/**
 * Runs the Store conformance suite on SqliteStore (a temp database file per test), plus the checks
 * only SQLite can make: the `events` table holds the planner's events once commit returns, and the
 * rows survive reopening the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreConformance, newAction, TestPlanner } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';

const openSqlite = (planner?: TestPlanner, file = join(tempDir(), 'tocsin.db')) => new SqliteStore({ file, durability: 'process', ...(planner ? { planner } : {}) });

describeStoreConformance('SqliteStore', async ({ planner }) => openSqlite(planner as TestPlanner));

test('SqliteStore: the events of a commit are rows of the events table as soon as commit returns, and stay after reopening', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const store = openSqlite(new TestPlanner(), file);
  const action = newAction('Q');
  await store.commit({ now: 1, node: 'n', enqueues: [action], settlements: [], reports: [], progress: [] });
  assert.equal((await store.claim('Q', 1, 'n', 1)).length, 1);
  await store.commit({ now: 2, node: 'n', enqueues: [], settlements: [], reports: [], progress: [] });
  const rows = store.db.prepare('SELECT type, handler, token, state FROM events ORDER BY seq').all();
  assert.deepEqual(rows, [{ type: 'OnStart', handler: 'H', token: action.token, state: 'pending' }]);
  assert.equal(store.db.inTransaction, false, 'committed, not pending in an open transaction');
  await store.close();
  const reopened = openSqlite(undefined, file);
  try {
    assert.equal(reopened.db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 1);
    assert.equal((await reopened.getAction(action.token))?.status, 'Processing');
  } finally {
    await reopened.close();
  }
});

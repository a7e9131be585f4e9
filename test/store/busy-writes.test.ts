/**
 * Writes of the SQLite store while another connection holds the write lock, as the checkpoint
 * thread's RESTART does for a few ms at a time (checkpoint-worker.ts): they wait with the event loop
 * free and then land; none fails with "database is locked", none blocks the thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newAction } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';

const empty = { now: 1, node: 'n', starts: [], settlements: [], reports: [], progress: [], claims: [], deliveries: [] };

/** Holds the database's write lock from a second connection until the returned function is called. */
function holdWriteLock(file: string): () => void {
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  return () => {
    if (!other.open) return;
    other.exec('COMMIT');
    other.close();
  };
}

/** Counts event loop turns (1 ms timers) until stopped. */
function countTurns(): () => number {
  let turns = 0;
  const timer = setInterval(() => turns++, 1);
  return () => {
    clearInterval(timer);
    return turns;
  };
}

test('a group commit that finds the write lock held waits for it with the event loop turning, then commits', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const store = new SqliteStore({ file, durability: 'process' });
  try {
    const release = holdWriteLock(file);
    try {
      const turns = countTurns();
      let settled = false;
      const committed = store.commit({ ...empty, enqueues: [newAction('Q')] }).finally(() => (settled = true));
      committed.catch(() => {});
      await delay(150);
      const counted = turns();
      assert.equal(settled, false, 'the commit waits while the lock is held');
      assert.ok(counted >= 20, `the event loop turned while the commit waited (${counted} turns)`);
      release();
      const result = await committed;
      assert.notEqual(result.enqueued[0], 'full');
    } finally {
      release();
    }
    assert.equal((await store.queueCounts('Q')).queued, 1);
  } finally {
    await store.close();
  }
});

test('a control action whose first statement writes (Cancel) also waits for the lock without blocking the thread', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const store = new SqliteStore({ file, durability: 'process' });
  try {
    const { enqueued } = await store.commit({ ...empty, enqueues: [newAction('Q')] });
    const token = (enqueued[0] as { token: string }).token;
    const release = holdWriteLock(file);
    try {
      const turns = countTurns();
      const cancelled = store.cancel(token, 2);
      cancelled.catch(() => {});
      await delay(150);
      const counted = turns();
      release();
      assert.ok(counted >= 20, `the event loop turned while the cancel waited (${counted} turns)`);
      assert.equal((await cancelled)?.status, 'Cancelled');
    } finally {
      release();
    }
  } finally {
    await store.close();
  }
});

/**
 * The SQLite store's data directory lock and its checkpoint thread (database.ts, checkpointer.ts):
 * a second store on the same file is refused; the WAL reaches the database file without the
 * store's own connection checkpointing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { isTocsinError } from '../../src/common/errors.js';
import { newAction } from './store-conformance.js';
import { tempDir, waitFor } from '../helpers/server.js';

const empty = { now: 1, node: 'n', starts: [], settlements: [], reports: [], progress: [], claims: [], deliveries: [] };
const sizeOf = (path: string) => statSync(path).size;

test('a second SqliteStore on the same database file fails with STORE_FAILED naming the file; after close() it opens', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const first = new SqliteStore({ file, durability: 'process' });
  try {
    assert.throws(
      () => new SqliteStore({ file, durability: 'process' }),
      (e: unknown) => isTocsinError(e, 'STORE_FAILED') && e.message.includes(file) && /another Tocsin process is using it/.test(e.message),
    );
  } finally {
    await first.close();
  }
  const again = new SqliteStore({ file, durability: 'process' });
  await again.close();
});

test('commits go to the WAL and the checkpoint thread copies them into the database file; close() leaves no WAL behind', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const store = new SqliteStore({ file, durability: 'process' });
  try {
    const before = sizeOf(file);
    const enqueues = Array.from({ length: 2000 }, () => newAction('Q', { label: 'x'.repeat(200) }));
    await store.commit({ ...empty, enqueues });
    assert.ok(sizeOf(`${file}-wal`) > 500_000, 'the commit is in the WAL');
    assert.equal(sizeOf(file), before, 'the store connection does not checkpoint');
    await waitFor(() => sizeOf(file) > before + 500_000, 5_000, 20);
  } finally {
    await store.close();
  }
  assert.throws(() => statSync(`${file}-wal`), /ENOENT/, 'the last connection to close removes the WAL');
  const reopened = new SqliteStore({ file, durability: 'process' });
  try {
    assert.equal((await reopened.queueCounts('Q')).queued, 2000);
  } finally {
    await reopened.close();
  }
});

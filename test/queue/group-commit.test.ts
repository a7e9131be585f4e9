/**
 * The group committer's handling of delivery outcomes: they go into the batch's transaction, and a
 * failed commit keeps them and stores them with a later batch (never dropped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { GroupCommitter } from '../../src/queue/group-commit.js';
import { silentLogger } from '../../src/common/logger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { CommitBatch, Store } from '../../src/store/store.js';
import { newAction, TestPlanner } from '../store/store-conformance.js';
import { tempDir } from '../helpers/server.js';

/** The real store, whose next `failures` commits fail as a full disk would. */
function failingCommits(store: SqliteStore, failures: number): { store: Store; batches: CommitBatch[] } {
  const batches: CommitBatch[] = [];
  let left = failures;
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'commit') return Reflect.get(target, key, receiver) as unknown;
      return (batch: CommitBatch) => {
        batches.push(batch);
        if (left-- > 0) return Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
        return target.commit(batch);
      };
    },
  });
  return { store: wrapped, batches };
}

test('delivery outcomes are stored by a group commit, and kept through a failed one', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
  try {
    const action = newAction('Q');
    await store.commit({ now: 1, node: 'n', starts: [], enqueues: [action], settlements: [], reports: [], progress: [], claims: [{ queue: 'Q', max: 1 }], deliveries: [] });
    const [onStart] = await store.pendingEvents('H', 0, 10);
    assert.ok(onStart, 'the claim stored an OnStart');

    const { store: flaky, batches } = failingCommits(store, 1);
    const committer = new GroupCommitter(flaky, 'n', silentLogger);
    try {
      // Bounded: a lost outcome must fail the test, not hang it (the retry comes after 1 s).
      const guard = new AbortController();
      const lost = setTimeout(5_000, undefined, { signal: guard.signal }).then(() => Promise.reject(new Error('the outcome was never stored')));
      lost.catch(() => {}); // reported by the race; once aborted there is nothing to report
      try {
        await Promise.race([committer.recordDeliveries([{ seq: onStart.seq, result: 'delivered' }]), lost]);
      } finally {
        guard.abort();
      }
      assert.equal(batches.length, 2, 'the first commit failed, the outcome went into the next');
      assert.deepEqual(batches.map((b) => b.deliveries.map((d) => d.seq)), [[onStart.seq], [onStart.seq]]);
      const [stored] = await store.listEvents({ descending: false, limit: 10, token: action.token });
      assert.equal(stored!.state, 'delivered');
      assert.deepEqual(await store.pendingEvents('H', 0, 10), []);
    } finally {
      committer.close();
    }
  } finally {
    await store.close();
  }
});

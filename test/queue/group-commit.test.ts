/**
 * Delivery outcomes through the group committer, as the server wires them: they go into a batch's
 * transaction; a failed commit rejects them and their writer retries them with a later batch, so
 * none is dropped (and close() never waits on a store that keeps failing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { GroupCommitter } from '../../src/queue/group-commit.js';
import { OutcomeWriter } from '../../src/events/engine/outcome-writer.js';
import { silentLogger } from '../../src/common/logger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { CommitBatch, Store } from '../../src/store/store.js';
import { newAction, TestPlanner } from '../store/store-conformance.js';
import { tempDir, waitFor } from '../helpers/server.js';

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

/** `promise`, or a rejection after `ms`: a test that would wait forever fails instead (and closes its store). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('delivery outcomes are stored by a group commit, and retried by their writer after a failed one', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
  try {
    const action = newAction('Q');
    await store.commit({ now: 1, node: 'n', starts: [], enqueues: [action], settlements: [], reports: [], progress: [], claims: [{ queue: 'Q', max: 1 }], deliveries: [] });
    const [onStart] = await store.pendingEvents('H', 0, 10);
    assert.ok(onStart, 'the claim stored an OnStart');

    const { store: flaky, batches } = failingCommits(store, 1);
    const committer = new GroupCommitter(flaky, 'n', silentLogger);
    try {
      await assert.rejects(within(committer.recordDeliveries([{ seq: onStart.seq, result: 'delivered' }]), 5_000), { code: 'STORE_FAILED' });
      assert.equal((await store.pendingEvents('H', 0, 10)).length, 1, 'the failed commit stored nothing');

      const writer = new OutcomeWriter((outcomes) => committer.recordDeliveries(outcomes), silentLogger);
      writer.add({ seq: onStart.seq, result: 'delivered' });
      await waitFor(async () => (await store.pendingEvents('H', 0, 10)).length === 0, 5_000);
      assert.deepEqual(batches.map((b) => b.deliveries.map((d) => d.seq)), [[onStart.seq], [onStart.seq]]);
      const [stored] = await store.listEvents({ descending: false, limit: 10, token: action.token });
      assert.equal(stored!.state, 'delivered');
      await writer.flush();
    } finally {
      committer.close();
    }
  } finally {
    await store.close();
  }
});

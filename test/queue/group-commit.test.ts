/**
 * Delivery outcomes as the server wires them: the delivery engine's OutcomeWriter hands them to
 * the store's recordOutcomes; a failed write rejects them and the writer retries them later, so
 * none is dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OutcomeWriter } from '../../src/events/engine/outcome-writer.js';
import { silentLogger } from '../../src/common/logger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { DeliveryOutcome } from '../../src/store/store.js';
import { newAction, TestPlanner } from '../store/store-conformance.js';
import { tempDir, waitFor } from '../helpers/server.js';

const LEASE = { handler: 'H', node: 'n', generation: 1 };

test('delivery outcomes are stored through the store, and retried by their writer after a failed write', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
  try {
    const action = newAction('Q');
    await store.commit({ now: 1, node: 'n', enqueues: [action], settlements: [], reports: [], progress: [] });
    await store.claim('Q', 1, 'n', 2);
    const [onStart] = await store.claimDeliveries(LEASE, 0, 10);
    assert.ok(onStart, 'the claim stored an OnStart');

    const writes: (readonly DeliveryOutcome[])[] = [];
    let failures = 1;
    const writer = new OutcomeWriter((outcomes) => {
      writes.push(outcomes);
      // A write that fails as a full disk would, once; the writer must try again.
      if (failures-- > 0) return Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
      return store.recordOutcomes('n', outcomes);
    }, silentLogger);
    writer.add({ seq: onStart.seq, handler: 'H', result: 'delivered' });
    await waitFor(async () => (await store.claimDeliveries(LEASE, 0, 10)).length === 0, 5_000);
    assert.deepEqual(writes.map((w) => w.map((d) => d.seq)), [[onStart.seq], [onStart.seq]]);
    const [stored] = await store.listEvents({ descending: false, limit: 10, token: action.token });
    assert.equal(stored!.state, 'delivered');
    await writer.flush();
  } finally {
    await store.close();
  }
});

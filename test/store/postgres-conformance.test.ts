/**
 * Runs the Store conformance suite on PostgresStore (a database of its own per test, on the server
 * test/helpers/postgres.ts provides), plus what only a shared store must do: several store
 * instances (nodes) on one database never claim one action twice, keep one queue size, fence a
 * node that lost its lease, and hand a handler's deliveries to one node at a time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { describeStoreConformance, newAction, TestPlanner } from './store-conformance.js';
import { databasesForThisFile, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();
const freshDatabase = databasesForThisFile();

const open = (url: string, planner = new TestPlanner(), leaseTimeoutMs = 15_000) => openPostgresStore({ connectionString: url, planner, leaseTimeoutMs });
const batch = (node: string, fields: object = {}) => ({ now: Date.now(), node, enqueues: [], settlements: [], reports: [], progress: [], ...fields });

if (skip) {
  test('PostgresStore conformance', { skip }, () => {});
} else {
  describeStoreConformance('PostgresStore', async ({ planner }) => open(await freshDatabase(), planner as TestPlanner));

  describe('PostgresStore: several nodes on one database', () => {
    test('two nodes claiming one queue at once never take an action twice, and take them all', async () => {
      const url = await freshDatabase();
      const [a, b] = [await open(url), await open(url)];
      try {
        for (let i = 0; i < 3; i++) await a.commit(batch('a', { enqueues: Array.from({ length: 100 }, () => newAction('Q')) }));
        const claims = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).claim('Q', 7, i % 2 ? 'a' : 'b', Date.now())));
        const ids = claims.flat().map((r) => r.id);
        assert.equal(ids.length, 300);
        assert.equal(new Set(ids).size, 300, 'none twice');
        // Each node writes its starts behind, with its next commit: a read on a node writes its own.
        await a.queueCounts('Q');
        assert.deepEqual((await b.queueCounts('Q')).queued, 0);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('MaximumQueueSize holds across nodes: one size for the cluster', async () => {
      const url = await freshDatabase();
      const [a, b] = [await open(url), await open(url)];
      try {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).commit(batch(i % 2 ? 'a' : 'b', { enqueues: [newAction('Q', { maxQueueSize: 5 }), newAction('Q', { maxQueueSize: 5 })] }))),
        );
        const stored = results.flatMap((r) => r.enqueued).filter((r) => r !== 'full');
        assert.equal(stored.length, 5);
        assert.equal((await a.queueCounts('Q')).queued, 5);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('a node whose lease lapsed is dead: another re-queues its actions, and its late settlement changes nothing', async () => {
      const url = await freshDatabase();
      const [a, b] = [await open(url, new TestPlanner(), 1_000), await open(url, new TestPlanner(), 1_000)];
      try {
        await a.heartbeat('a');
        await b.heartbeat('b');
        await a.commit(batch('a', { enqueues: [newAction('Q')] }));
        const [running] = await a.claim('Q', 1, 'a', Date.now());
        assert.ok(running);
        assert.equal(await b.recoverExpired('b', Date.now()), 0, 'a is alive');
        // a stops heartbeating; b keeps its own lease.
        await new Promise((r) => setTimeout(r, 1_300));
        await b.heartbeat('b');
        assert.equal(await b.recoverExpired('b', Date.now()), 1, "a's action is re-queued");
        const [again] = await b.claim('Q', 1, 'b', Date.now());
        assert.equal(again?.token, running.token);
        assert.equal(again?.attempts, 2, 'the attempt counts');
        const late = await a.commit(batch('a', { settlements: [{ id: running.id, running, status: 'Finished', endedAt: Date.now() }] }));
        assert.equal(late.settled[0], undefined, 'fenced: a no longer holds it');
        assert.equal((await b.getAction(running.token))?.status, 'Processing');
        assert.deepEqual(await a.heartbeat('a'), { held: false }, 'a learns it was taken for dead');
        const done = await b.commit(batch('b', { settlements: [{ id: again!.id, running: again!, status: 'Finished', endedAt: Date.now() }] }));
        assert.equal(done.settled[0]?.status, 'Finished');
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('one node at a time delivers a handler: the lease passes on when it lapses, and the old holder is fenced', async () => {
      const url = await freshDatabase();
      const [a, b] = [await open(url, new TestPlanner(), 1_000), await open(url, new TestPlanner(), 1_000)];
      try {
        await a.commit(batch('a', { enqueues: [newAction('Q')] }));
        await a.claim('Q', 1, 'a', Date.now());
        await a.commit(batch('a')); // the start (and its OnStart) is written by the next commit
        const leaseA = await a.acquireDelivery('H', 'a', Date.now());
        assert.ok(leaseA);
        assert.equal(await b.acquireDelivery('H', 'b', Date.now()), undefined, 'a holds it');
        const [event] = await a.claimDeliveries(leaseA, 0, 10);
        assert.ok(event);
        await new Promise((r) => setTimeout(r, 1_300));
        const leaseB = await b.acquireDelivery('H', 'b', Date.now());
        assert.ok(leaseB && leaseB.generation > leaseA.generation, 'b takes it over, a new generation');
        assert.deepEqual(await a.claimDeliveries(leaseA, 0, 10), [], 'the old lease reads nothing');
        await a.recordOutcomes('a', [{ seq: event.seq, handler: 'H', result: 'delivered' }]);
        assert.deepEqual((await b.claimDeliveries(leaseB, 0, 10)).map((e) => e.seq), [event.seq], "a's late outcome changed nothing");
        await b.recordOutcomes('b', [{ seq: event.seq, handler: 'H', result: 'delivered' }]);
        assert.deepEqual(await b.claimDeliveries(leaseB, 0, 10), []);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test("another node's submission wakes its listeners (LISTEN/NOTIFY), with the queue and count", async () => {
      const url = await freshDatabase();
      const [a, b] = [await open(url), await open(url)];
      try {
        const woke = new Promise<[string, number]>((resolve) => b.subscribe({ workQueued: (queue, count) => resolve([queue, count]) }));
        await a.commit(batch('a', { enqueues: [newAction('Q'), newAction('Q')] }));
        assert.deepEqual(await woke, ['Q', 2]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('a bad connection string or an unreachable server is a clear error naming the host, never the password', async () => {
      await assert.rejects(openPostgresStore({ connectionString: 'mysql://x' }), { code: 'CONFIG_VALUE' });
      const error = await openPostgresStore({ connectionString: 'postgres://tocsin:s3cret-pw@127.0.0.1:1/db' }).then(
        () => undefined,
        (e: Error & { code: string }) => e,
      );
      assert.ok(error);
      assert.equal(error.code, 'STORE_UNAVAILABLE');
      assert.match(error.message, /127\.0\.0\.1:1\/db/);
      assert.doesNotMatch(error.message, /s3cret-pw/);
    });
  });
}


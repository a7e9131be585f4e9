/**
 * Runs the Store conformance suite on PostgresStore (a database of its own per test, on the server
 * test/helpers/postgres.ts provides), plus what only a shared store must do: several store
 * instances (nodes) on one database never claim one action twice, keep one queue size, fence a
 * node that lost its lease, and hand a handler's deliveries to one node at a time.
 */
import { describe, test } from 'node:test';
import pg from 'pg';
import assert from 'node:assert/strict';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { describeStoreConformance, newAction, TestPlanner } from './store-conformance.js';
import { isDuplicate, type EnqueueOutcome } from '../../src/store/store.js';
import { databasesForThisFile, postgresSkipReason } from '../helpers/postgres.js';
import { waitFor } from '../helpers/server.js';

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

    test('one idempotency key submitted on several nodes at once is stored once; every answer names that action', async () => {
      const url = await freshDatabase();
      const nodes = [await open(url), await open(url), await open(url)];
      try {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => nodes[i % 3]!.commit(batch(`n${i % 3}`, { enqueues: [newAction('Q', { key: 'once' }), newAction('Q', { key: `own-${i}` })] }))),
        );
        const tokenOf = (r: EnqueueOutcome | undefined) => (r === undefined || r === 'full' ? assert.fail('stored or duplicate') : isDuplicate(r) ? r.duplicateOf.token : r.token);
        const once = results.map((r) => r.enqueued[0]);
        assert.equal(once.filter((r) => r !== 'full' && r !== undefined && !isDuplicate(r)).length, 1, 'one stored');
        assert.equal(new Set(once.map(tokenOf)).size, 1, 'one token answered');
        assert.equal((await nodes[0]!.queueCounts('Q')).queued, 31, 'the key once, and the 30 own keys');
      } finally {
        for (const n of nodes) await n.close();
      }
    });

    test('a key stored by a transaction that did not lock the queue makes the batch run again and answer it (the unique index)', async () => {
      const url = await freshDatabase();
      const store = await open(url);
      const [other, watcher] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
      await other.connect();
      await watcher.connect();
      try {
        await store.commit(batch('a', { enqueues: [newAction('Q')] }));
        await other.query('BEGIN');
        await other.query(`INSERT INTO actions (token, queue, status, params, queued_at, idempotency_key) VALUES ('tok-outside', 'Q', 'Queued', '[]', 1, 'raced')`);
        const racing = store.commit(batch('a', { enqueues: [newAction('Q', { key: 'raced' })] }));
        // The store's INSERT waits on the uncommitted row's key; then that row commits. (Asked on a
        // connection of its own: inside a transaction pg_stat_activity is read once.)
        await waitFor(async () => (await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO actions%'`)).rowCount! > 0);
        await other.query('COMMIT');
        const [outcome] = (await racing).enqueued;
        assert.ok(outcome !== undefined && outcome !== 'full' && isDuplicate(outcome), 'a duplicate');
        assert.equal(outcome.duplicateOf.token, 'tok-outside');
        assert.equal((await store.listActions({ queue: 'Q', sortBy: 'queue-time', descending: false })).length, 2);
      } finally {
        await other.end();
        await watcher.end();
        await store.close();
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


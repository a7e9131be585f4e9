/**
 * `tocsin move-store` (decisions.md "Many machines"; issue 14 item 6): a real SQLite store moved
 * into a real PostgreSQL database arrives whole, as a PostgresStore sees it through the Store
 * interface: every action by its token, the listings, queue counts and sizes, the events with
 * their states, deliveries in order, and running actions queued again by the first node. Also
 * what it refuses, --merge, and that a failure leaves the target as it was.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { moveStore } from '../../src/store/move/move-store.js';
import { packNotices } from '../../src/store/move/postgres-target.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { databasesForThisFile, postgresSkipReason } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';
import { databaseAtVersion } from './database-at-version.js';
import { makeSourceStore, QUEUES, snapshot, withoutId, withoutSeq, type SourceStore } from './move-store-fixture.js';
import { newAction, TestPlanner } from './store-conformance.js';

const skip = await postgresSkipReason();
const freshDatabase = databasesForThisFile();

async function withTarget<T>(url: string, fn: (store: PostgresStore) => Promise<T>): Promise<T> {
  const store = await openPostgresStore({ connectionString: url, planner: new TestPlanner() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function rows<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

const tableCounts = (url: string) =>
  rows<{ actions: number; events: number; queues: number }>(
    url,
    'SELECT (SELECT count(*)::int FROM actions) AS actions, (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM queues) AS queues',
  ).then((r) => r[0]!);

const sum = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

if (skip) {
  test('move-store', { skip }, () => {});
} else {
  describe('move-store: a SQLite store into PostgreSQL', () => {
    test('every action, event and queue arrives whole, as a PostgresStore sees it', async () => {
      const source = await makeSourceStore(tempDir());
      const url = await freshDatabase();
      const before = sha(source.file);
      const report = await moveStore({ from: source.file, to: url });
      assert.equal(sha(source.file), before, 'the source is only read');

      const byStatus: Record<string, number> = {};
      for (const a of source.actions) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      assert.deepEqual(report.actions, byStatus);
      assert.deepEqual(byStatus, { Queued: 3, Processing: 1, Paused: 2, Finished: 1, Error: 1, Cancelled: 1, Stopped: 1 });
      assert.deepEqual(report.events, { pending: source.events.length - 5, failed: 1, delivered: 4 });
      assert.equal(report.running, 2);
      assert.equal(report.actionsSkipped + report.eventsSkipped, 0);

      await withTarget(url, async (pgStore) => {
        // Every token, record for record (ids are the target's own).
        for (const a of source.actions) assert.deepEqual(withoutId((await pgStore.getAction(a.token))!), withoutId(a), a.token);
        const moved = await snapshot(pgStore);
        assert.deepEqual(moved.actions.map(withoutId), source.actions.map(withoutId), 'same actions, in the same (id) order');
        assert.deepEqual(moved.counts, source.counts);
        assert.deepEqual(moved.running, source.running);
        assert.deepEqual(moved.events.map(withoutSeq), source.events.map(withoutSeq), 'same events, in the same (seq) order');
        assert.equal(await pgStore.isQueuePaused('Echo'), true);
        assert.equal(await pgStore.isQueuePaused('Sleep'), false);
        assert.deepEqual(await pgStore.claim('Echo', 5, 'n1', Date.now()), [], 'a paused queue hands out nothing');

        // The queue sizes the PostgreSQL store keeps in its queues table, and the last queue event.
        const queues = await rows<{ name: string; size: number; paused: boolean; last_event: string }>(url, 'SELECT name, size, paused, last_event FROM queues ORDER BY name');
        assert.deepEqual(queues, [
          { name: 'Echo', size: 2, paused: true, last_event: 'QueueEmpty' },
          { name: 'Sleep', size: 2, paused: false, last_event: 'QueueFull' },
        ]);
        assert.deepEqual(source.waiting, { Echo: 2, Sleep: 2 });
        const full = await pgStore.commit({ now: Date.now(), node: 'n1', enqueues: [newAction('Sleep', { maxQueueSize: 2 })], settlements: [], reports: [], progress: [] });
        assert.equal(full.enqueued[0], 'full', 'MaximumQueueSize counts the moved waiting actions');

        // Deliveries go on where they were: the pending events (the retried one with its attempt), in order.
        const lease = await pgStore.acquireDelivery('H', 'n1', Date.now());
        assert.ok(lease);
        const deliveries = await pgStore.claimDeliveries(lease, 0, 1000);
        assert.deepEqual(deliveries.map(withoutSeq), source.events.filter((e) => e.state === 'pending').map(withoutSeq));
        assert.ok(deliveries.some((e) => e.attempts === 1 && e.lastError === 'busy'));
        assert.deepEqual(
          (await pgStore.listEvents({ states: ['failed'], descending: false, limit: 10 })).map((e) => [e.attempts, e.lastError]),
          [[4, 'gave up']],
        );

        // The running actions arrived without a node: the first node to start queues them again.
        assert.equal(await pgStore.recoverExpired('n1', Date.now(), { starting: true }), 2);
        for (const token of source.running) {
          const record = await pgStore.getAction(token);
          assert.equal(record?.status, 'Queued');
          assert.equal(record?.startedAt, undefined);
        }
        const claimed = await pgStore.claim('Sleep', 10, 'n1', Date.now());
        const before = new Map(source.actions.map((a) => [a.token, a]));
        for (const token of source.running) {
          const again = claimed.find((r) => r.token === token);
          assert.ok(again, `${token} runs again`);
          assert.equal(again.attempts, before.get(token)!.attempts + 1, 'the attempt counts');
        }

        // Ids and seqs are past every moved one.
        const maxId = Math.max(...moved.actions.map((a) => a.id));
        const maxSeq = Math.max(...moved.events.map((e) => e.seq));
        const added = await pgStore.commit({ now: Date.now(), node: 'n1', enqueues: [newAction('Sleep')], settlements: [], reports: [], progress: [] });
        assert.ok(added.enqueued[0] !== 'full' && 'id' in added.enqueued[0]! && added.enqueued[0].id > maxId);
        const newest = await pgStore.listEvents({ descending: true, limit: 1 });
        assert.ok(newest[0]!.seq > maxSeq, 'the OnStart events of the claims came after the moved ones');
      });
    });

    test('ids and seqs keep the source order', async () => {
      const source = await makeSourceStore(tempDir());
      const url = await freshDatabase();
      await moveStore({ from: source.file, to: url });
      await withTarget(url, async (pgStore) => {
        const ids = await Promise.all(source.actions.map(async (a) => (await pgStore.getAction(a.token))!.id));
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
        const events = await pgStore.listEvents({ descending: false, limit: 1000 });
        assert.deepEqual(events.map((e) => e.eventId + e.handler), source.events.map((e) => e.eventId + e.handler));
      });
    });

    test('a target that already holds actions is refused, and left as it was', async () => {
      const url = await freshDatabase();
      await moveStore({ from: (await makeSourceStore(tempDir())).file, to: url });
      const before = await tableCounts(url);
      const other = await makeSourceStore(tempDir());
      await assert.rejects(moveStore({ from: other.file, to: url }), (e: Error & { code: string }) => {
        assert.equal(e.code, 'MOVE_TARGET_NOT_EMPTY');
        assert.match(e.message, new RegExp(`already holds ${before.actions} actions.*--merge`));
        return true;
      });
      assert.deepEqual(await tableCounts(url), before);
    });

    test('idempotency keys move with their actions; with --merge a key the target queue holds stays with its action', async () => {
      const url = await freshDatabase();
      const key = (k: string) => ({ now: 1, node: 'n', enqueues: [newAction('Sleep', { key: k })], settlements: [], reports: [], progress: [] });
      const sourceFile = (name: string) => join(tempDir(), name);
      const [fileA, fileB] = [sourceFile('a.db'), sourceFile('b.db')];
      for (const [file, keys] of [[fileA, ['k-1', 'k-2']], [fileB, ['k-2', 'k-3']]] as const) {
        const store = new SqliteStore({ file, durability: 'process' });
        for (const k of keys) await store.commit(key(k));
        await store.close();
      }
      await moveStore({ from: fileA, to: url });
      await moveStore({ from: fileB, to: url, merge: true });
      const held = await rows<{ idempotency_key: string | null; n: number }>(url, 'SELECT idempotency_key, count(*)::int AS n FROM actions GROUP BY 1 ORDER BY 1 NULLS LAST');
      assert.deepEqual(held, [{ idempotency_key: 'k-1', n: 1 }, { idempotency_key: 'k-2', n: 1 }, { idempotency_key: 'k-3', n: 1 }, { idempotency_key: null, n: 1 }], "b's k-2 action moved without its key");
      await withTarget(url, async (store) => {
        const [again] = (await store.commit(key('k-1'))).enqueued;
        assert.ok(again !== undefined && again !== 'full' && 'duplicateOf' in again, 'a moved key answers its action on PostgreSQL');
      });
    });

    test('--merge adds to a target with actions, adds to its queue sizes, and skips tokens (and events) it holds', async () => {
      const url = await freshDatabase();
      const a = await makeSourceStore(tempDir());
      const b = await makeSourceStore(tempDir(), 1_800_000_000_000);
      await moveStore({ from: a.file, to: url });
      const report = await moveStore({ from: b.file, to: url, merge: true });
      assert.equal(sum(report.actions), b.actions.length);
      assert.equal(report.actionsSkipped, 0);
      await withTarget(url, async (pgStore) => {
        for (const x of [...a.actions, ...b.actions]) assert.deepEqual(withoutId((await pgStore.getAction(x.token))!), withoutId(x));
        for (const queue of QUEUES) assert.equal((await pgStore.queueCounts(queue)).queued, a.counts[queue]!.queued + b.counts[queue]!.queued);
      });
      const sizes = await rows<{ name: string; size: number }>(url, 'SELECT name, size FROM queues ORDER BY name');
      assert.deepEqual(sizes, QUEUES.map((name) => ({ name, size: a.waiting[name]! + b.waiting[name]! })));

      // The same source again: everything is there already, nothing is copied twice.
      const before = await tableCounts(url);
      const again = await moveStore({ from: a.file, to: url, merge: true });
      assert.deepEqual(again.actions, {});
      assert.deepEqual(again.events, {});
      assert.equal(again.actionsSkipped, a.actions.length);
      assert.equal(again.eventsSkipped, a.events.length);
      assert.deepEqual(await tableCounts(url), before);
      assert.deepEqual(await rows(url, 'SELECT name, size FROM queues ORDER BY name'), sizes);
    });

    test('a failure part way leaves the target as it was (one transaction)', async () => {
      const source = await makeSourceStore(tempDir());
      // The last event cannot go into a bigint column: the copy fails after the actions and queues went in.
      const db = new Database(source.file);
      db.prepare(`UPDATE events SET next_attempt_at = 'soon' WHERE seq = (SELECT MAX(seq) FROM events)`).run();
      db.close();
      const url = await freshDatabase();
      await assert.rejects(moveStore({ from: source.file, to: url }), { code: 'STORE_FAILED' });
      assert.deepEqual(await tableCounts(url), { actions: 0, events: 0, queues: 0 });
    });

    test('--no-delivered leaves the delivered events behind', async () => {
      const source = await makeSourceStore(tempDir());
      const url = await freshDatabase();
      const report = await moveStore({ from: source.file, to: url, delivered: false });
      assert.equal(report.events['delivered'], undefined);
      await withTarget(url, async (pgStore) => {
        const events = await pgStore.listEvents({ descending: false, limit: 1000 });
        assert.deepEqual(events.map(withoutSeq), source.events.filter((e) => e.state !== 'delivered').map(withoutSeq));
      });
    });

    test('a store of the first schema version (documents inside events) moves too; a running action loses its old owner', async () => {
      const dir = tempDir();
      const file = join(dir, 'tocsin.db');
      const db = databaseAtVersion(file, 1);
      db.prepare(`INSERT INTO actions (token, queue, status, priority, params, queued_at, attempts) VALUES ('tok-v1', 'Sleep', 'Queued', 3, '[["Seconds","1"]]', 1000, 0)`).run();
      db.prepare(`INSERT INTO actions (token, queue, status, params, queued_at, started_at, attempts, owner) VALUES ('tok-run', 'Sleep', 'Processing', '[]', 1001, 1002, 1, 'old-host:9000:123')`).run();
      db.prepare(
        `INSERT INTO events (event_id, type, handler, queue, token, document, request, state, attempts, next_attempt_at, created_at, last_error)
         VALUES ('ev-v1', 'OnError', 'H', 'Sleep', 'tok-v1', '<event>old</event>', '{"a":"1"}', 'failed', 3, 1000, 1000, 'refused')`,
      ).run();
      db.close();
      const url = await freshDatabase();
      await moveStore({ from: dir, to: url });
      await withTarget(url, async (pgStore) => {
        assert.deepEqual(withoutId((await pgStore.getAction('tok-v1'))!), { token: 'tok-v1', queue: 'Sleep', status: 'Queued', priority: 3, params: [['Seconds', '1']], queuedAt: 1000, attempts: 0, reports: [] });
        const [event] = await pgStore.listEvents({ descending: false, limit: 10 });
        assert.deepEqual([event?.document, event?.request, event?.state, event?.attempts, event?.lastError], ['<event>old</event>', '{"a":"1"}', 'failed', 3, 'refused']);
        const running = await pgStore.getAction('tok-run');
        assert.deepEqual([running?.status, running?.startedAt, running?.owner], ['Processing', 1002, undefined]);
        assert.equal(await pgStore.recoverExpired('n1', Date.now()), 1);
        assert.equal((await pgStore.getAction('tok-run'))?.status, 'Queued');
      });
    });
  });

  describe('move-store refuses a source it must not read', () => {
    const refused = async (from: string, code: string, message: RegExp) => {
      await assert.rejects(moveStore({ from, to: 'postgres://nobody@127.0.0.1:1/never' }), (e: Error & { code: string }) => {
        assert.equal(e.code, code, e.message);
        assert.match(e.message, message);
        return true;
      });
    };

    test('a missing file, a file that is not SQLite, an SQLite file that is not Tocsin, one from a newer Tocsin', async () => {
      const dir = tempDir();
      await refused(join(dir, 'none.db'), 'MOVE_SOURCE_INVALID', /does not exist/);
      writeFileSync(join(dir, 'text.db'), 'not a database, only text '.repeat(100));
      await refused(join(dir, 'text.db'), 'MOVE_SOURCE_INVALID', /is not an SQLite database/);
      const other = new Database(join(dir, 'other.db'));
      other.exec('CREATE TABLE actions (x); CREATE TABLE notes (y)');
      other.close();
      await refused(join(dir, 'other.db'), 'MOVE_SOURCE_INVALID', /is not a Tocsin SQLite datastore \(no schema_migrations, queues, events tables\)/);
      const newer = databaseAtVersion(join(dir, 'newer.db'), 3);
      newer.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)').run();
      newer.close();
      await refused(join(dir, 'newer.db'), 'MOVE_SOURCE_INVALID', /newer Tocsin \(schema version 99/);
    });

    test('a store a server holds open (the data directory lock)', async () => {
      const dir = tempDir();
      const store = new SqliteStore({ file: join(dir, 'tocsin.db'), durability: 'process' });
      try {
        await refused(join(dir, 'tocsin.db'), 'MOVE_SOURCE_BUSY', /in use by a running Tocsin server/);
      } finally {
        await store.close();
      }
    });

    test('a target that is not a postgres:// URL, without echoing it', async () => {
      const source = await makeSourceStore(tempDir());
      await assert.rejects(moveStore({ from: source.file, to: 'mysql://u:s3cret@db/x' }), (e: Error & { code: string }) => {
        assert.equal(e.code, 'PARAM_INVALID');
        assert.doesNotMatch(e.message, /s3cret/);
        return true;
      });
    });
  });
}

test('notices to running nodes are split to fit pg_notify, and a name too long for one is left to their poll', () => {
  const queues = Array.from({ length: 400 }, (_, i) => [`Queue${i}`.padEnd(40, 'x'), i] as const);
  const notices = packNotices(queues, ['H', 'y'.repeat(9000)]);
  assert.ok(notices.length > 1);
  for (const n of notices) assert.ok(Buffer.byteLength(JSON.stringify(n)) <= 7000);
  assert.deepEqual(notices.flatMap((n) => n.w ?? []), queues);
  assert.deepEqual(notices.flatMap((n) => n.e ?? []), ['H']);
});

/**
 * SQLite keeps each event's document once, however many handlers get the event (migrations.ts v2):
 * every handler's row reads it back, purging delivered rows drops a document only when no row
 * needs it any more, and a database from before the split is migrated with its events intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ActionRecord } from '../../src/queue/record.js';
import type { NewEvent } from '../../src/store/store.js';
import type { EventType } from '../../src/events/handler.js';
import { newAction, TestPlanner } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';
import { databaseAtVersion } from './database-at-version.js';

/** Every action event goes to two handler sections, H1 and H2, as one event (one id, one document). */
class TwoHandlers extends TestPlanner {
  override forAction(type: Exclude<EventType, 'OnQueueEvent'>, record: ActionRecord, now: number): NewEvent[] {
    // The token in the document too, so a test can tell whose document a row reads.
    return super
      .forAction(type, record, now)
      .map((e) => ({ ...e, document: e.document.replace('</event>', `<token>${record.token}</token></event>`) }))
      .flatMap((e) => [{ ...e, handler: 'H1' }, { ...e, handler: 'H2' }]);
  }
}

const empty = { node: 'n', enqueues: [], settlements: [], reports: [], progress: [] };
const documentCount = (store: SqliteStore) => store.db.prepare('SELECT COUNT(*) FROM event_documents').pluck().get() as number;

test('the handlers of one event share one stored document, and a purge drops it only with its last row', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TwoHandlers() });
  try {
    const action = newAction('Q');
    await store.commit({ ...empty, now: 10, enqueues: [action] });
    await store.claim('Q', 1, 'n', 10);
    await store.commit({ ...empty, now: 10 });
    const rows = await store.listEvents({ descending: false, limit: 10 });
    assert.deepEqual(rows.map((r) => r.handler), ['H1', 'H2']);
    assert.equal(rows[0]!.eventId, rows[1]!.eventId);
    assert.equal(rows[1]!.document, rows[0]!.document, 'both rows read the same document');
    assert.match(rows[0]!.document, /<status>Processing<\/status>/);
    assert.equal(documentCount(store), 1);
    const [forH2] = await store.claimDeliveries({ handler: 'H2', node: 'n', generation: 1 }, 0, 10);
    assert.equal(forH2!.document, rows[0]!.document, 'the second handler reads it from the outbox too');

    // H1 delivered, H2 gave up: the purge takes H1's row and must leave the document for H2's.
    await store.recordOutcomes('n', [{ seq: rows[0]!.seq, handler: 'H', result: 'delivered' }, { seq: rows[1]!.seq, handler: 'H', result: 'failed', attempts: 4, error: 'down' }] );
    assert.equal(await store.purgeDelivered(1_000), 1);
    const [left] = await store.listEvents({ descending: false, limit: 10 });
    assert.deepEqual([left!.handler, left!.state, left!.document], ['H2', 'failed', rows[0]!.document]);
    assert.equal(documentCount(store), 1);

    // Redelivered and delivered: its purge takes the document with it.
    assert.deepEqual(await store.redeliver('H2', left!.eventId, 30), [left!.seq]);
    await store.recordOutcomes('n', [{ seq: left!.seq, handler: 'H', result: 'delivered' }] );
    assert.equal(await store.purgeDelivered(1_000), 1);
    assert.equal(documentCount(store), 0);

    // New events after a purge get their own documents (no id is reused under a live document).
    await store.commit({ ...empty, now: 50, enqueues: [newAction('Q')] });
    await store.claim('Q', 1, 'n', 50);
    await store.commit({ ...empty, now: 50 });
    const fresh = await store.listEvents({ descending: false, limit: 10 });
    assert.equal(fresh.length, 2);
    assert.ok(fresh.every((r) => /<status>Processing<\/status>/.test(r.document)));
    assert.equal(documentCount(store), 1);
  } finally {
    await store.close();
  }
});

test('a batch of many events is stored whole across statements, and deliveries in runs or scattered are marked exactly', async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TwoHandlers() });
  try {
    // 25 actions claimed in one commit: 50 rows (more than one multi-row statement), 25 documents.
    const actions = Array.from({ length: 25 }, () => newAction('Q'));
    await store.commit({ ...empty, now: 10, enqueues: actions });
    await store.claim('Q', 25, 'n', 10);
    await store.commit({ ...empty, now: 10 });
    const rows = await store.listEvents({ descending: false, limit: 100 });
    assert.equal(rows.length, 50);
    assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 50 }, (_, i) => rows[0]!.seq + i), 'seqs follow one another');
    assert.equal(documentCount(store), 25);
    for (let i = 0; i < 50; i += 2) {
      assert.deepEqual([rows[i]!.handler, rows[i + 1]!.handler], ['H1', 'H2']);
      assert.equal(rows[i]!.eventId, rows[i + 1]!.eventId);
      assert.equal(rows[i + 1]!.document, rows[i]!.document);
      assert.match(rows[i]!.document, new RegExp(`<token>${rows[i]!.token}</token>`), 'each row reads its own action\'s document');
    }
    assert.equal(new Set(rows.map((r) => r.token)).size, 25);

    // Two runs (range updates: the seq between them stays pending), then scattered seqs (one array).
    const seqs = rows.map((r) => r.seq);
    const run = [...seqs.slice(0, 10), ...seqs.slice(11, 20)];
    const scattered = seqs.slice(21).filter((_, i) => i % 2 === 0);
    const delivered = (list: number[]) => list.reverse().map((seq) => ({ seq, handler: 'H', result: 'delivered' as const }));
    await store.recordOutcomes('n', delivered([...run]) );
    await store.recordOutcomes('n', delivered([...scattered]) );
    const after = await store.listEvents({ descending: false, limit: 100 });
    const expected = new Set([...run, ...scattered]);
    assert.deepEqual(after.map((r) => r.state), seqs.map((seq) => (expected.has(seq) ? 'delivered' : 'pending')));
  } finally {
    await store.close();
  }
});

test('a database from before the split keeps its events, documents and order', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const v1 = databaseAtVersion(file, 1);
  const insert = v1.prepare(
    `INSERT INTO events (event_id, type, handler, queue, token, document, request, state, next_attempt_at, created_at) VALUES (?, ?, ?, 'Q', 'tok', ?, '{"action":"Q"}', ?, 5, 5)`,
  );
  insert.run('ev-1', 'OnStart', 'H', '<event><type>OnStart</type></event>', 'delivered');
  insert.run('ev-2', 'OnFinish', 'H', '<event><type>OnFinish</type></event>', 'pending');
  v1.close();

  const store = new SqliteStore({ file, durability: 'process', planner: new TestPlanner() });
  try {
    const rows = await store.listEvents({ descending: false, limit: 10 });
    assert.deepEqual(rows.map((r) => [r.seq, r.eventId, r.state, r.document, r.request]), [
      [1, 'ev-1', 'delivered', '<event><type>OnStart</type></event>', '{"action":"Q"}'],
      [2, 'ev-2', 'pending', '<event><type>OnFinish</type></event>', '{"action":"Q"}'],
    ]);
    assert.deepEqual((await store.claimDeliveries({ handler: 'H', node: 'n', generation: 1 }, 0, 10)).map((r) => r.eventId), ['ev-2']);
    await store.commit({ ...empty, now: 10, enqueues: [newAction('Q')] });
    await store.claim('Q', 1, 'n', 10);
    await store.commit({ ...empty, now: 10 });
    const after = await store.listEvents({ descending: false, limit: 10 });
    assert.deepEqual(after.map((r) => r.seq), [1, 2, 3]);
    assert.match(after[2]!.document, /<status>Processing<\/status>/);
    assert.equal(await store.purgeDelivered(1_000), 1);
    assert.equal(documentCount(store), 2);
  } finally {
    await store.close();
  }
});

/**
 * Local claims of the SQLite store (StoreCapabilities.localClaims): take() hands out waiting actions
 * at once, best first; until a commit writes their start they count as running for every other
 * writer; a row that becomes waiting ahead of those already read is still taken in its turn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ActionRecord } from '../../src/queue/record.js';
import type { NewAction } from '../../src/store/store.js';
import { newAction, TestPlanner } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';

const open = () => new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
const empty = { now: 1, node: 'n', enqueues: [] as NewAction[], settlements: [], reports: [], progress: [] };
/** The row as stored, bypassing the store's write-behind (which a read through the store would write first). */
const storedStatus = (store: SqliteStore, token: string) => store.db.prepare<[string], string>('SELECT status FROM actions WHERE token = ?').pluck().get(token);
const labelOf = (r: ActionRecord) => r.params.find(([n]) => n === 'Label')![1];

test('take hands out waiting actions best first, each once, until their start is committed', async () => {
  const store = open();
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'a' }), newAction('Q', { label: 'b', priority: 5 }), newAction('Q', { label: 'c' })] });
    const first = store.take('Q', 2, 10);
    assert.deepEqual(first.map(labelOf), ['b', 'a']);
    assert.ok(first.every((r) => r.status === 'Processing' && r.startedAt === 10 && r.attempts === 1));
    assert.deepEqual(store.take('Q', 5, 11).map(labelOf), ['c'], 'taken ones are not handed out again');
    assert.equal(storedStatus(store, first[0]!.token), 'Queued', 'the start is not written before a commit');
    await store.commit(empty);
    assert.equal(storedStatus(store, first[0]!.token), 'Processing', 'the next commit writes it');
    assert.equal((await store.getAction(first[0]!.token))?.status, 'Processing');
    assert.equal((await store.getAction(first[0]!.token))?.attempts, 1);
  } finally {
    await store.close();
  }
});

test('a taken action is running for cancel, changePriority and pause, though its row still said Queued: its start is written first', async () => {
  const store = open();
  try {
    const action = newAction('Q');
    await store.commit({ ...empty, enqueues: [action] });
    const [taken] = store.take('Q', 1, 10);
    assert.equal(await store.cancel(action.token, 20), undefined);
    assert.equal(await store.changePriority(action.token, 9), undefined);
    assert.equal(storedStatus(store, action.token), 'Processing');
    const paused = await store.pauseAction(action.token);
    assert.deepEqual([paused?.status, paused?.startedAt], ['Paused', taken!.startedAt], 'paused as a running action');
  } finally {
    await store.close();
  }
});

test('an action that becomes waiting ahead of those already read is taken in its turn', async () => {
  const store = open();
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'a' }), newAction('Q', { label: 'b' }), newAction('Q', { label: 'c' })] });
    assert.deepEqual(store.take('Q', 1, 10).map(labelOf), ['a']);
    // A higher priority arrives while b and c are already read ahead.
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'urgent', priority: 7 })] });
    assert.deepEqual(store.take('Q', 1, 11).map(labelOf), ['urgent']);
    // c's priority is raised above b's.
    await store.changePriority((await store.listActions({ queue: 'Q', sortBy: 'queue-time', descending: false })).find((r) => labelOf(r) === 'c')!.token, 3);
    assert.deepEqual(store.take('Q', 2, 12).map(labelOf), ['c', 'b']);
  } finally {
    await store.close();
  }
});

test('a read-ahead action cancelled before its turn is skipped', async () => {
  const store = open();
  try {
    const [a, b, c] = [newAction('Q', { label: 'a' }), newAction('Q', { label: 'b' }), newAction('Q', { label: 'c' })];
    await store.commit({ ...empty, enqueues: [a, b, c] });
    assert.deepEqual(store.take('Q', 1, 10).map(labelOf), ['a']);
    assert.ok(await store.cancel(b.token, 11));
    assert.deepEqual(store.take('Q', 5, 12).map(labelOf), ['c']);
  } finally {
    await store.close();
  }
});

test('read-ahead rows are handed out as read, so a pause or a priority change of a waiting row empties the buffer', async () => {
  const store = open();
  try {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((label) => newAction('Q', { label }));
    await store.commit({ ...empty, enqueues: [a!, b!, c!, d!, e!] });
    assert.deepEqual(store.take('Q', 1, 10).map(labelOf), ['a'], 'b-e are now read ahead');
    assert.equal((await store.pauseAction(b!.token))?.status, 'Paused');
    assert.equal((await store.changePriority(c!.token, -5))?.priority, -5);
    // Not b (paused), and c after e (its priority fell).
    assert.deepEqual(store.take('Q', 5, 11).map(labelOf), ['d', 'e', 'c']);
  } finally {
    await store.close();
  }
});

test('once a queue is read to its end, later enqueues are handed out in claim order', async () => {
  const store = open();
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'a' })] });
    assert.deepEqual(store.take('Q', 5, 10).map(labelOf), ['a'], 'the page came back short: the queue is read to its end');
    // Each commit on its own: b and x go past the cursor; d (priority 0) is ahead of x (-1).
    for (const [label, priority] of [['b', 0], ['x', -1], ['d', 0]] as const) await store.commit({ ...empty, enqueues: [newAction('Q', { label, priority })] });
    assert.deepEqual(store.take('Q', 5, 11).map(labelOf), ['b', 'd', 'x']);
    assert.deepEqual(store.take('Q', 5, 12), []);
  } finally {
    await store.close();
  }
});

test('an enqueue whose commit rolled back is never handed out', async () => {
  const planner = new TestPlanner();
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner });
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'a' }), newAction('Other', { label: 'o' })] });
    assert.deepEqual(store.take('Q', 5, 10).map(labelOf), ['a']);
    // a's start goes first in that commit (Q: 1 → 0), then 'lost' makes Q full: the planner refuses.
    planner.fullAt = 1;
    planner.failOn = 'OnQueueEvent';
    await assert.rejects(store.commit({ ...empty, enqueues: [newAction('Q', { label: 'lost' })] }));
    planner.failOn = undefined;
    planner.fullAt = Infinity;
    assert.deepEqual(store.take('Q', 5, 11), []);
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'c' })] });
    assert.deepEqual(store.take('Q', 5, 12).map(labelOf), ['c']);
  } finally {
    await store.close();
  }
});

test('a row made waiting again after the queue was read to its end is taken', async () => {
  const store = open();
  try {
    const [a, b] = ['a', 'b'].map((label) => newAction('Q', { label }));
    await store.commit({ ...empty, enqueues: [a!, b!] });
    assert.equal((await store.pauseAction(b!.token))?.status, 'Paused');
    assert.deepEqual(store.take('Q', 5, 10).map(labelOf), ['a'], 'read to its end, b paused');
    assert.equal((await store.resumeAction(b!.token))?.status, 'Queued');
    assert.deepEqual(store.take('Q', 5, 11).map(labelOf), ['b']);
  } finally {
    await store.close();
  }
});

test('a queue read to its end is read again after a second, whatever happened meanwhile', async () => {
  const store = open();
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'a' })] });
    assert.deepEqual(store.take('Q', 5, 10_000).map(labelOf), ['a']);
    // A row written behind the store's back (no path of the store does this).
    store.db.prepare(`INSERT INTO actions (token, queue, status, priority, params, queued_at) VALUES ('raw', 'Q', 'Queued', 0, '[["Label","raw"]]', 1)`).run();
    assert.deepEqual(store.take('Q', 5, 10_500), [], 'within the second: the buffer is trusted');
    assert.deepEqual(store.take('Q', 5, 11_000).map(labelOf), ['raw']);
  } finally {
    await store.close();
  }
});

test('a burst of enqueues after the queue was read to its end is handed out whole and in order', async () => {
  const store = open();
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'first' })] });
    assert.deepEqual(store.take('Q', 5, 10).map(labelOf), ['first']);
    const burst = Array.from({ length: 200 }, (_, i) => newAction('Q', { label: `n${i}` }));
    await store.commit({ ...empty, enqueues: burst });
    const taken = [...store.take('Q', 150, 11), ...store.take('Q', 150, 12)];
    assert.deepEqual(taken.map(labelOf), burst.map((_, i) => `n${i}`));
  } finally {
    await store.close();
  }
});

test('an action taken and ended before its start was committed: one commit writes both, with both events in order', async () => {
  const store = open();
  try {
    const [a, b] = ['a', 'b'].map((label) => newAction('Q', { label }));
    await store.commit({ ...empty, enqueues: [a!, b!] });
    const [ta, tb] = store.take('Q', 2, 10);
    const result = [{ name: 'answer', text: '42' }];
    const result2 = await store.commit({
      ...empty,
      settlements: [
        { id: ta!.id, running: ta!, status: 'Finished', endedAt: 15, result },
        { id: tb!.id, running: tb!, status: 'Error', endedAt: 16, error: 'broke' },
      ],
    });
    assert.deepEqual(result2.settled.map((r) => r?.status), ['Finished', 'Error']);
    const fa = await store.getAction(a!.token);
    assert.deepEqual([fa?.status, fa?.startedAt, fa?.endedAt, fa?.attempts, fa?.result], ['Finished', 10, 15, 1, result]);
    const fb = await store.getAction(b!.token);
    assert.deepEqual([fb?.status, fb?.startedAt, fb?.endedAt, fb?.attempts, fb?.error], ['Error', 10, 16, 1, 'broke']);
    const events = await store.listEvents({ descending: false, limit: 10, token: a!.token });
    assert.deepEqual(events.map((e) => [e.type, /<status>(\w+)</.exec(e.document)?.[1]]), [['OnStart', 'Processing'], ['OnFinish', 'Finished']]);
    assert.deepEqual((await store.listEvents({ descending: false, limit: 10, token: b!.token })).map((e) => e.type), ['OnStart', 'OnError']);
    assert.deepEqual(store.take('Q', 5, 20), [], 'neither is handed out again');
  } finally {
    await store.close();
  }
});

test('a taken action read again behind a newer, better one is not handed out again once its start is committed', async () => {
  const store = open();
  try {
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'a' })] });
    const [a] = store.take('Q', 1, 10);
    // Enqueued ahead of the cursor: the queue is read again from the head while a's start is not
    // committed, so that page holds urgent, then a (still Queued in its row).
    await store.commit({ ...empty, enqueues: [newAction('Q', { label: 'urgent', priority: 7 })] });
    const [urgent] = store.take('Q', 1, 11);
    assert.equal(labelOf(urgent!), 'urgent');
    assert.ok(a);
    await store.commit(empty);
    assert.deepEqual(store.take('Q', 5, 12).map(labelOf), [], 'a runs once');
  } finally {
    await store.close();
  }
});

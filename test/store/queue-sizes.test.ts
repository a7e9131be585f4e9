/**
 * The SQLite store's queue sizes (actions waiting to start) are kept in memory (queue-sizes.ts) and
 * must agree with the table from the first transaction after a (re)start on: a start or a Cancel
 * that is a queue's first change after a restart counts once, so MaximumQueueSize (decisions.md
 * "Asynchronous actions") refuses exactly at the limit and QueueEmpty fires with the last start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newAction, TestPlanner } from './store-conformance.js';
import { tempDir } from '../helpers/server.js';

const empty = { node: 'n', enqueues: [], settlements: [], reports: [], progress: [] };
const MAX = 3;

/**
 * A store on `file` holding MAX waiting actions of queue Q, the last of them paused (a paused
 * action that never started still waits), and others in queues before and after Q; closed.
 * Returns the tokens of Q's actions.
 */
async function fullQueue(file: string): Promise<string[]> {
  const store = new SqliteStore({ file, durability: 'process' });
  try {
    const others = [newAction('A'), newAction('Z'), newAction('Z')];
    const { enqueued } = await store.commit({ ...empty, now: 1, enqueues: [...others, ...Array.from({ length: MAX }, () => newAction('Q', { maxQueueSize: MAX }))] });
    const tokens = enqueued.slice(others.length).map((r) => (r as { token: string }).token);
    assert.equal((await store.pauseAction(tokens[MAX - 1]!))?.status, 'Paused');
    return tokens;
  } finally {
    await store.close();
  }
}

/** Two enqueues at MaximumQueueSize=MAX: with MAX-1 waiting, the first fits and the second is refused. */
async function assertOneMoreFits(store: SqliteStore): Promise<void> {
  const { enqueued } = await store.commit({ ...empty, now: 3, enqueues: [newAction('Q', { maxQueueSize: MAX }), newAction('Q', { maxQueueSize: MAX })] });
  assert.deepEqual(enqueued.map((r) => (r === 'full' ? 'full' : 'queued')), ['queued', 'full']);
  const counts = await store.queueCounts('Q');
  assert.equal(counts.queued + counts.pausedActions, MAX);
}

test('after a restart, a start that is the queue first change counts once: MaximumQueueSize refuses at the limit', async () => {
  const file = join(tempDir(), 'tocsin.db');
  await fullQueue(file);
  const store = new SqliteStore({ file, durability: 'process' });
  try {
    const [record] = store.take('Q', 1, 2);
    assert.ok(record);
    await store.commit({ ...empty, now: 2 });
    await assertOneMoreFits(store);
  } finally {
    await store.close();
  }
});

test('after a restart, a Cancel that is the queue first change counts once: MaximumQueueSize refuses at the limit', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const [first] = await fullQueue(file);
  const store = new SqliteStore({ file, durability: 'process' });
  try {
    assert.equal((await store.cancel(first!, 2))?.status, 'Cancelled');
    await assertOneMoreFits(store);
  } finally {
    await store.close();
  }
});

test('after a restart, QueueEmpty fires when the last waiting action starts, not one before', async () => {
  const file = join(tempDir(), 'tocsin.db');
  const planner = () => Object.assign(new TestPlanner(), { fullAt: MAX });
  const first = new SqliteStore({ file, durability: 'process', planner: planner() });
  try {
    await first.commit({ ...empty, now: 1, enqueues: Array.from({ length: MAX }, () => newAction('Q')) });
  } finally {
    await first.close();
  }
  const store = new SqliteStore({ file, durability: 'process', planner: planner() });
  try {
    const queueEvents = async () => (await store.listEvents({ descending: false, limit: 100, types: ['OnQueueEvent'] })).map((e) => /<queueEventType>(\w+)</.exec(e.document)?.[1]);
    assert.deepEqual(await queueEvents(), ['QueueFull']);
    for (let i = 1; i <= MAX; i++) {
      const [record] = store.take('Q', 1, 2);
      assert.ok(record);
    await store.commit({ ...empty, now: 2 });
      assert.deepEqual(await queueEvents(), i < MAX ? ['QueueFull'] : ['QueueFull', 'QueueEmpty'], `after ${i} of ${MAX} started`);
    }
  } finally {
    await store.close();
  }
});

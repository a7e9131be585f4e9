/**
 * The PostgreSQL store's one-statement commit (src/store/postgres/fast-commit.ts) against its
 * step-by-step transaction (commit-batch.ts), on real PostgreSQL with the server's own
 * EventPlanner: the same starts and settlements leave the same actions, queue sizes and events,
 * queue events included, whichever path commits them; a queue in a state only the planner can
 * judge goes the step-by-step way; a start refused by fencing is reported lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActionQueueSettings } from '../../src/config/settings.js';
import { createEventPlanner } from '../../src/events/planner.js';
import type { ActionRecord } from '../../src/queue/record.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { EventPlanner } from '../../src/store/store.js';
import { newAction } from './store-conformance.js';
import { databasesForThisFile, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();
const freshDatabase = databasesForThisFile();
const NODE = 'node-a';
const MAX = 10;

const queueSettings: ActionQueueSettings = {
  name: 'Q',
  maximumThreads: 4,
  maximumQueueSize: MAX,
  maxStoredParametersSize: 1 << 20,
  events: { OnStart: ['H'], OnFinish: ['H'], OnError: ['H'], OnErrorReport: [], OnQueueEvent: ['H'] },
  thresholds: { filling: 0.7, emptying: 0.5 },
};

/** The server's planner; `stepByStep` hides its queue rule, so every commit with starts takes the transaction. */
function planner(stepByStep: boolean): EventPlanner {
  const real = createEventPlanner(new Map([['q', queueSettings]]), 'test:1');
  return stepByStep ? { forAction: real.forAction, forQueueSize: real.forQueueSize } : real;
}

const batch = (fields: object = {}) => ({ now: Date.now(), node: NODE, enqueues: [], settlements: [], reports: [], progress: [], ...fields });
const finished = (r: ActionRecord) => ({ id: r.id, running: r, status: 'Finished' as const, endedAt: Date.now() });

/** Fill the queue to MAX, then drain it in claims of `per`, each batch's starts and settlements committed together. */
async function drain(store: PostgresStore, per: number): Promise<void> {
  await store.commit(batch({ enqueues: Array.from({ length: MAX }, () => ({ ...newAction('Q', { maxQueueSize: MAX }) })) }));
  for (;;) {
    const claimed = await store.claim('Q', per, NODE, Date.now());
    if (claimed.length === 0) return;
    await store.commit(batch({ settlements: claimed.map(finished) }));
  }
}

async function outcome(store: PostgresStore) {
  const queue = (await store.pool.query<{ size: number; last_event: string }>(`SELECT size, last_event FROM queues WHERE name = 'Q'`)).rows[0];
  const types = (await store.pool.query<{ type: string; document: string }>(`SELECT type, document FROM events ORDER BY seq`)).rows;
  const statuses = (await store.pool.query<{ status: string; attempts: number; n: number }>(`SELECT status, attempts, count(*)::int AS n FROM actions GROUP BY 1, 2`)).rows;
  const queueEvents = types.filter((t) => t.type === 'OnQueueEvent').map((t) => /<queueEventType>(\w+)<\/queueEventType>|QueueEvent>(\w+)</.exec(t.document)?.slice(1).find(Boolean) ?? t.document);
  return { queue, statuses, counts: countBy(types.map((t) => t.type)), queueEvents };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

for (const per of [1, 3, MAX]) {
  test(`draining a full queue in claims of ${per}: one statement and the step-by-step transaction store the same`, { skip }, async () => {
    const fast = await openPostgresStore({ connectionString: await freshDatabase(), planner: planner(false) });
    const slow = await openPostgresStore({ connectionString: await freshDatabase(), planner: planner(true) });
    try {
      await drain(fast, per);
      await drain(slow, per);
      assert.ok(fast.commitsMade.oneStatement > 0, 'the fast store committed in one statement');
      assert.equal(slow.commitsMade.oneStatement, 0, 'the other never did (no queue rule)');
      const [a, b] = [await outcome(fast), await outcome(slow)];
      assert.deepEqual(a, b);
      assert.deepEqual(a.queue, { size: 0, last_event: 'QueueEmpty' });
      assert.deepEqual(a.statuses, [{ status: 'Finished', attempts: 1, n: MAX }]);
      assert.equal(a.counts['OnStart'], MAX);
      assert.equal(a.counts['OnFinish'], MAX);
      assert.ok(a.queueEvents.includes('QueueEmptying') && a.queueEvents.at(-1) === 'QueueEmpty', `queue events: ${a.queueEvents.join(', ')}`);
    } finally {
      await fast.close();
      await slow.close();
    }
  });
}

test("a queue the planner must judge (a start would fire QueueFilling) is committed step by step, with the planner's event", { skip }, async () => {
  const store = await openPostgresStore({ connectionString: await freshDatabase(), planner: planner(false) });
  try {
    await store.commit(batch({ enqueues: Array.from({ length: MAX }, () => newAction('Q', { maxQueueSize: MAX })) }));
    // As after a config change: a big queue whose last event says it was empty.
    await store.pool.query(`UPDATE queues SET last_event = 'QueueEmpty' WHERE name = 'Q'`);
    const before = { ...store.commitsMade };
    const [r] = await store.claim('Q', 1, NODE, Date.now());
    await store.commit(batch({ settlements: [finished(r!)] }));
    assert.equal(store.commitsMade.transaction, before.transaction + 1, 'the step-by-step transaction');
    const last = (await store.pool.query<{ size: number; last_event: string }>(`SELECT size, last_event FROM queues WHERE name = 'Q'`)).rows[0];
    assert.deepEqual(last, { size: MAX - 1, last_event: 'QueueFilling' });
    const { rows } = await store.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'OnQueueEvent' AND document LIKE '%QueueFilling%'`);
    assert.ok(rows[0]!.n >= 2, 'QueueFilling stored on the way up and again for this start');
  } finally {
    await store.close();
  }
});

test('a start refused by fencing (the action was cancelled after its reservation) is lost: no OnStart, its run is told to stop', { skip }, async () => {
  const url = await freshDatabase();
  // The start is held back until this test commits: a listener takes the request for a commit, and the store's own fallback waits a minute.
  const store = await openPostgresStore({ connectionString: url, planner: planner(false), writeBehindFallbackMs: 60_000 });
  const other = await openPostgresStore({ connectionString: url, planner: planner(false) });
  const stops: string[] = [];
  store.subscribe({ writesBehind: () => {}, actionControl: (token, change) => void (change === 'stop' && stops.push(token)) });
  try {
    await store.commit(batch({ enqueues: [newAction('Q', { maxQueueSize: MAX })] }));
    const [r] = await store.claim('Q', 1, NODE, Date.now());
    assert.ok(r);
    assert.equal((await other.cancel(r.token, Date.now()))?.status, 'Cancelled', 'another node cancels the waiting action');
    const result = await store.commit(batch({ settlements: [finished(r)] }));
    assert.equal(result.settled[0], undefined, 'not settled');
    assert.deepEqual(stops, [r.token]);
    const { rows } = await store.pool.query<{ type: string }>(`SELECT type FROM events WHERE token = $1`, [r.token]);
    assert.deepEqual(rows, [], 'no OnStart, no OnFinish');
    assert.equal((await store.getAction(r.token))?.status, 'Cancelled');
  } finally {
    await store.close();
    await other.close();
  }
});

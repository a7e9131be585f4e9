/**
 * The Store conformance suite (STYLE.md lesson 3): what every backend must do, written against the
 * `Store` interface only (src/store/store.ts). A backend runs it by passing a factory that opens a
 * fresh, empty store per test:
 *
 *   describeStoreConformance('SqliteStore', async ({ planner }) => new SqliteStore({ file, durability: 'process', planner }));
 *
 * Times are synthetic epoch ms (the store takes `now` from its callers), so nothing here waits.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ActionRecord } from '../../src/queue/record.js';
import { isDuplicate, type CommitBatch, type CommitResult, type EnqueueOutcome, type EventPlanner, type EventRow, type NewAction, type NewEvent, type QueueEventType, type Settlement, type Store } from '../../src/store/store.js';
import type { EventType } from '../../src/events/handler.js';

export interface StoreFactoryOptions {
  /** The planner the store must call inside each status-change transaction. */
  readonly planner: EventPlanner;
}

/** Opens a new, empty store (its own database or schema) for one test. */
export type StoreFactory = (options: StoreFactoryOptions) => Promise<Store>;

const NODE = 'node-a';
const T0 = 1_700_000_000_000;

/** A planner that turns every action status change into one event for handler `H`, and can be told to fail. */
export class TestPlanner implements EventPlanner {
  /** Throw from forAction for this event type (to check the whole batch rolls back). */
  failOn: EventType | undefined;
  /** Fire `QueueFull` when a queue's size reaches this (and `QueueEmpty` at 0 afterwards). */
  fullAt = Infinity;
  private n = 0;

  forAction(type: Exclude<EventType, 'OnQueueEvent'>, record: ActionRecord, now: number): NewEvent[] {
    if (type === this.failOn) throw new Error(`planner refused ${type}`);
    return [this.event(type, record.queue, now, record.token, `<status>${record.status}</status>`)];
  }

  forQueueSize(queue: string, size: number, last: QueueEventType, now: number): { type: QueueEventType; events: NewEvent[] } | undefined {
    if (this.failOn === 'OnQueueEvent' && size >= this.fullAt) throw new Error('planner refused OnQueueEvent');
    if (size >= this.fullAt && last !== 'QueueFull') return { type: 'QueueFull', events: [this.event('OnQueueEvent', queue, now, undefined, '<queueEventType>QueueFull</queueEventType>')] };
    if (size === 0 && last === 'QueueFull') return { type: 'QueueEmpty', events: [this.event('OnQueueEvent', queue, now, undefined, '<queueEventType>QueueEmpty</queueEventType>')] };
    return undefined;
  }

  private event(type: EventType, queue: string, now: number, token: string | undefined, body: string): NewEvent {
    return { eventId: `ev-${++this.n}-${randomBytes(4).toString('hex')}`, type, handler: 'H', queue, ...(token ? { token } : {}), document: `<event><type>${type}</type>${body}</event>`, request: '{}', createdAt: now };
  }
}

let counter = 0;
export function newAction(queue: string, fields: { priority?: number; maxQueueSize?: number; label?: string; queuedAt?: number; key?: string } = {}): NewAction {
  counter++;
  return {
    token: `tok-${queue}-${counter}-${randomBytes(6).toString('hex')}`,
    queue,
    priority: fields.priority ?? 0,
    params: [['Label', fields.label ?? String(counter)], ['Other', 'x y']],
    queuedAt: fields.queuedAt ?? T0 + counter,
    maxQueueSize: fields.maxQueueSize ?? 10_000,
    ...(fields.key !== undefined ? { idempotencyKey: fields.key } : {}),
  };
}

function batch(fields: Partial<CommitBatch>): CommitBatch {
  return { now: T0 + 1_000_000, node: NODE, enqueues: [], settlements: [], reports: [], progress: [], ...fields };
}

async function enqueueOutcomes(store: Store, actions: NewAction[]): Promise<EnqueueOutcome[]> {
  return [...(await store.commit(batch({ enqueues: actions }))).enqueued];
}

/** Enqueues without idempotency keys: a record or 'full' each. */
async function enqueue(store: Store, actions: NewAction[]): Promise<(ActionRecord | 'full')[]> {
  return (await enqueueOutcomes(store, actions)).map((r) => {
    assert.ok(!isDuplicate(r), 'no idempotency key, no duplicate');
    return r;
  });
}

/** The token an enqueue outcome answers: its own, or its key holder's, with the duplicate mark. */
const answered = (r: EnqueueOutcome | undefined) => (r === undefined || r === 'full' ? r : isDuplicate(r) ? { token: r.duplicateOf.token, duplicate: true } : { token: r.token, duplicate: false });

async function enqueueOk(store: Store, actions: NewAction[]): Promise<ActionRecord[]> {
  const records = await enqueue(store, actions);
  return records.map((r) => {
    assert.notEqual(r, 'full');
    return r as ActionRecord;
  });
}

async function claim(store: Store, queue: string, max: number, now = T0 + 2_000_000): Promise<ActionRecord[]> {
  return store.claim(queue, max, NODE, now);
}

/** The pending events of handler `H`, read as its deliverer would: after the next commit, which writes any starts a store holds behind. */
async function pendingOfH(store: Store): Promise<EventRow[]> {
  await store.commit(batch({}));
  const lease = await store.acquireDelivery('H', NODE, T0);
  assert.ok(lease, 'the delivery lease of H');
  return store.claimDeliveries(lease, 0, 100);
}

function settlement(running: ActionRecord, status: Settlement['status'], endedAt: number, extra: { error?: string } = {}): Settlement {
  return { id: running.id, running, status, endedAt, result: [{ name: 'answer', text: '42' }], ...extra };
}

async function settle(store: Store, s: Settlement): Promise<CommitResult['settled'][number]> {
  return (await store.commit(batch({ settlements: [s] }))).settled[0];
}

const labels = (records: readonly ActionRecord[]) => records.map((r) => r.params.find(([n]) => n === 'Label')?.[1]);
const statusOf = async (store: Store, token: string) => (await store.getAction(token))?.status;

export function describeStoreConformance(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    let open: Store[] = [];
    const planner = () => new TestPlanner();
    async function fresh(p: TestPlanner = planner()): Promise<Store> {
      const store = await factory({ planner: p });
      open.push(store);
      return store;
    }
    afterEach(async () => {
      for (const s of open) await s.close();
      open = [];
    });

    test('enqueue stores Queued records that read back with their parameters', async () => {
      const store = await fresh();
      const a = newAction('Q', { priority: 4 });
      const [record] = await enqueueOk(store, [a]);
      assert.equal(record!.status, 'Queued');
      assert.equal(record!.attempts, 0);
      assert.equal(record!.token, a.token);
      const read = await store.getAction(a.token);
      assert.ok(read);
      assert.equal(read.id, record!.id);
      assert.equal(read.queue, 'Q');
      assert.equal(read.priority, 4);
      assert.equal(read.queuedAt, a.queuedAt);
      assert.deepEqual(read.params, a.params);
      assert.equal(read.startedAt, undefined);
      assert.deepEqual(read.reports, []);
      assert.equal(await store.getAction('no-such-token'), undefined);
    });

    test('claim takes higher priority first, then arrival order, and only from its own queue', async () => {
      const store = await fresh();
      await enqueueOk(store, [
        newAction('Q', { label: 'a' }),
        newAction('Q', { label: 'b', priority: 5 }),
        newAction('Other', { label: 'other', priority: 99 }),
        newAction('Q', { label: 'c' }),
        newAction('Q', { label: 'd', priority: 5 }),
        newAction('Q', { label: 'e', priority: -1 }),
      ]);
      const first = await claim(store, 'Q', 1);
      assert.deepEqual(labels(first), ['b']);
      const rest = await claim(store, 'Q', 10, T0 + 3_000_000);
      assert.deepEqual(labels(rest), ['d', 'a', 'c', 'e']);
      for (const r of [...first, ...rest]) {
        assert.equal(r.status, 'Processing');
        assert.equal(r.attempts, 1);
        assert.equal(r.queue, 'Q');
        assert.equal((await store.getAction(r.token))!.status, 'Processing');
      }
      assert.equal(rest[0]!.startedAt, T0 + 3_000_000);
      assert.deepEqual(await claim(store, 'Q', 5), [], 'nothing left to claim');
      assert.deepEqual(labels(await claim(store, 'Other', 5)), ['other']);
    });

    test('claims are atomic: no action is claimed twice across many concurrent claim batches', async () => {
      const store = await fresh();
      const total = 300;
      for (let i = 0; i < total; i += 100) await enqueueOk(store, Array.from({ length: 100 }, () => newAction('Q')));
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => claim(store, 'Q', 7, T0 + 2_000_000 + i)));
      const ids = results.flat().map((r) => r.id);
      assert.equal(ids.length, total, 'every action claimed');
      assert.equal(new Set(ids).size, total, 'none twice');
      assert.deepEqual(await claim(store, 'Q', 10), []);
      const counts = await store.queueCounts('Q');
      assert.equal(counts.processing, total);
      assert.equal(counts.queued, 0);
    });

    test('a full queue refuses enqueues (in one batch and across batches) and stores nothing of them; running actions do not count', async () => {
      const store = await fresh();
      const full = (n?: string) => newAction('Q', { maxQueueSize: 3, ...(n ? { label: n } : {}) });
      const results = await enqueue(store, [full('1'), full('2'), full('3'), full('4'), full('5')]);
      assert.deepEqual(results.map((r) => (r === 'full' ? 'full' : r.status)), ['Queued', 'Queued', 'Queued', 'full', 'full']);
      const refused = full('refused');
      assert.deepEqual(await enqueue(store, [refused]), ['full']);
      assert.equal(await store.getAction(refused.token), undefined, 'nothing half-stored');
      assert.equal((await store.listActions({ queue: 'Q', sortBy: 'queue-time', descending: false })).length, 3);
      assert.equal((await enqueue(store, [newAction('Other', { maxQueueSize: 3 })]))[0] !== 'full', true, 'other queues have their own size');
      await claim(store, 'Q', 1);
      assert.notEqual((await enqueue(store, [full('after claim')]))[0], 'full', 'a running action left the queue');
      assert.deepEqual(await enqueue(store, [full()]), ['full']);
      const queued = await store.listActions({ queue: 'Q', statuses: ['Queued'], sortBy: 'queue-time', descending: false });
      await store.cancel(queued[0]!.token, T0 + 5);
      assert.notEqual((await enqueue(store, [full('after cancel')]))[0], 'full', 'a cancelled action left the queue');
    });

    test('an idempotency key answers the action that holds it and stores nothing, in a later batch and within one batch', async () => {
      const store = await fresh();
      const first = newAction('Q', { key: 'k-1', label: 'first' });
      const again = newAction('Q', { key: 'k-1', label: 'again' });
      const other = newAction('Q', { key: 'k-2' });
      const [a, b, c] = await enqueueOutcomes(store, [first, again, other]);
      assert.deepEqual(answered(a), { token: first.token, duplicate: false });
      assert.deepEqual(answered(b), { token: first.token, duplicate: true }, 'a duplicate inside the batch answers the first');
      assert.deepEqual(answered(c), { token: other.token, duplicate: false });
      assert.ok(b !== 'full' && isDuplicate(b!) && b.duplicateOf.id === (a as ActionRecord).id, 'with the stored id');
      const later = newAction('Q', { key: 'k-1', label: 'later' });
      const [d] = await enqueueOutcomes(store, [later]);
      assert.deepEqual(answered(d), { token: first.token, duplicate: true }, 'a duplicate of a stored row answers the first');
      assert.ok(d !== 'full' && isDuplicate(d!) && labels([d.duplicateOf])[0] === 'first', 'the stored record, with its parameters');
      for (const t of [again.token, later.token]) assert.equal(await store.getAction(t), undefined, 'nothing stored for a duplicate');
      const all = await store.listActions({ queue: 'Q', sortBy: 'queue-time', descending: false });
      assert.deepEqual(all.map((r) => r.token), [first.token, other.token]);
      assert.equal((await store.queueCounts('Q')).queued, 2, 'duplicates do not count toward the queue size');
      assert.equal((await pendingOfH(store)).length, 0, 'no event for enqueues or duplicates');
    });

    test('idempotency keys are per queue: the same key in another queue is another action', async () => {
      const store = await fresh();
      const [q, other] = await enqueueOutcomes(store, [newAction('Q', { key: 'same' }), newAction('Other', { key: 'same' })]);
      const [q2, other2] = await enqueueOutcomes(store, [newAction('Q', { key: 'same' }), newAction('Other', { key: 'same' })]);
      const [qToken, otherToken] = [q, other].map((r) => (r && r !== 'full' && !isDuplicate(r) ? r.token : assert.fail('both stored')));
      assert.notEqual(qToken, otherToken);
      assert.deepEqual(answered(q2), { token: qToken, duplicate: true });
      assert.deepEqual(answered(other2), { token: otherToken, duplicate: true });
    });

    test('a held key is answered even when the queue is full; a key refused as full is not held', async () => {
      const store = await fresh();
      const [held] = await enqueueOk(store, [newAction('Q', { maxQueueSize: 1, key: 'held' })]);
      const [dup, refused] = await enqueueOutcomes(store, [newAction('Q', { maxQueueSize: 1, key: 'held' }), newAction('Q', { maxQueueSize: 1, key: 'new' })]);
      assert.deepEqual(answered(dup), { token: held!.token, duplicate: true });
      assert.equal(refused, 'full');
      await claim(store, 'Q', 1);
      const retried = newAction('Q', { maxQueueSize: 1, key: 'new' });
      assert.deepEqual(answered((await enqueueOutcomes(store, [retried]))[0]), { token: retried.token, duplicate: false }, 'the refused key was free');
    });

    test('a key is held whatever its action became (running, finished, cancelled) until the purge deletes the action', async () => {
      const store = await fresh();
      const [runs, cancelled] = await enqueueOk(store, [newAction('Q', { key: 'runs' }), newAction('Q', { key: 'cancelled' })]);
      await store.cancel(cancelled!.token, T0 + 10);
      const [running] = await claim(store, 'Q', 1);
      assert.equal(running?.token, runs!.token);
      const [r1, c1] = await enqueueOutcomes(store, [newAction('Q', { key: 'runs' }), newAction('Q', { key: 'cancelled' })]);
      assert.ok(r1 !== 'full' && isDuplicate(r1!) && r1.duplicateOf.status === 'Processing', 'answers the running action, as it is now');
      assert.ok(c1 !== 'full' && isDuplicate(c1!) && c1.duplicateOf.status === 'Cancelled');
      await settle(store, settlement(running!, 'Finished', T0 + 1000));
      const [r2] = await enqueueOutcomes(store, [newAction('Q', { key: 'runs' })]);
      assert.ok(r2 !== 'full' && isDuplicate(r2!) && r2.duplicateOf.status === 'Finished' && r2.duplicateOf.token === runs!.token);
      assert.equal(await store.purgeFinished(['Q'], T0 + 5000), 2, 'FinishedActionRetention deletes the actions, keys and all');
      const fresh1 = newAction('Q', { key: 'runs' });
      assert.deepEqual(answered((await enqueueOutcomes(store, [fresh1]))[0]), { token: fresh1.token, duplicate: false }, 'the key is free again');
    });

    test('settle applies only to a running action: Queued or already settled ones are left alone', async () => {
      const store = await fresh();
      const [waiting, running, failing, stopping] = await enqueueOk(store, [newAction('Q'), newAction('Q'), newAction('Q'), newAction('Q')]);
      assert.equal(await settle(store, settlement(waiting!, 'Finished', T0 + 9)), undefined);
      assert.equal(await statusOf(store, waiting!.token), 'Queued');
      const claimed = await claim(store, 'Q', 4);
      const byToken = new Map(claimed.map((r) => [r.token, r]));
      const done = await settle(store, settlement(byToken.get(waiting!.token)!, 'Finished', T0 + 10));
      assert.equal(done?.status, 'Finished');
      const read = await store.getAction(waiting!.token);
      assert.equal(read!.status, 'Finished');
      assert.equal(read!.endedAt, T0 + 10);
      assert.deepEqual(read!.result, [{ name: 'answer', text: '42' }]);
      assert.equal(read!.attempts, 1);
      assert.equal(await settle(store, settlement(byToken.get(waiting!.token)!, 'Error', T0 + 11)), undefined, 'not twice');
      assert.equal(await statusOf(store, waiting!.token), 'Finished');
      const failed = await settle(store, settlement(byToken.get(failing!.token)!, 'Error', T0 + 12, { error: 'boom' }));
      assert.equal(failed?.status, 'Error');
      assert.equal((await store.getAction(failing!.token))!.error, 'boom');
      assert.equal((await settle(store, settlement(byToken.get(stopping!.token)!, 'Stopped', T0 + 13)))?.status, 'Stopped');
      // A running action that was paused still settles.
      assert.equal((await store.pauseAction(running!.token))?.status, 'Paused');
      assert.equal((await settle(store, settlement(byToken.get(running!.token)!, 'Finished', T0 + 14)))?.status, 'Finished');
    });

    test('one commit settles and enqueues together; concurrent claims of one queue share its actions', async () => {
      const store = await fresh();
      const [first] = await enqueueOk(store, [newAction('Q', { maxQueueSize: 1 })]);
      const [running] = await claim(store, 'Q', 1);
      const next = newAction('Q', { maxQueueSize: 1 });
      const result = await store.commit(batch({ settlements: [settlement(running!, 'Finished', T0 + 20)], enqueues: [next] }));
      assert.equal(result.settled[0]?.token, first!.token);
      assert.notEqual(result.enqueued[0], 'full');
      const [a, b] = await Promise.all([claim(store, 'Q', 1), claim(store, 'Q', 1)]);
      assert.deepEqual([...a!, ...b!].map((r) => r.token), [next.token], 'one of the two claims gets it, the other nothing');
    });

    test('a paused queue hands out nothing until resumed', async () => {
      const store = await fresh();
      const [a] = await enqueueOk(store, [newAction('Q')]);
      await store.setQueuePaused('Q', true);
      assert.deepEqual(await claim(store, 'Q', 5), []);
      await store.setQueuePaused('Q', false);
      assert.deepEqual((await claim(store, 'Q', 5)).map((r) => r.token), [a!.token]);
    });

    test('cancel applies to waiting actions only', async () => {
      const store = await fresh();
      const [a, b, c] = await enqueueOk(store, [newAction('Q'), newAction('Q'), newAction('Q')]);
      const cancelled = await store.cancel(a!.token, T0 + 30);
      assert.equal(cancelled?.status, 'Cancelled');
      assert.equal(cancelled?.endedAt, T0 + 30);
      assert.equal(await store.cancel(a!.token, T0 + 31), undefined, 'not twice');
      const [running] = await claim(store, 'Q', 1);
      assert.equal(running!.token, b!.token);
      assert.equal(await store.cancel(b!.token, T0 + 32), undefined, 'not a running action');
      assert.equal(await statusOf(store, b!.token), 'Processing');
      await store.pauseAction(c!.token);
      assert.equal((await store.cancel(c!.token, T0 + 33))?.status, 'Cancelled', 'a paused, never started action can be cancelled');
      assert.equal(await store.cancel('no-such-token', T0), undefined);
    });

    test('changePriority applies to waiting actions and changes the claim order', async () => {
      const store = await fresh();
      const [a, b] = await enqueueOk(store, [newAction('Q', { label: 'a' }), newAction('Q', { label: 'b' })]);
      assert.equal((await store.changePriority(b!.token, 10))?.priority, 10);
      assert.equal((await store.getAction(b!.token))!.priority, 10);
      assert.deepEqual(labels(await claim(store, 'Q', 1)), ['b']);
      assert.equal(await store.changePriority(b!.token, 1), undefined, 'not once running');
      assert.equal((await store.changePriority(a!.token, -5))?.priority, -5);
    });

    test('pause and resume: a paused waiting action is not claimed; a running one keeps its start', async () => {
      const store = await fresh();
      const [a, b] = await enqueueOk(store, [newAction('Q', { label: 'a' }), newAction('Q', { label: 'b' })]);
      const paused = await store.pauseAction(a!.token);
      assert.equal(paused?.status, 'Paused');
      assert.equal(paused?.startedAt, undefined);
      assert.equal(await store.pauseAction(a!.token), undefined, 'already paused');
      assert.equal(await store.resumeAction(b!.token), undefined, 'not paused');
      assert.deepEqual(labels(await claim(store, 'Q', 5)), ['b'], 'the paused one is passed over');
      assert.equal((await store.resumeAction(a!.token))?.status, 'Queued');
      const [again] = await claim(store, 'Q', 5);
      assert.equal(again?.token, a!.token);
      const pausedRunning = await store.pauseAction(a!.token);
      assert.equal(pausedRunning?.status, 'Paused');
      assert.equal(pausedRunning?.startedAt, again!.startedAt);
      assert.equal((await store.resumeAction(a!.token))?.status, 'Processing');
      await settle(store, settlement(again!, 'Finished', T0 + 40));
      assert.equal(await store.pauseAction(a!.token), undefined, 'not a finished action');
    });

    test('queue pause flag is stored per queue', async () => {
      const store = await fresh();
      assert.equal(await store.isQueuePaused('Q'), false);
      await store.setQueuePaused('Q', true);
      assert.equal(await store.isQueuePaused('Q'), true);
      assert.equal(await store.isQueuePaused('Other'), false);
      assert.equal((await store.queueCounts('Q')).paused, true);
      await store.setQueuePaused('Q', false);
      assert.equal(await store.isQueuePaused('Q'), false);
    });

    test('requestStop applies to running actions only', async () => {
      const store = await fresh();
      const [a, b] = await enqueueOk(store, [newAction('Q'), newAction('Q')]);
      const [running] = await claim(store, 'Q', 1);
      assert.equal(running!.token, a!.token);
      assert.equal(await store.requestStop(a!.token), true);
      assert.equal(await store.requestStop(b!.token), false, 'not a queued action');
      await settle(store, settlement(running!, 'Stopped', T0 + 50));
      assert.equal(await store.requestStop(a!.token), false, 'not a finished action');
    });

    test('duplicate copies a waiting or running action; not a finished one; not into a full queue', async () => {
      const store = await fresh();
      const [a, b] = await enqueueOk(store, [newAction('Q', { priority: 3, maxQueueSize: 3 }), newAction('Q', { maxQueueSize: 3 })]);
      const copy = await store.duplicate(a!.token, newAction('Q', { maxQueueSize: 3 }));
      assert.ok(copy && copy !== 'full');
      assert.notEqual(copy.token, a!.token);
      assert.equal(copy.status, 'Queued');
      assert.equal(copy.priority, 3, 'the source priority');
      assert.deepEqual(copy.params, a!.params, 'the source parameters');
      assert.equal(await store.duplicate(b!.token, newAction('Q', { maxQueueSize: 3 })), 'full');
      const [running] = await claim(store, 'Q', 1);
      assert.equal(running!.token, a!.token);
      const runningCopy = await store.duplicate(a!.token, newAction('Q', { maxQueueSize: 3 }));
      assert.ok(runningCopy && runningCopy !== 'full', 'a running action can be duplicated');
      await settle(store, settlement(running!, 'Finished', T0 + 60));
      assert.equal(await store.duplicate(a!.token, newAction('Q', { maxQueueSize: 30 })), undefined);
      assert.equal(await store.duplicate('no-such-token', newAction('Q')), undefined);
    });

    test('recoverExpired at start re-queues running and running-paused actions; their next claim counts attempt 2', async () => {
      const store = await fresh();
      await enqueueOk(store, [newAction('Q'), newAction('Q'), newAction('Q'), newAction('Q'), newAction('Q')]);
      const [done, r1, r2] = await claim(store, 'Q', 3);
      await settle(store, settlement(done!, 'Finished', T0 + 70));
      await store.pauseAction(r2!.token);
      assert.equal(await store.recoverExpired(NODE, T0 + 80, { starting: true }), 2);
      for (const r of [r1!, r2!]) {
        const read = await store.getAction(r.token);
        assert.equal(read!.status, 'Queued');
        assert.equal(read!.startedAt, undefined);
      }
      assert.equal(await statusOf(store, done!.token), 'Finished', 'final actions stay as they are');
      const counts = await store.queueCounts('Q');
      assert.equal(counts.queued, 4);
      assert.equal(counts.processing, 0);
      const again = await claim(store, 'Q', 10);
      assert.deepEqual(again.map((r) => r.token), [r1!.token, r2!.token, ...again.slice(2).map((r) => r.token)], 'recovered actions keep their place');
      assert.deepEqual(again.map((r) => r.attempts), [2, 2, 1, 1]);
      assert.equal(await store.recoverExpired(NODE, T0 + 90, { starting: true }), 4);
    });

    test('recovered actions count toward the queue size', async () => {
      const store = await fresh();
      await enqueueOk(store, [newAction('Q', { maxQueueSize: 2 }), newAction('Q', { maxQueueSize: 2 })]);
      await claim(store, 'Q', 2);
      await enqueueOk(store, [newAction('Q', { maxQueueSize: 2 })]);
      assert.equal(await store.recoverExpired(NODE, T0 + 100, { starting: true }), 2);
      assert.deepEqual(await enqueue(store, [newAction('Q', { maxQueueSize: 3 })]), ['full'], 'three waiting now');
    });

    test('purgeFinished deletes final actions of the listed queues that ended before the cut-off', async () => {
      const store = await fresh();
      const actions = await enqueueOk(store, Array.from({ length: 6 }, () => newAction('Q')));
      const [other] = await enqueueOk(store, [newAction('Other')]);
      const running = await claim(store, 'Q', 4);
      await settle(store, settlement(running[0]!, 'Finished', T0 + 1000));
      await settle(store, settlement(running[1]!, 'Error', T0 + 1000, { error: 'x' }));
      await settle(store, settlement(running[2]!, 'Finished', T0 + 9000));
      await store.cancel(actions[5]!.token, T0 + 1000);
      const [otherRunning] = await claim(store, 'Other', 1);
      await settle(store, settlement(otherRunning!, 'Finished', T0 + 1000));
      assert.equal(await store.purgeFinished(['Q'], T0 + 5000), 3);
      assert.equal(await store.getAction(running[0]!.token), undefined);
      assert.equal(await store.getAction(running[1]!.token), undefined);
      assert.equal(await store.getAction(actions[5]!.token), undefined, 'cancelled counts as final');
      assert.equal(await statusOf(store, running[2]!.token), 'Finished', 'ended after the cut-off');
      assert.equal(await statusOf(store, running[3]!.token), 'Processing');
      assert.equal(await statusOf(store, actions[4]!.token), 'Queued');
      assert.equal(await statusOf(store, other!.token), 'Finished', 'a queue not listed is left alone');
      assert.equal(await store.purgeFinished(['Q'], T0 + 5000), 0);
    });

    test('queueCounts counts each status, paused waiting and paused running alike', async () => {
      const store = await fresh();
      const a = await enqueueOk(store, Array.from({ length: 9 }, () => newAction('Q')));
      const running = await claim(store, 'Q', 5);
      await settle(store, settlement(running[0]!, 'Finished', T0 + 1));
      await settle(store, settlement(running[1]!, 'Error', T0 + 1));
      await settle(store, settlement(running[2]!, 'Stopped', T0 + 1));
      await store.pauseAction(running[3]!.token);
      await store.cancel(a[5]!.token, T0 + 1);
      await store.pauseAction(a[6]!.token);
      assert.deepEqual(await store.queueCounts('Q'), {
        paused: false, queued: 2, processing: 1, pausedActions: 2, finished: 1, error: 1, cancelled: 1, stopped: 1,
      });
      assert.deepEqual(await store.queueCounts('Empty'), {
        paused: false, queued: 0, processing: 0, pausedActions: 0, finished: 0, error: 0, cancelled: 0, stopped: 0,
      });
    });

    test('listActions filters by status, priority and times, sorts, and limits', async () => {
      const store = await fresh();
      const a = await enqueueOk(store, [
        newAction('Q', { priority: 1, queuedAt: T0 + 100 }),
        newAction('Q', { priority: 5, queuedAt: T0 + 200 }),
        newAction('Q', { priority: 3, queuedAt: T0 + 300 }),
      ]);
      const [r] = await claim(store, 'Q', 1);
      await settle(store, settlement(r!, 'Finished', T0 + 400));
      const list = async (f: Partial<Parameters<Store['listActions']>[0]>) =>
        (await store.listActions({ queue: 'Q', sortBy: 'queue-time', descending: false, ...f })).map((x) => x.token);
      const [t1, t2, t3] = a.map((x) => x.token);
      assert.deepEqual(await list({}), [t1, t2, t3]);
      assert.deepEqual(await list({ descending: true }), [t3, t2, t1]);
      assert.deepEqual(await list({ statuses: ['Finished'] }), [t2]);
      assert.deepEqual(await list({ minPriority: 3 }), [t2, t3]);
      assert.deepEqual(await list({ maxPriority: 3 }), [t1, t3]);
      assert.deepEqual(await list({ queuedAfter: T0 + 150 }), [t2, t3]);
      assert.deepEqual(await list({ queuedBefore: T0 + 250 }), [t1, t2]);
      assert.deepEqual(await list({ finishedAfter: T0 + 350 }), [t2]);
      assert.deepEqual(await list({ finishedBefore: T0 + 350 }), []);
      assert.deepEqual(await list({ sortBy: 'priority', descending: true }), [t2, t3, t1]);
      assert.deepEqual(await list({ limit: 2 }), [t1, t2]);
      assert.deepEqual(await list({ token: t3 }), [t3]);
    });

    test('error reports and progress are stored with the action', async () => {
      const store = await fresh();
      await enqueueOk(store, [newAction('Q')]);
      const [r] = await claim(store, 'Q', 1);
      await store.commit(batch({ reports: [{ id: r!.id, time: T0 + 5, message: 'minor trouble' }], progress: [{ id: r!.id, progress: { fraction: 0.25, stage: 'one' } }] }));
      const read = await store.getAction(r!.token);
      assert.deepEqual(read!.reports, [{ time: T0 + 5, message: 'minor trouble' }]);
      assert.deepEqual(read!.progress, { fraction: 0.25, stage: 'one' });
    });

    test('events the planner returns are stored by the commit that made the change, in order', async () => {
      const p = planner();
      const store = await fresh(p);
      const [a] = await enqueueOk(store, [newAction('Q')]);
      const [r] = await claim(store, 'Q', 1);
      await store.commit(batch({ reports: [{ id: r!.id, time: T0 + 1, message: 'hm' }] }));
      await settle(store, settlement(r!, 'Finished', T0 + 2));
      const events = await store.listEvents({ descending: false, limit: 100, token: a!.token });
      assert.deepEqual(events.map((e) => e.type), ['OnStart', 'OnErrorReport', 'OnFinish']);
      assert.ok(events.every((e) => e.handler === 'H' && e.state === 'pending' && e.queue === 'Q'));
      assert.match(events[2]!.document, /<status>Finished<\/status>/);
      const pending = await pendingOfH(store);
      assert.deepEqual(pending.map((e) => e.eventId), events.map((e) => e.eventId));
    });

    test('delivery outcomes are stored: delivered, retried, failed; a failed event can be redelivered', async () => {
      const p = planner();
      const store = await fresh(p);
      await enqueueOk(store, [newAction('Q')]);
      const [r] = await claim(store, 'Q', 1);
      const [onStart] = await pendingOfH(store);
      const now = T0 + 2_000_000;
      await store.commit(batch({ now, settlements: [settlement(r!, 'Finished', now)] }));
      await store.recordOutcomes(NODE, [{ seq: onStart!.seq, handler: 'H', result: 'delivered' }]);
      let events = await store.listEvents({ descending: false, limit: 100, token: r!.token });
      assert.deepEqual(events.map((e) => [e.type, e.state]), [['OnStart', 'delivered'], ['OnFinish', 'pending']]);
      assert.ok(events[0]!.deliveredAt !== undefined);
      assert.deepEqual(events.map((e) => e.attempts), [1, 0], 'attempts counts every try, the successful one included');
      await store.recordOutcomes(NODE, [{ seq: events[1]!.seq, handler: 'H', result: 'retry', attempts: 1, nextAttemptAt: now + 10, error: 'busy' }]);
      const [retried] = await pendingOfH(store);
      assert.deepEqual([retried!.seq, retried!.attempts, retried!.nextAttemptAt, retried!.lastError], [events[1]!.seq, 1, now + 10, 'busy']);
      await store.recordOutcomes(NODE, [{ seq: events[1]!.seq, handler: 'H', result: 'failed', attempts: 4, error: 'gave up' }]);
      events = await store.listEvents({ descending: false, limit: 100, token: r!.token });
      assert.deepEqual([events[1]!.state, events[1]!.attempts, events[1]!.lastError], ['failed', 4, 'gave up']);
      assert.deepEqual(await pendingOfH(store), []);
      assert.deepEqual(await store.redeliver('H', events[1]!.eventId, now + 20), [events[1]!.seq]);
      assert.deepEqual((await pendingOfH(store)).map((e) => [e.seq, e.attempts]), [[events[1]!.seq, 0]]);
      // After a retry, the success is one more try: 1 failed + 1 delivered.
      await store.recordOutcomes(NODE, [{ seq: events[1]!.seq, handler: 'H', result: 'retry', attempts: 1, nextAttemptAt: now + 30, error: 'busy' }]);
      await store.recordOutcomes(NODE, [{ seq: events[1]!.seq, handler: 'H', result: 'delivered' }]);
      events = await store.listEvents({ descending: false, limit: 100, token: r!.token });
      assert.deepEqual([events[1]!.state, events[1]!.attempts], ['delivered', 2]);
    });

    test('listEventsCounted answers the listing and the counts together, as listEvents and eventCounts do', async () => {
      const store = await fresh(planner());
      await enqueueOk(store, [newAction('Q'), newAction('Q')]);
      await claim(store, 'Q', 2);
      const [first] = await pendingOfH(store);
      await store.recordOutcomes(NODE, [{ seq: first!.seq, handler: 'H', result: 'delivered' }]);
      const filter = { descending: false, limit: 100, handler: 'h' };
      const both = await store.listEventsCounted(filter);
      assert.deepEqual(both.events, await store.listEvents(filter));
      assert.deepEqual(both.counts, await store.eventCounts());
      assert.deepEqual(both.counts.map((c) => [c.handler, c.state, c.count]), [['H', 'delivered', 1], ['H', 'pending', 1]]);
    });

    test('the cursor of a delivery read passes no event: reads after a seq see every later one', async () => {
      const store = await fresh(planner());
      await enqueueOk(store, Array.from({ length: 20 }, () => newAction('Q')));
      const lease = (await store.acquireDelivery('H', NODE, T0))!;
      const seen: number[] = [];
      let cursor = 0;
      await Promise.all(Array.from({ length: 20 }, (_, i) => claim(store, 'Q', 1, T0 + 2_000_000 + i)));
      await store.commit(batch({})); // writes the starts a store holds behind, with their OnStart
      for (;;) {
        const rows = await store.claimDeliveries(lease, cursor, 7);
        if (rows.length === 0) break;
        seen.push(...rows.map((r) => r.seq));
        cursor = rows[rows.length - 1]!.seq;
      }
      assert.equal(seen.length, 20, 'every OnStart read once');
      assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'in seq order');
    });

    test('queue events from the planner are stored with the size change that caused them', async () => {
      const p = planner();
      p.fullAt = 2;
      const store = await fresh(p);
      await enqueueOk(store, [newAction('Q'), newAction('Q')]);
      const queueEvents = async () => (await store.listEvents({ descending: false, limit: 100, types: ['OnQueueEvent'] })).map((e) => /QueueFull|QueueEmpty/.exec(e.document)?.[0]);
      assert.deepEqual(await queueEvents(), ['QueueFull']);
      await claim(store, 'Q', 2);
      assert.deepEqual(await queueEvents(), ['QueueFull', 'QueueEmpty']);
    });

    test('when the planner fails, the whole batch rolls back: nothing enqueued, claimed or counted', async () => {
      const p = planner();
      const store = await fresh(p);
      const [waiting] = await enqueueOk(store, [newAction('Q', { maxQueueSize: 2 })]);
      p.failOn = 'OnQueueEvent';
      p.fullAt = 2;
      const extra = newAction('Q', { maxQueueSize: 2 });
      await assert.rejects(store.commit(batch({ enqueues: [extra] })));
      assert.equal(await store.getAction(extra.token), undefined, 'the enqueue of the failed batch is not stored');
      p.fullAt = Infinity;
      assert.equal(await statusOf(store, waiting!.token), 'Queued');
      assert.equal((await store.listEvents({ descending: false, limit: 100 })).length, 0, 'no event of the failed batch');
      p.failOn = undefined;
      // The queue size did not move: one waiting, room for exactly one more.
      const results = await enqueue(store, [newAction('Q', { maxQueueSize: 2 }), newAction('Q', { maxQueueSize: 2 })]);
      assert.deepEqual(results.map((r) => (r === 'full' ? 'full' : 'ok')), ['ok', 'full']);
      assert.equal((await claim(store, 'Q', 5)).length, 2);
      assert.equal((await store.listEvents({ descending: false, limit: 100, types: ['OnStart'] })).length, 2);
    });
  });
}

/**
 * EventInfo's counts and its list describe one moment (decisions.md "Events"): a delivery recorded
 * while EventInfo reads must show in both or in neither. The real SQLite store (on a file, so the
 * listing runs on its read thread) is reached through a barrier that records the delivery of the
 * one pending event right after the first read EventInfo makes, before it can make another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { eventInfoAction } from '../../src/actions/event-info.js';
import { AciParams } from '../../src/aci/params.js';
import type { XElement } from '../../src/common/xnode.js';
import type { CommitBatch, Store } from '../../src/store/store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/server.js';
import { newAction, TestPlanner } from '../store/store-conformance.js';

const NODE = 'n1';
const READS = new Set(['eventCounts', 'listEvents', 'listEventsCounted']);

const batch = (now: number, fields: Partial<CommitBatch> = {}): CommitBatch => ({ now, node: NODE, enqueues: [], settlements: [], reports: [], progress: [], ...fields });

/** `store`, except that `change` runs (once) as soon as the first of EventInfo's reads has answered. */
function changingAfterFirstRead(store: Store, change: () => Promise<void>): Store {
  let pending: (() => Promise<void>) | undefined = change;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = (value as (...a: unknown[]) => unknown).bind(target);
      if (!READS.has(String(prop))) return method;
      return async (...args: unknown[]) => {
        const answer = await method(...args);
        const run = pending;
        pending = undefined;
        await run?.();
        return answer;
      };
    },
  });
}

const child = (e: XElement, name: string): XElement => e.children!.find((c) => c.name === name)!;

test('EventInfo: a delivery recorded while it reads shows in both its counts and its list, or in neither', async (t) => {
  const store = new SqliteStore({ file: join(tempDir('tocsin-eventinfo-'), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
  t.after(() => store.close());
  const now = Date.now();
  await store.commit(batch(now, { enqueues: [newAction('Q')] }));
  await store.claim('Q', 1, NODE, now);
  await store.commit(batch(now)); // writes the start, and with it the OnStart for handler H
  const lease = (await store.acquireDelivery('H', NODE))!;
  const [onStart] = await store.claimDeliveries(lease, 0, 10);
  assert.ok(onStart, 'one pending event');

  const watched = changingAfterFirstRead(store, () => store.recordOutcomes(NODE, [{ seq: onStart.seq, handler: 'H', result: 'delivered' }]));
  const action = eventInfoAction({ store: watched, handlers: () => ['H'], rewind: () => undefined, clock: Date.now });
  const [counts, events] = await action.run({ action: 'EventInfo', params: new AciParams([['Handler', 'H']]), files: [], client: '127.0.0.1' });

  const listed = events!.children!.map((e) => child(e, 'state').text);
  const pendingCount = Number(child(counts!, 'pending').text);
  const deliveredCount = Number(child(counts!, 'delivered').text);
  assert.deepEqual(listed.length, 1);
  assert.deepEqual(
    { pending: pendingCount, delivered: deliveredCount },
    { pending: listed.filter((s) => s === 'pending').length, delivered: listed.filter((s) => s === 'delivered').length },
    `the counts (${pendingCount} pending, ${deliveredCount} delivered) describe the listed event (${listed.join()})`,
  );
  // The barrier did run: the store has the delivery now.
  assert.equal((await store.eventCounts()).find((c) => c.state === 'delivered')?.count, 1);
});

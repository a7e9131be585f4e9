/**
 * A single-node SQLite store with something of everything, made through SqliteStore's own API
 * (commit, claim, recordOutcomes, QueueInfo's changes), for the move-store tests: waiting,
 * running, paused (before and while running), finished, error, stopped and cancelled actions,
 * with results, reports and progress; pending (one retried), failed and delivered events,
 * a queue event, and a paused queue. Also what it holds, read back through the Store interface,
 * so the tests can compare the PostgreSQL side with it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { el } from '../../src/common/xnode.js';
import type { ActionRecord } from '../../src/queue/record.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { CommitBatch, EventRow, QueueCounts, Store } from '../../src/store/store.js';
import { newAction, TestPlanner } from './store-conformance.js';

const NODE = 'local';
export const QUEUES = ['Echo', 'Sleep'] as const;

export interface SourceStore {
  readonly file: string;
  /** Every action, in id order. */
  readonly actions: readonly ActionRecord[];
  /** Every event, in seq order. */
  readonly events: readonly EventRow[];
  readonly counts: Readonly<Record<string, QueueCounts>>;
  /** Tokens of the actions left running (Processing, and Paused while running). */
  readonly running: readonly string[];
  /** Waiting actions per queue (Queued, and Paused before they ran): the queue size. */
  readonly waiting: Readonly<Record<string, number>>;
}

const batch = (now: number, fields: Partial<CommitBatch>): CommitBatch => ({ now, node: NODE, enqueues: [], settlements: [], reports: [], progress: [], ...fields });

/** Make `dir/tocsin.db` with the mix described above and close it (as a stopped server leaves it). */
export async function makeSourceStore(dir: string, t0 = 1_700_000_000_000): Promise<SourceStore> {
  const file = join(dir, 'tocsin.db');
  const planner = new TestPlanner();
  planner.fullAt = 3; // Sleep fills past 3: one QueueFull event, with no token
  const store = new SqliteStore({ file, durability: 'process', planner });
  try {
    const priorities = [0, 5, 0, 1, 0, 0, 2, 0];
    const sleep = priorities.map((priority, i) => newAction('Sleep', { priority, queuedAt: t0 + i }));
    const echo = [newAction('Echo', { queuedAt: t0 + 10 }), newAction('Echo', { queuedAt: t0 + 11 })];
    await store.commit(batch(t0 + 20, { enqueues: [...sleep, ...echo] }));

    // Five start (best first); three end, one reports and progresses, one is paused while running.
    const started = await store.claim('Sleep', 5, NODE, t0 + 100);
    assert.equal(started.length, 5);
    const [finished, failed, stopped, running, pausedRunning] = started as [ActionRecord, ActionRecord, ActionRecord, ActionRecord, ActionRecord];
    await store.commit(
      batch(t0 + 200, {
        settlements: [
          { id: finished.id, running: finished, status: 'Finished', endedAt: t0 + 200, result: [el('slept_seconds', 1)] },
          { id: failed.id, running: failed, status: 'Error', endedAt: t0 + 201, error: 'boom' },
          { id: stopped.id, running: stopped, status: 'Stopped', endedAt: t0 + 202 },
        ],
        reports: [{ id: running.id, time: t0 + 150, message: 'minor trouble' }],
        progress: [{ id: running.id, progress: { fraction: 0.5, stage: 'half' } }],
      }),
    );
    assert.equal((await store.pauseAction(pausedRunning.token))?.status, 'Paused');

    // Of the three still waiting: one paused before it ran, one cancelled, one left Queued.
    const waiting = await store.listActions({ queue: 'Sleep', statuses: ['Queued'], sortBy: 'queue-time', descending: false });
    assert.equal(waiting.length, 3);
    assert.equal((await store.pauseAction(waiting[0]!.token))?.status, 'Paused');
    assert.equal((await store.cancel(waiting[1]!.token, t0 + 300))?.status, 'Cancelled');
    await store.setQueuePaused('Echo', true);

    // Deliveries: the first four delivered, the fifth failed, the sixth retried, the rest pending.
    const lease = await store.acquireDelivery('H', NODE);
    assert.ok(lease);
    const pending = await store.claimDeliveries(lease, 0, 1000);
    assert.ok(pending.length >= 8, `${pending.length} events`);
    await store.recordOutcomes(NODE, [
      ...pending.slice(0, 4).map((e) => ({ seq: e.seq, handler: 'H', result: 'delivered' as const })),
      { seq: pending[4]!.seq, handler: 'H', result: 'failed', attempts: 4, error: 'gave up' },
      { seq: pending[5]!.seq, handler: 'H', result: 'retry', attempts: 1, nextAttemptAt: t0 + 60_000, error: 'busy' },
    ]);
    return { file, ...(await snapshot(store)) };
  } finally {
    await store.close();
  }
}

/** What a store holds, read through the Store interface. */
export async function snapshot(store: Store): Promise<Omit<SourceStore, 'file'>> {
  const actions: ActionRecord[] = [];
  const counts: Record<string, QueueCounts> = {};
  const waiting: Record<string, number> = {};
  for (const queue of QUEUES) {
    actions.push(...(await store.listActions({ queue, sortBy: 'queue-time', descending: false })));
    counts[queue] = await store.queueCounts(queue);
  }
  actions.sort((a, b) => a.id - b.id);
  for (const a of actions) if (a.status === 'Queued' || (a.status === 'Paused' && a.startedAt === undefined)) waiting[a.queue] = (waiting[a.queue] ?? 0) + 1;
  const running = actions.filter((a) => a.status === 'Processing' || (a.status === 'Paused' && a.startedAt !== undefined)).map((a) => a.token);
  const events = await store.listEvents({ descending: false, limit: 100_000 });
  return { actions, events, counts, running, waiting };
}

/** An action record without its store-given id. */
export const withoutId = ({ id: _id, ...rest }: ActionRecord) => rest;
/** An event without its store-given seq. */
export const withoutSeq = ({ seq: _seq, ...rest }: EventRow) => rest;

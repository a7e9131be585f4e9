/**
 * How soon an idle node takes an action submitted on another node (issue 14: within 50 ms), through
 * the Store API on a fresh PostgreSQL database: node A commits one enqueue; node B, idle, hears of
 * it (LISTEN/NOTIFY, the `workQueued` its scheduler's idle slots wait for) and claims it. Measured
 * per action: A's commit begun (the submission) → B holds the action, so A's commit time is
 * included. `count` actions,
 * one at a time, with a random pause between them so that B is idle each time.
 */
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { ActionRecord } from '../../src/queue/record.js';
import { benchDatabase } from './pg-database.js';
import { latencies, type LatencySummary } from './stats.js';

const QUEUE = 'WakeUp';

export interface WakeUpScenario {
  readonly kind: 'wakeup';
  readonly count: number;
}

export interface WakeUpResult {
  readonly count: number;
  /** Submission on A (its commit begun) → claimed on B, ms. */
  readonly wake: LatencySummary;
  /** Actions B did not get by notification within a second (taken by polling instead, or never). */
  readonly missed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runWakeUp(s: WakeUpScenario): Promise<WakeUpResult> {
  const db = await benchDatabase();
  let a: PostgresStore | undefined;
  let b: PostgresStore | undefined;
  try {
    a = await openPostgresStore({ connectionString: db.url });
    b = await openPostgresStore({ connectionString: db.url });
    const nodeB = b;
    const got = new Map<string, number>();
    let waiting: ((record: ActionRecord) => void) | undefined;
    // B's idle slot: claims when told of work, as the scheduler's IdleSlots do.
    nodeB.subscribe({
      workQueued: (queue) => {
        if (queue !== QUEUE) return;
        void nodeB.claim(QUEUE, 1, 'node-b', Date.now()).then(([record]) => {
          if (!record) return;
          got.set(record.token, performance.now());
          waiting?.(record);
        });
      },
    });
    const samples: number[] = [];
    let missed = 0;
    for (let i = 0; i < s.count; i++) {
      await sleep(5 + Math.random() * 15);
      const token = `wake-${i}-${Date.now()}`;
      const taken = new Promise<ActionRecord | undefined>((resolve) => {
        waiting = resolve;
        setTimeout(() => resolve(undefined), 1_000).unref();
      });
      const submitted = performance.now();
      await a.commit({ now: Date.now(), node: 'node-a', enqueues: [{ token, queue: QUEUE, priority: 0, params: [], queuedAt: Date.now(), maxQueueSize: 1_000_000 }], settlements: [], reports: [], progress: [] });
      const record = await taken;
      const at = got.get(token);
      if (!record || at === undefined) missed++;
      else samples.push(at - submitted);
    }
    return { count: s.count, wake: latencies(samples), missed };
  } finally {
    await a?.close();
    await b?.close();
    await db.drop();
  }
}

/**
 * Memory stays bounded however large the backlog (issue "event engine", handler-runner.ts): a
 * handler that cannot deliver holds at most its window of events in memory, whether the events
 * are read from the outbox or offered straight after their commit; the rest wait in the store, and
 * once the handler recovers every event is delivered, once, in order per action.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { HandlerRunner } from '../../src/events/engine/handler-runner.js';
import { OutcomeWriter } from '../../src/events/engine/outcome-writer.js';
import { silentLogger } from '../../src/common/logger.js';
import type { EventDelivery, EventHandler } from '../../src/events/handler.js';
import type { EventRow } from '../../src/store/store.js';
import { newAction, TestPlanner } from '../store/store-conformance.js';
import { tempDir, waitFor } from '../helpers/server.js';

const ACTIONS = 1500;
const WINDOW = 100;
const CONCURRENCY = 8;
const empty = { node: 'n', enqueues: [], settlements: [], reports: [], progress: [] };

/** Deliveries wait until `open()`; each call notes how many events the runner held then. */
class GatedHandler implements EventHandler {
  readonly delivered: EventDelivery[] = [];
  maxHeld = 0;
  private opened = false;
  private readonly waiting: (() => void)[] = [];
  runner: HandlerRunner | undefined;

  async deliver(event: EventDelivery): Promise<void> {
    this.maxHeld = Math.max(this.maxHeld, this.runner!.held);
    if (!this.opened) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.delivered.push(event);
  }

  open(): void {
    this.opened = true;
    this.waiting.splice(0).forEach((resolve) => resolve());
  }

  async close(): Promise<void> {}
}

test(`a handler that cannot deliver holds at most its window (${WINDOW}) of a ${2 * ACTIONS}-event backlog; after it recovers each event arrives once, in order per action`, async () => {
  const store = new SqliteStore({ file: join(tempDir(), 'tocsin.db'), durability: 'process', planner: new TestPlanner() });
  const handler = new GatedHandler();
  const shutdown = new AbortController();
  const writer = new OutcomeWriter((deliveries) => store.recordOutcomes('n', deliveries), silentLogger);
  const runner = new HandlerRunner({
    name: 'H',
    handler,
    policy: { retries: 0, retryIntervalMs: 10 },
    concurrency: CONCURRENCY,
    windowSize: WINDOW,
    outbox: store,
    writer,
    log: silentLogger,
    clock: Date.now,
    signal: shutdown.signal,
  });
  handler.runner = runner;
  // Events committed while the runner is live come through offer() as well as the outbox.
  store.subscribe({ eventsStored: (stored) => 'rows' in stored && stored.rows.forEach((row: EventRow) => runner.offer(row)) });
  runner.setLease(await store.acquireDelivery('H', 'n'));
  let maxHeld = 0;
  let poll: NodeJS.Timeout | undefined;
  const sample = setInterval(() => (maxHeld = Math.max(maxHeld, runner.held)), 1);
  try {
    runner.nudge();
    // The first read finds the outbox empty: from then on events come through offer(), until
    // the window is full; the poll (the engine's floor) then reads the rest from the outbox.
    await delay(50);
    // OnStart of every action (claimed), then OnFinish of every one, in commits of 100.
    const started = [];
    for (let i = 0; i < ACTIONS; i += 100) {
      await store.commit({ ...empty, now: Date.now(), enqueues: Array.from({ length: 100 }, () => newAction('Q')) });
      started.push(...(await store.claim('Q', 100, 'n', Date.now())));
    }
    for (let i = 0; i < started.length; i += 100) {
      const settlements = started.slice(i, i + 100).map((running) => ({ id: running.id, status: 'Finished' as const, endedAt: Date.now(), running }));
      await store.commit({ ...empty, now: Date.now(), settlements });
    }
    poll = setInterval(() => runner.nudge(), 5);
    await waitFor(() => runner.held === WINDOW, 5_000, 5);
    const counts = await store.eventCounts();
    assert.equal(counts.find((c) => c.state === 'pending')?.count, 2 * ACTIONS, 'all events wait in the store');
    assert.ok(maxHeld <= WINDOW, `held ${maxHeld} events in memory, more than the window of ${WINDOW}`);

    handler.open();
    await waitFor(() => handler.delivered.length >= 2 * ACTIONS, 20_000, 10);
    await waitFor(async () => (await store.eventCounts()).every((c) => c.state !== 'pending' || c.count === 0), 5_000, 10);
    assert.ok(maxHeld <= WINDOW && handler.maxHeld <= WINDOW, `held at most ${Math.max(maxHeld, handler.maxHeld)} events (window ${WINDOW})`);
    assert.equal(handler.delivered.length, 2 * ACTIONS, 'no event delivered twice');
    assert.equal(new Set(handler.delivered.map((d) => d.id)).size, 2 * ACTIONS);
    const seen = new Map<string, string[]>();
    for (const d of handler.delivered) seen.set(d.token!, [...(seen.get(d.token!) ?? []), d.type]);
    for (const [token, types] of seen) assert.deepEqual(types, ['OnStart', 'OnFinish'], `events of ${token} in order`);
  } finally {
    clearInterval(sample);
    clearInterval(poll);
    handler.open();
    shutdown.abort();
    await runner.stop();
    await writer.flush();
    await store.close();
  }
});

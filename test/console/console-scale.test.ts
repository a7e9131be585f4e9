/**
 * The console with 100,000 actions stored (issue 17), on both stores: keyed pages cover a queue's
 * list exactly once and in order while actions change status between page reads; the page, count
 * and detail queries read indexes only (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN after
 * ANALYZE); and the counts per queue and status kept by the triggers equal a fresh GROUP BY after
 * a run through every path that changes a status.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ActionRecord, ActionStatus } from '../../src/queue/record.js';
import type { ActionFilter, NewAction, Store } from '../../src/store/store.js';
import { NO_EVENTS } from '../../src/store/store.js';
import { actionListing } from '../../src/store/listing-filters.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { COUNTS_SQL } from '../../src/store/sqlite/read-actions.js';
import { eventListingSql } from '../../src/store/sqlite/event-reads.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { ACTION_COUNTS_SQL } from '../../src/store/postgres/action-counts.js';
import { tempDir } from '../helpers/server.js';
import { postgresSkipReason, testDatabase } from '../helpers/postgres.js';

const ACTIONS = 100_000;
/** Actions share a queue time in groups this big, so pages split ties. */
const TIE = 250;
const T0 = 1_750_000_000_000;
const NODE = 'scale-node';
const PAGE = 2_000;
const empty = { node: NODE, enqueues: [], settlements: [], reports: [], progress: [] } as const;

/** What the checks need beside the Store: the query plans and a fresh count from the table. */
interface Subject {
  readonly store: Store;
  /** The plan of `sql` with `args`, one line per step. */
  plan(sql: string, args: readonly (string | number)[]): Promise<string[]>;
  /** queue → status → count, by GROUP BY over the actions table. */
  groupBy(): Promise<Map<string, Map<string, number>>>;
  readonly numbered: boolean;
  /** After the bulk load (PostgreSQL: ANALYZE). */
  afterLoad?(): Promise<void>;
}

let made = 0;
function action(queue: string, i: number): NewAction {
  made++;
  return { token: `scale-${queue}-${made}`, queue, priority: 0, params: [['N', String(i)]], queuedAt: T0 + Math.floor(i / TIE), maxQueueSize: 10_000_000 };
}

/** 90% of the actions in queue A, the rest in B, in commits of 5,000 (the store's bulk path). */
async function load(store: Store): Promise<void> {
  for (let from = 0; from < ACTIONS; from += 5_000) {
    const enqueues = Array.from({ length: 5_000 }, (_, k) => action((from + k) % 10 === 9 ? 'B' : 'A', from + k));
    await store.commit({ ...empty, now: T0, enqueues });
  }
}

/** Claims n actions of `queue` in the store's claim order and writes their starts. */
async function start(store: Store, queue: string, n: number, now: number): Promise<ActionRecord[]> {
  const all: ActionRecord[] = [];
  while (all.length < n) {
    const got = await store.claim(queue, Math.min(50, n - all.length), NODE, now);
    await store.commit({ ...empty, now });
    if (got.length === 0) break;
    all.push(...got);
  }
  return all;
}

async function settle(store: Store, running: readonly ActionRecord[], status: 'Finished' | 'Error' | 'Stopped', now: number): Promise<void> {
  const settlements = running.map((r) => ({ id: r.id, running: r, status, endedAt: now, ...(status === 'Error' ? { error: 'failed on purpose' } : {}) }));
  await store.commit({ ...empty, now, settlements });
}

const order = (a: ActionRecord, b: ActionRecord) => b.queuedAt - a.queuedAt || b.id - a.id;

/** Every page of a listing by key, with `between` run after each page read. */
async function pageAll(store: Store, filter: Omit<ActionFilter, 'limit' | 'after'>, between: () => Promise<void> = async () => undefined): Promise<ActionRecord[]> {
  const shown: ActionRecord[] = [];
  for (;;) {
    const last = shown[shown.length - 1];
    const rows = await store.listActions({ ...filter, limit: PAGE, ...(last ? { after: { queuedAt: last.queuedAt, id: last.id } } : {}) });
    shown.push(...rows);
    if (rows.length < PAGE) return shown;
    await between();
  }
}

async function countsFromTally(store: Store, queue: string): Promise<Record<string, number>> {
  const c = await store.queueCounts(queue);
  return { Queued: c.queued, Processing: c.processing, Paused: c.pausedActions, Finished: c.finished, Error: c.error, Cancelled: c.cancelled, Stopped: c.stopped };
}

async function assertTallyMatches(s: Subject, why: string): Promise<void> {
  const fresh = await s.groupBy();
  for (const queue of ['A', 'B']) {
    const expected = Object.fromEntries(['Queued', 'Processing', 'Paused', 'Finished', 'Error', 'Cancelled', 'Stopped'].map((st) => [st, fresh.get(queue)?.get(st) ?? 0]));
    assert.deepEqual(await countsFromTally(s.store, queue), expected, `${why}: queue ${queue}`);
  }
}

async function scaleChecks(t: TestContext, s: Subject): Promise<void> {
  const { store } = s;
  await load(store);
  await s.afterLoad?.();
  await assertTallyMatches(s, 'after the bulk load');

  await t.test('pages by key cover a queue once, newest first, while actions change status between page reads', async () => {
    const expected = (await store.listActions({ queue: 'A', sortBy: 'queue-time', descending: true })).map((r) => r.token);
    assert.equal(expected.length, ACTIONS * 0.9);
    let now = T0 + 10_000;
    const shown = await pageAll(store, { queue: 'A', sortBy: 'queue-time', descending: true }, async () => {
      // The claim order takes the oldest: rows on pages not read yet change status.
      now += 1;
      const running = await start(store, 'A', 60, now);
      await settle(store, running.slice(0, 40), 'Finished', now);
      const waiting = await store.listActions({ queue: 'A', statuses: ['Queued'], sortBy: 'queue-time', descending: true, limit: 1 });
      if (waiting[0]) await store.cancel(waiting[0].token, now);
    });
    assert.deepEqual(shown.map((r) => r.token), expected);

    // Filtered by status and time: in order, none twice, and every action that matched before and after is there.
    const filter = { queue: 'A', statuses: ['Queued', 'Processing'] as ActionStatus[], queuedAfter: T0 + 10, sortBy: 'queue-time' as const, descending: true };
    const before = new Set((await store.listActions({ ...filter, limit: ACTIONS })).map((r) => r.token));
    const filtered = await pageAll(store, filter, async () => {
      now += 1;
      await settle(store, await start(store, 'A', 30, now), 'Error', now);
    });
    const after = new Set((await store.listActions({ ...filter, limit: ACTIONS })).map((r) => r.token));
    assert.equal(new Set(filtered.map((r) => r.token)).size, filtered.length, 'no action twice');
    for (let i = 1; i < filtered.length; i++) assert.ok(order(filtered[i - 1]!, filtered[i]!) < 0, 'newest first, ties by id');
    const got = new Set(filtered.map((r) => r.token));
    for (const token of before) if (after.has(token)) assert.ok(got.has(token), `${token} matched throughout but was not shown`);
    assert.ok(filtered.every((r) => r.queuedAt > T0 + 10));
  });

  await t.test('the counts equal a GROUP BY after submit, start, finish, error, stop, cancel, pause, resume, duplicate, purge and recovery', async () => {
    let now = T0 + 20_000;
    const early = await start(store, 'B', 200, now);
    await settle(store, early.slice(0, 50), 'Finished', now);
    await settle(store, early.slice(50, 80), 'Error', now);
    await settle(store, early.slice(80, 100), 'Stopped', now);
    now += 1_000;
    await store.commit({ ...empty, now, enqueues: Array.from({ length: 500 }, (_, i) => action('B', ACTIONS + i)) });
    const waiting = await store.listActions({ queue: 'B', statuses: ['Queued'], sortBy: 'queue-time', descending: true, limit: 40 });
    for (const w of waiting.slice(0, 10)) await store.cancel(w.token, now);
    for (const w of waiting.slice(10, 20)) await store.pauseAction(w.token);
    for (const w of waiting.slice(10, 15)) await store.resumeAction(w.token);
    for (const w of waiting.slice(20, 25)) await store.changePriority(w.token, 5);
    for (const w of waiting.slice(25, 30)) await store.duplicate(w.token, { ...action('B', ACTIONS), token: `dup-${w.token}` });
    const running = early.slice(100);
    for (const r of running.slice(0, 20)) await store.pauseAction(r.token);
    for (const r of running.slice(0, 10)) await store.resumeAction(r.token);
    for (const r of running.slice(20, 30)) await store.requestStop(r.token);
    // Started and settled in one commit (the start written with its settlement).
    now += 1;
    const quick = await store.claim('B', 20, NODE, now);
    await settle(store, quick.slice(0, 10), 'Finished', now);
    await settle(store, quick.slice(10), 'Error', now);
    await assertTallyMatches(s, 'after the run');
    // Retention purges what ended before the last settlements; a restart re-queues what ran.
    assert.ok((await store.purgeFinished(['A', 'B'], now - 500)) > 0);
    await store.recoverExpired(NODE, now, { starting: true });
    await assertTallyMatches(s, 'after the purge and the recovery');
    const counts = await store.queueCounts('B');
    assert.equal(counts.processing, 0, 'the recovery re-queued every running action');
    assert.ok(counts.finished > 0 && counts.error > 0 && counts.cancelled > 0 && counts.queued > 0 && counts.pausedActions > 0);
  });

  await t.test('the page, count and detail queries read indexes only', async () => {
    const key = { queuedAt: T0 + 200, id: 50_000 };
    const pages: ActionFilter[] = [
      { queue: 'A', sortBy: 'queue-time', descending: true, limit: 26 },
      { queue: 'A', sortBy: 'queue-time', descending: true, limit: 26, after: key },
      { queue: 'A', statuses: ['Finished', 'Error', 'Cancelled', 'Stopped'], sortBy: 'queue-time', descending: true, limit: 26, after: key },
      { queue: 'A', statuses: ['Queued'], queuedAfter: T0 + 5, sortBy: 'queue-time', descending: true, limit: 26, after: key },
    ];
    for (const f of pages) {
      const { sql, args } = actionListing(f, s.numbered ? 'postgres' : 'sqlite');
      const plan = await s.plan(sql, args);
      assert.ok(!plan.some((line) => /SCAN actions\b|Seq Scan on actions/.test(line)), `a page scans the actions:\n${plan.join('\n')}`);
      assert.ok(!plan.some((line) => /TEMP B-TREE/.test(line)), `a page sorts:\n${plan.join('\n')}`);
      // PostgreSQL sorts the first rows of each status range (listing-filters.ts), never more.
      const arms = (f.statuses?.length ?? 7) * (f.after ? 2 : 1);
      for (const line of plan) {
        const sorted = /\bSort\s+\(cost=[\d.]+ rows=(\d+)/.exec(line);
        if (sorted) assert.ok(Number(sorted[1]) <= 26 * arms, `a page sorts more than its ranges' first rows:\n${plan.join('\n')}`);
      }
    }
    const counts = await s.plan(s.numbered ? ACTION_COUNTS_SQL : COUNTS_SQL, ['A']);
    assert.ok(!counts.some((line) => /\bactions\b/.test(line)), `the counts read the actions table:\n${counts.join('\n')}`);
  });
}

test('SQLite store with 100,000 actions: keyed pages, index-only reads, exact counts', async (t) => {
  const file = join(tempDir(), 'tocsin.db');
  const store = new SqliteStore({ file, durability: 'process', planner: NO_EVENTS });
  const db = new Database(file, { readonly: true });
  t.after(async () => {
    db.close();
    await store.close();
  });
  const subject: Subject = {
    store,
    numbered: false,
    plan: async (sql, args) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail),
    groupBy: async () => nest(db.prepare('SELECT queue, status, COUNT(*) AS n FROM actions GROUP BY queue, status').all() as CountRow[]),
  };
  await scaleChecks(t, subject);
  await t.test('an action detail reads its events by token, in seq order, without a sort', async () => {
    const { sql, args } = eventListingSql({ token: 'scale-A-1', descending: false, limit: 500 });
    const plan = await subject.plan(sql, args);
    assert.ok(plan.some((line) => /SEARCH e USING INDEX events_token/.test(line)), plan.join('\n'));
    assert.ok(!plan.some((line) => /SCAN e\b|TEMP B-TREE/.test(line)), plan.join('\n'));
  });
});

test('PostgreSQL store with 100,000 actions: keyed pages, index-only reads, exact counts', { skip: await postgresSkipReason() }, async (t) => {
  const database = await testDatabase();
  const store = await openPostgresStore({ connectionString: database.url, planner: NO_EVENTS });
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  t.after(async () => {
    await store.close();
    await pool.end();
    await database.drop();
  });
  const subject: Subject = {
    store,
    numbered: true,
    plan: async (sql, args) => (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [...args])).rows.map((r) => r['QUERY PLAN']),
    groupBy: async () => nest((await pool.query<CountRow>('SELECT queue, status, count(*)::int AS n FROM actions GROUP BY queue, status')).rows),
    afterLoad: async () => {
      // Events of many actions (this store's planner stores none), for the detail's plan; then
      // the planner's statistics, as autovacuum would gather them on tables this size.
      await pool.query(
        `INSERT INTO events (event_id, type, handler, queue, token, document, request, state, next_attempt_at, created_at)
         SELECT 'e' || i, 'OnFinish', 'H', 'A', 'scale-A-' || (i / 2 + 1), '<doc/>', '{}', 'delivered', 0, ${T0} FROM generate_series(1, 50000) i`,
      );
      await pool.query('ANALYZE');
    },
  };
  await scaleChecks(t, subject);
  await t.test('the count changes fold into the counts with the heartbeat, and the counts stay exact', async () => {
    assert.ok(Number((await pool.query('SELECT count(*) AS n FROM action_count_changes')).rows[0].n) > 0);
    await store.heartbeat(NODE);
    assert.equal(Number((await pool.query('SELECT count(*) AS n FROM action_count_changes')).rows[0].n), 0);
    await assertTallyMatches(subject, 'after the fold');
  });
  await t.test('an action detail reads its events by the token index', async () => {
    const plan = await subject.plan('SELECT * FROM events WHERE token = $1 ORDER BY seq ASC LIMIT 500', ['scale-A-1']);
    assert.ok(plan.some((line) => /events_token/.test(line)) && !plan.some((line) => /Seq Scan on events/.test(line)), plan.join('\n'));
  });
});

interface CountRow {
  queue: string;
  status: string;
  n: number;
}

function nest(rows: readonly CountRow[]): Map<string, Map<string, number>> {
  const byQueue = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!byQueue.has(r.queue)) byQueue.set(r.queue, new Map());
    byQueue.get(r.queue)!.set(r.status, r.n);
  }
  return byQueue;
}

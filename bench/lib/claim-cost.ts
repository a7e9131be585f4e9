/**
 * Claim cost against the number of actions waiting (bench/cluster.ts), through the Store API
 * directly, one (child) process per backend: for each size a store of its own (a fresh PostgreSQL
 * database, or a SQLite file) whose queue is filled with that many Queued actions by bulk SQL
 * (queue size set to match), the table vacuumed and analysed as autovacuum would leave it. Then
 * `claims` sequential `store.claim(queue, 1, node, now)` calls per size are timed, in rounds of
 * `round`, the sizes' rounds interleaved (small, large, large, small, ...) so that both sizes are
 * measured in the same minutes of a shared box; between a size's rounds (not timed) `round` new
 * actions are enqueued through `store.commit`, so its waiting count stays between
 * `waiting - round` and `waiting`. No event handlers: the claim alone.
 *
 * SQLite's claim is a local one (memory, its start written behind by a later commit); PostgreSQL's
 * takes from a page of rows reserved by one UPDATE ... SKIP LOCKED, its start written behind too
 * (src/store/postgres/reservations.ts). A round ends with a read, which writes what is behind
 * first, so each round pays for its starts.
 *
 * Checked, outside the timing: the store's waiting count (queueCounts) before and after, and on
 * PostgreSQL that `queues.size` equals the Queued rows (the cluster-wide size the claims keep).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { NewAction, Store } from '../../src/store/store.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { benchDatabase, type BenchDatabase } from './pg-database.js';
import { latencies, type LatencySummary } from './stats.js';
import type { StoreKind } from './cluster-throughput.js';

const QUEUE = 'Bench';
const NODE = 'bench-node';

export interface ClaimCostScenario {
  readonly kind: 'claims';
  readonly store: StoreKind;
  /** Actions waiting, one store per size. */
  readonly sizes: readonly number[];
  readonly claims: number;
  readonly round: number;
}

export interface ClaimCostResult {
  readonly store: StoreKind;
  readonly claims: number;
  readonly round: number;
  readonly bySize: readonly ClaimCostSize[];
}

export interface ClaimCostSize {
  readonly waiting: number;
  /** Mean over all timed claims, µs. */
  readonly usPerClaim: number;
  /** Per claim call, ms. */
  readonly perClaim: LatencySummary;
  readonly fillMs: number;
  /** Waiting count from the store before and after (queueCounts), and whether each claim got one action. */
  readonly waitingBefore: number;
  readonly waitingAfter: number;
  readonly allGotOne: boolean;
  /** PostgreSQL: queues.size equal to the Queued rows before and after (SQLite: counted at open, true). */
  readonly sizeMatches: boolean;
}

/** `count` Queued rows of QUEUE with tokens bench-<from>..; the queue's size to match. */
async function fillPostgres(url: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO actions (token, queue, status, priority, params, queued_at)
       SELECT 'bench-' || g, $1, 'Queued', 0, '[]', $2 FROM generate_series(1, $3::bigint) g`,
      [QUEUE, Date.now(), count],
    );
    await client.query(`INSERT INTO queues (name, size) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET size = queues.size + EXCLUDED.size`, [QUEUE, count]);
    await client.query('COMMIT');
    await client.query('VACUUM (ANALYZE) actions');
    await client.query('VACUUM (ANALYZE) queues');
  } finally {
    await client.end();
  }
}

/** The store must exist first (its migrations); it is closed, filled, and opened again by the caller. */
function fillSqlite(file: string, count: number): void {
  const db = new Database(file);
  try {
    const insert = db.prepare(`INSERT INTO actions (token, queue, status, priority, params, queued_at) VALUES (?, ?, 'Queued', 0, '[]', ?)`);
    const at = Date.now();
    db.transaction(() => {
      for (let i = 1; i <= count; i++) insert.run(`bench-${i}`, QUEUE, at);
    })();
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

function topUp(store: Store, from: number, count: number): Promise<unknown> {
  const now = Date.now();
  const enqueues: NewAction[] = Array.from({ length: count }, (_, i) => ({
    token: `bench-${from + i}`,
    queue: QUEUE,
    priority: 0,
    params: [],
    queuedAt: now,
    maxQueueSize: 100_000_000,
  }));
  return store.commit({ now, node: NODE, enqueues, settlements: [], reports: [], progress: [] });
}

/** PostgreSQL: does queues.size equal the number of Queued rows? */
async function sizeMatches(db: BenchDatabase | undefined): Promise<boolean> {
  if (!db) return true;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ size: number; queued: string }>(
      `SELECT (SELECT size FROM queues WHERE name = $1) AS size, (SELECT count(*) FROM actions WHERE queue = $1 AND status = 'Queued') AS queued`,
      [QUEUE],
    );
    return rows[0] !== undefined && Number(rows[0].size) === Number(rows[0].queued);
  } finally {
    await client.end();
  }
}

/** One size under test: its store and what its timed rounds gathered. */
interface Subject {
  readonly waiting: number;
  readonly store: Store;
  readonly db: BenchDatabase | undefined;
  readonly fillMs: number;
  readonly waitingBefore: number;
  readonly matchedBefore: boolean;
  next: number;
  readonly samples: number[];
  totalMs: number;
  allGotOne: boolean;
}

/** One timed round of `round` claims on `x` (topped up first, untimed, unless it is the first). */
async function timeRound(x: Subject, round: number, first: boolean): Promise<void> {
  if (!first) {
    await topUp(x.store, x.next, round);
    x.next += round;
  }
  const t0 = performance.now();
  for (let i = 0; i < round; i++) {
    const t = performance.now();
    const got = await x.store.claim(QUEUE, 1, NODE, Date.now());
    x.samples.push(performance.now() - t);
    if (got.length !== 1) x.allGotOne = false;
  }
  // Both stores write starts behind (SQLite's local claims, PostgreSQL's reservations): a read
  // writes them first, so each round pays for its starts; a cheap one, by token.
  await x.store.getAction('bench-1');
  x.totalMs += performance.now() - t0;
}

async function openFilled(kind: StoreKind, waiting: number, dir: string): Promise<Subject> {
  const t0 = performance.now();
  let store: Store;
  let db: BenchDatabase | undefined;
  if (kind === 'postgres') {
    db = await benchDatabase();
    // Open first: the store migrates the fresh database.
    await (await openPostgresStore({ connectionString: db.url })).close();
    await fillPostgres(db.url, waiting);
    store = await openPostgresStore({ connectionString: db.url });
  } else {
    const file = join(dir, `tocsin-${waiting}.db`);
    await new SqliteStore({ file, durability: 'process' }).close();
    fillSqlite(file, waiting);
    store = new SqliteStore({ file, durability: 'process' });
  }
  const fillMs = performance.now() - t0;
  const waitingBefore = (await store.queueCounts(QUEUE)).queued;
  const matchedBefore = await sizeMatches(db);
  return { waiting, store, db, fillMs, waitingBefore, matchedBefore, next: waiting + 1, samples: [], totalMs: 0, allGotOne: true };
}

async function finish(x: Subject): Promise<ClaimCostSize> {
  const waitingAfter = (await x.store.queueCounts(QUEUE)).queued;
  const matches = x.matchedBefore && (await sizeMatches(x.db));
  return {
    waiting: x.waiting,
    usPerClaim: (x.totalMs * 1000) / x.samples.length,
    perClaim: latencies(x.samples),
    fillMs: x.fillMs,
    waitingBefore: x.waitingBefore,
    waitingAfter,
    allGotOne: x.allGotOne,
    sizeMatches: matches,
  };
}

export async function runClaimCost(s: ClaimCostScenario): Promise<ClaimCostResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-claims-'));
  const subjects: Subject[] = [];
  try {
    for (const waiting of s.sizes) subjects.push(await openFilled(s.store, waiting, dir));
    for (let r = 0; r * s.round < s.claims; r++) {
      // Alternate the order, so that neither size always goes first after a top-up.
      for (const x of r % 2 ? [...subjects].reverse() : subjects) await timeRound(x, s.round, r === 0);
    }
    const bySize: ClaimCostSize[] = [];
    for (const x of subjects) bySize.push(await finish(x));
    return { store: s.store, claims: s.claims, round: s.round, bySize };
  } finally {
    for (const x of subjects) {
      await x.store.close();
      await x.db?.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

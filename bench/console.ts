/**
 * The console with many actions stored (issue 17: "works with 100,000 actions stored"), on SQLite
 * and PostgreSQL, through the Store the console reads:
 *   - a page (25 actions, newest first; the first page and a keyed page from the middle) and the
 *     snapshot's store reads (every queue's counts and the event counts), median time at 1,000 and
 *     at 100,000 actions stored and their ratio (flat is the goal); beside them, in the same run,
 *     the reads these replaced (a GROUP BY per queue, a page that sorts the whole queue);
 *   - the write path the new index and the count triggers cost: WRITES actions submitted (commits
 *     of 500), then claimed and finished (50 per commit, start and settlement written together),
 *     actions/s of this build, and of another build when BASELINE_DIST names its dist directory
 *     (runs alternate; medians).
 *
 *   npm run build && node dist/bench/console.js
 *   BASELINE_DIST=/tmp/main-build/dist WRITES=20000 RUNS=3 node dist/bench/console.js
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ActionRecord } from '../src/queue/record.js';
import type { NewAction, Store } from '../src/store/store.js';
import { NO_EVENTS } from '../src/store/store.js';
import { machineFacts } from './lib/machine.js';
import { formatTable } from './lib/table.js';
import { median } from './lib/summary.js';
import { benchDatabase, pgSkipReason } from './lib/pg-database.js';

const SIZES = [1_000, 100_000] as const;
const REPS = Number(process.env.REPS ?? 200);
const WRITES = Number(process.env.WRITES ?? 20_000);
const RUNS = Number(process.env.RUNS ?? 3);
const T0 = 1_750_000_000_000;
const NODE = 'bench-console';
const empty = { node: NODE, enqueues: [], settlements: [], reports: [], progress: [] } as const;

interface Kind {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh store from the build at `dist` (this build: '..'), and how to run raw SQL beside it. */
  open(dist: string): Promise<{ store: Store; sql(text: string, args: unknown[]): Promise<unknown>; close(): Promise<void> }>;
}

let made = 0;
function action(queue: string): NewAction {
  const i = made++;
  return { token: `bench-${i}`, queue, priority: 0, params: [['N', String(i)]], queuedAt: T0 + Math.floor(i / 250), maxQueueSize: 100_000_000 };
}

async function submit(store: Store, n: number, queueOf: (i: number) => string): Promise<void> {
  for (let done = 0; done < n; done += 500) {
    await store.commit({ ...empty, now: T0, enqueues: Array.from({ length: Math.min(500, n - done) }, (_, k) => action(queueOf(done + k))) });
  }
}

async function timeMs(reps: number, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await work();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

// The reads before this change, for the comparison in the same run.
const OLD_COUNT = { sqlite: 'SELECT status, COUNT(*) FROM actions WHERE queue = ? GROUP BY status', postgres: 'SELECT status, count(*) FROM actions WHERE queue = $1 GROUP BY status' };
const OLD_PAGE = {
  sqlite: 'SELECT * FROM actions WHERE queue = ? ORDER BY (queued_at IS NULL), queued_at DESC, id DESC LIMIT 26',
  postgres: 'SELECT * FROM actions WHERE queue = $1 ORDER BY (queued_at IS NULL), queued_at DESC, id DESC LIMIT 26',
};

async function reads(kind: Kind): Promise<string[][]> {
  const { store, sql, close } = await kind.open('..');
  const rows: string[][] = [];
  try {
    const figures = new Map<string, number[]>();
    const note = (what: string, value: number) => figures.set(what, [...(figures.get(what) ?? []), value]);
    let stored = 0;
    for (const size of SIZES) {
      await submit(store, size - stored, (i) => (i % 10 === 9 ? 'B' : 'A'));
      stored = size;
      if (kind.name === 'postgres') {
        await sql('ANALYZE', []);
        await store.heartbeat(NODE, T0);
      }
      const middle = (await store.listActions({ queue: 'A', sortBy: 'queue-time', descending: true, limit: Math.floor(size * 0.45) })).at(-1)!;
      const page = { queue: 'A', sortBy: 'queue-time' as const, descending: true, limit: 26 };
      note('first page (25 actions)', await timeMs(REPS, () => store.listActions(page)));
      note('keyed page from the middle', await timeMs(REPS, () => store.listActions({ ...page, after: { queuedAt: middle.queuedAt, id: middle.id } })));
      note('snapshot store reads', await timeMs(REPS, () => Promise.all([store.queueCounts('A'), store.queueCounts('B'), store.eventCounts()])));
      note('before: page sorting the queue', await timeMs(Math.ceil(REPS / 10), () => sql(OLD_PAGE[kind.name], ['A'])));
      note('before: counts by GROUP BY (2 queues)', await timeMs(Math.ceil(REPS / 10), () => Promise.all([sql(OLD_COUNT[kind.name], ['A']), sql(OLD_COUNT[kind.name], ['B'])])));
    }
    for (const [what, [small, large]] of figures) rows.push([kind.name, what, `${small!.toFixed(3)} ms`, `${large!.toFixed(3)} ms`, `${(large! / small!).toFixed(1)}x`]);
  } finally {
    await close();
  }
  return rows;
}

/** Actions/s of submitting WRITES actions, then of claiming and finishing them. */
async function writes(kind: Kind, dist: string): Promise<{ submit: number; run: number }> {
  const { store, close } = await kind.open(dist);
  try {
    let t = performance.now();
    await submit(store, WRITES, () => 'W');
    const submitRate = WRITES / ((performance.now() - t) / 1000);
    t = performance.now();
    let done = 0;
    for (;;) {
      const claimed: ActionRecord[] = await store.claim('W', 50, NODE, T0 + 1);
      if (claimed.length === 0) break;
      await store.commit({ ...empty, now: T0 + 2, settlements: claimed.map((r) => ({ id: r.id, running: r, status: 'Finished' as const, endedAt: T0 + 2 })) });
      done += claimed.length;
    }
    return { submit: submitRate, run: done / ((performance.now() - t) / 1000) };
  } finally {
    await close();
  }
}

const sqlite: Kind = {
  name: 'sqlite',
  async open(dist) {
    const { SqliteStore } = (await import(`${dist}/src/store/sqlite/sqlite-store.js`)) as typeof import('../src/store/sqlite/sqlite-store.js');
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-console-'));
    const store = new SqliteStore({ file: join(dir, 'tocsin.db'), durability: 'process', planner: NO_EVENTS });
    const db = new Database(join(dir, 'tocsin.db'), { readonly: true });
    return {
      store,
      sql: async (text, args) => db.prepare(text).all(...args),
      close: async () => {
        db.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Kind = {
  name: 'postgres',
  async open(dist) {
    const { openPostgresStore } = (await import(`${dist}/src/store/postgres/postgres-store.js`)) as typeof import('../src/store/postgres/postgres-store.js');
    const database = await benchDatabase();
    const store = await openPostgresStore({ connectionString: database.url, planner: NO_EVENTS });
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    return {
      store,
      sql: (text, args) => pool.query(text, args),
      close: async () => {
        await store.close();
        await pool.end();
        await database.drop();
      },
    };
  },
};

export async function runConsole(): Promise<void> {
  const kinds = [sqlite, ...((await pgSkipReason()) === undefined ? [postgres] : [])];
  console.log(`Console reads with many actions stored, ${new Date().toISOString()}\n${machineFacts()}`);
  const readRows = [];
  for (const kind of kinds) readRows.push(...(await reads(kind)));
  console.log(formatTable(['store', `median of ${REPS}`, 'at 1,000', 'at 100,000', 'ratio'], readRows));

  const baseline = process.env.BASELINE_DIST;
  const builds: [string, string][] = [['this build', '..'], ...(baseline ? [['baseline', baseline] as [string, string]] : [])];
  const writeRows: string[][] = [];
  for (const kind of kinds) {
    const results = new Map<string, { submit: number[]; run: number[] }>(builds.map(([name]) => [name, { submit: [], run: [] }]));
    for (let run = 0; run < RUNS; run++) {
      for (const [name, dist] of run % 2 === 0 ? builds : [...builds].reverse()) {
        const r = await writes(kind, dist);
        results.get(name)!.submit.push(r.submit);
        results.get(name)!.run.push(r.run);
      }
    }
    const base = results.get('baseline');
    for (const [name, r] of results) {
      const ratio = (mine: number[], theirs: number[] | undefined) => (theirs ? ` (${(median(mine) / median(theirs)).toFixed(2)}x)` : '');
      writeRows.push([kind.name, name, `${Math.round(median(r.submit))}${ratio(r.submit, base?.submit)}`, `${Math.round(median(r.run))}${ratio(r.run, base?.run)}`]);
    }
  }
  console.log(`\nWrite path, ${WRITES} actions, medians of ${RUNS} alternating runs (actions/s; ratio to the baseline)`);
  console.log(formatTable(['store', 'build', 'submitted/s', 'started+finished/s'], writeRows));
  console.log(machineFacts());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runConsole();

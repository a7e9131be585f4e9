/**
 * What an IdempotencyKey on every submission costs (issue 18): submission throughput with a key of
 * its own on every request beside the same submissions with none, in the same run, on SQLite and
 * on PostgreSQL (TOCSIN_BENCH_PG_URL; skipped, saying why, when it cannot be reached). No-op
 * actions (`Noop`), MaximumThreads=8, each scenario in a child process with a fresh store:
 *   - HTTP: `GET /action=Noop` (+ `&IdempotencyKey=<uuid>-i`), 64 in flight, undici Pool in a worker;
 *   - library: `scheduler.submit` × N all at once (+ `{ idempotencyKey }`).
 * Scenarios alternate without and with a key, RUNS times, so a swing of the box's speed hits both.
 * Printed: enqueued/s (every submission answered), completed/s, and keyed / unkeyed.
 *
 *   node dist/bench/idempotent-submission.js
 *   node dist/bench/idempotent-submission.js --quick      (or QUICK=1: 2,000 actions, SQLite only; a few seconds)
 *   ACTIONS=20000 RUNS=3 node dist/bench/idempotent-submission.js
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AsyncActionDefinition } from '../src/queue/action-definition.js';
import { startBenchServer } from './lib/server.js';
import { Countdown } from './lib/countdown.js';
import { runHttpLoad } from './lib/http-load.js';
import { runBenchScript, runInChild } from './lib/child.js';
import { benchDatabase, pgSkipReason } from './lib/pg-database.js';
import { perSecond, rate } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { median, now, type SummaryRow } from './lib/summary.js';

const QUICK = process.argv.includes('--quick') || process.env.QUICK === '1';
const ACTIONS = Number(process.env.ACTIONS ?? (QUICK ? 2_000 : 10_000));
const WARMUP = Number(process.env.WARMUP ?? (QUICK ? 200 : 500));
const RUNS = Number(process.env.RUNS ?? (QUICK ? 1 : 2));
const THREADS = 8;
const HTTP_CONCURRENCY = 64;

type StoreKind = 'sqlite' | 'postgres';
type Submission = 'http' | 'library';

interface Scenario {
  readonly store: StoreKind;
  readonly submission: Submission;
  readonly keyed: boolean;
  readonly actions: number;
  readonly warmup: number;
}

interface Result extends Scenario {
  readonly enqueuePerSec: number;
  readonly completedPerSec: number;
  readonly errors: number;
}

const config = (storeKeys: string) => `[Actions]
MaximumThreads=${THREADS}
MaximumQueueSize=1000000
${storeKeys}
`;

/** `count` submissions; resolves when every one is answered. Keys (when keyed) are new UUID-based ones. */
async function submitAll(s: Scenario, url: string, submit: (key: string | undefined) => Promise<unknown>, count: number): Promise<{ t0: number; t1: number; errors: number }> {
  const prefix = randomUUID();
  if (s.submission === 'http') {
    const load = await runHttpLoad({ url, path: '/action=Noop', count, concurrency: HTTP_CONCURRENCY, ...(s.keyed ? { keyPrefix: prefix } : {}) });
    if (load.firstError) process.stderr.write(`HTTP errors (${load.errors}), first: ${load.firstError}\n`);
    return { t0: load.startedAt, t1: load.endedAt, errors: load.errors };
  }
  const t0 = now();
  await Promise.all(Array.from({ length: count }, (_, i) => submit(s.keyed ? `${prefix}-${i}` : undefined)));
  return { t0, t1: now(), errors: 0 };
}

/** One scenario, in this (child) process. */
async function runScenario(s: Scenario): Promise<Result> {
  const noop: AsyncActionDefinition = { name: 'Noop', run: async () => {} };
  const db = s.store === 'postgres' ? await benchDatabase() : undefined;
  const bench = await startBenchServer({ config: config(db ? `DatastoreType=postgres\nConnectionString=${db.url}` : ''), actions: [noop] });
  try {
    const { scheduler } = bench.server;
    const counter = new Countdown();
    scheduler.onSettled(() => counter.tick());
    const submit = (key: string | undefined) => scheduler.submit('Noop', [], 0, key === undefined ? {} : { idempotencyKey: key });
    const warm = counter.expect(s.warmup);
    await submitAll(s, bench.server.url, submit, s.warmup);
    await warm;
    const allSettled = counter.expect(s.actions);
    const { t0, t1, errors } = await submitAll(s, bench.server.url, submit, s.actions);
    if (errors === 0) await allSettled;
    return {
      ...s,
      enqueuePerSec: perSecond(s.actions - errors, t1 - t0),
      completedPerSec: errors === 0 ? perSecond(s.actions, counter.at - t0) : Number.NaN,
      errors,
    };
  } finally {
    await bench.close();
    await db?.drop();
  }
}

export async function runIdempotentSubmission(): Promise<SummaryRow[]> {
  const skipPg = QUICK ? 'QUICK: SQLite only' : await pgSkipReason();
  const stores: StoreKind[] = skipPg ? ['sqlite'] : ['sqlite', 'postgres'];
  console.log(`\n== idempotent submission: ${rate(ACTIONS)} no-op actions, MaximumThreads=${THREADS}, without and with a key on every submission, ${RUNS} run(s) each${QUICK ? ', QUICK' : ''} ==`);
  if (skipPg) console.log(`PostgreSQL skipped: ${skipPg}`);
  const script = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const store of stores) {
    for (const submission of ['http', 'library'] as const) {
      for (let run = 0; run < RUNS; run++) {
        for (const keyed of run % 2 === 0 ? [false, true] : [true, false]) {
          results.push(await runInChild<Result>(script, { store, submission, keyed, actions: ACTIONS, warmup: WARMUP } satisfies Scenario));
        }
      }
    }
  }
  const groups = [...new Set(results.map((r) => `${r.store}/${r.submission}`))];
  const rows: SummaryRow[] = [];
  const table = groups.map((group) => {
    const of = (keyed: boolean) => results.filter((r) => `${r.store}/${r.submission}` === group && r.keyed === keyed);
    const [plain, keyed] = [of(false), of(true)];
    const enq = (rs: Result[]) => median(rs.map((r) => r.enqueuePerSec));
    const done = (rs: Result[]) => median(rs.map((r) => r.completedPerSec));
    const ratio = enq(keyed) / enq(plain);
    rows.push({ bench: 'idempotent', scenario: group, throughput: `${rate(enq(plain))} → ${rate(enq(keyed))} enq/s with a key (×${ratio.toFixed(2)})`, latency: '', peakRss: '', target: '' });
    return [
      group,
      `${plain.map((r) => rate(r.enqueuePerSec)).join(', ')}`,
      `${keyed.map((r) => rate(r.enqueuePerSec)).join(', ')}`,
      `×${ratio.toFixed(2)}`,
      `${rate(done(plain))} / ${rate(done(keyed))}`,
      String(results.filter((r) => `${r.store}/${r.submission}` === group).reduce((n, r) => n + r.errors, 0)),
    ];
  });
  console.log(formatTable(['store/submission', 'enqueued/s, no key', 'enqueued/s, key', 'key / no key (medians)', 'completed/s no key / key', 'errors'], table));
  return rows;
}

await runBenchScript<Scenario>(import.meta.url, runScenario, runIdempotentSubmission);

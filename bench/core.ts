/**
 * Core server throughput (issue "core server"): ACTIONS no-op code-defined actions (`Noop`) at
 * MaximumThreads=8, submitted
 *   - through the library API, all at once (`scheduler.submit` × N, Promise.all), and
 *   - through HTTP (`GET /action=Noop`, keep-alive, 64 in flight, undici Pool in a worker thread),
 * for `[Actions] Durability=process` and `=power`, each run in its own child process with a fresh
 * temp DataDirectory. Printed per run: enqueue/s (all submissions acknowledged), completed/s (all
 * settled, `scheduler.onSettled`), p50/p99 queue latency (submit call → run() entered, measured
 * in process), peak RSS; and the same work with no queue (N `await noop()` through an 8-wide async
 * pool) with the ratio.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/core.js
 *   ACTIONS=10000 RUNS=1 WARMUP=500 node dist/bench/core.js
 *
 * Targets (issue): >= 14,000 completed/s; >= 50,000 enqueued/s (bulk, library).
 * Bulk queue latency is mostly the wait behind the other N-1 actions (all are queued at t0); the
 * HTTP run keeps at most 64 waiting, so its latency is the per-action overhead.
 */
import { fileURLToPath } from 'node:url';
import type { AsyncActionDefinition } from '../src/queue/action-definition.js';
import { startBenchServer } from './lib/server.js';
import { Countdown } from './lib/countdown.js';
import { runHttpLoad } from './lib/http-load.js';
import { PeakRss } from './lib/rss.js';
import { CommitProbe, describeCommits, type CommitStats } from './lib/commit-probe.js';
import { runPool } from './lib/pool.js';
import { runBenchScript, runInChild, type Durability } from './lib/child.js';
import { latencies, mb, ms, perSecond, rate, verdict, type LatencySummary } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { median, now, type SummaryRow } from './lib/summary.js';

const ACTIONS = Number(process.env.ACTIONS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 1);
const WARMUP = Number(process.env.WARMUP ?? 500);
const THREADS = 8;
const HTTP_CONCURRENCY = 64;
const TARGET_COMPLETED = 14_000;
const TARGET_ENQUEUED = 50_000;

type Submission = 'library' | 'http';

interface CoreScenario {
  readonly submission: Submission;
  readonly durability: Durability;
  readonly actions: number;
  readonly warmup: number;
}

interface CoreResult extends CoreScenario {
  readonly enqueuePerSec: number;
  readonly completedPerSec: number;
  readonly queueLatency: LatencySummary;
  readonly peakRss: number;
  readonly errors: number;
  readonly commits: CommitStats;
  readonly elapsedMs: number;
}

const config = (durability: Durability) => `[Actions]
MaximumThreads=${THREADS}
MaximumQueueSize=1000000
Durability=${durability}
`;

/** One scenario, in this (child) process. */
async function runScenario(s: CoreScenario): Promise<CoreResult> {
  const startedRun = new Map<string, number>();
  const noop: AsyncActionDefinition = {
    name: 'Noop',
    run: async (ctx) => {
      startedRun.set(ctx.token, now());
    },
  };
  const bench = await startBenchServer({ config: config(s.durability), actions: [noop] });
  const { scheduler } = bench.server;
  const counter = new Countdown();
  scheduler.onSettled(() => counter.tick());
  const probe = new CommitProbe(bench.server.store);
  try {
    // Warm-up: JIT, prepared statements and sockets; not measured.
    const warm = counter.expect(s.warmup);
    await Promise.all(Array.from({ length: s.warmup }, () => scheduler.submit('Noop', [])));
    await warm;
    startedRun.clear();
    probe.reset();

    const rss = new PeakRss();
    const allSettled = counter.expect(s.actions);
    let t0: number, enqueuedAt: number, submittedAt: number[], tokens: string[], errors = 0;
    if (s.submission === 'library') {
      submittedAt = new Array<number>(s.actions);
      t0 = now();
      const pending = Array.from({ length: s.actions }, (_, i) => {
        submittedAt[i] = now();
        return scheduler.submit('Noop', []);
      });
      tokens = (await Promise.all(pending)).map((r) => r.token);
      enqueuedAt = now();
    } else {
      const load = await runHttpLoad({ url: bench.server.url, path: '/action=Noop', count: s.actions, concurrency: HTTP_CONCURRENCY });
      ({ sentAt: submittedAt, tokens, errors } = load);
      if (load.firstError) process.stderr.write(`HTTP errors (${errors}), first: ${load.firstError}\n`);
      t0 = load.startedAt;
      enqueuedAt = load.endedAt;
    }
    if (errors === 0) await allSettled;
    const peakRss = rss.stop();
    const waits = tokens.map((t, i) => (startedRun.get(t) ?? Number.NaN) - submittedAt[i]!).filter(Number.isFinite);
    return {
      ...s,
      enqueuePerSec: perSecond(s.actions - errors, enqueuedAt - t0),
      completedPerSec: errors === 0 ? perSecond(s.actions, counter.at - t0) : Number.NaN,
      queueLatency: latencies(waits),
      peakRss,
      errors,
      commits: probe.snapshot(),
      elapsedMs: counter.at - t0,
    };
  } finally {
    await bench.close();
  }
}

/** The same work with no queue: N `await noop()` through an 8-wide async pool. Actions/s. */
async function baseline(count: number): Promise<number> {
  const noop = async () => {};
  await runPool(count, THREADS, () => noop()); // warm-up
  const t0 = now();
  await runPool(count, THREADS, () => noop());
  return perSecond(count, now() - t0);
}

/** All scenarios (each in a child process), the baseline, the table; rows for run.ts's summary. */
export async function runCore(): Promise<SummaryRow[]> {
  console.log(`\n== core server: ${ACTIONS.toLocaleString('en-US')} no-op actions, MaximumThreads=${THREADS}, warm-up ${WARMUP}, ${RUNS} run(s) each ==`);
  const script = fileURLToPath(import.meta.url);
  const results: CoreResult[] = [];
  for (const durability of ['process', 'power'] as const) {
    for (const submission of ['library', 'http'] as const) {
      for (let run = 0; run < RUNS; run++) {
        results.push(await runInChild<CoreResult>(script, { submission, durability, actions: ACTIONS, warmup: WARMUP } satisfies CoreScenario));
      }
    }
  }
  const base = await baseline(ACTIONS);
  const label = (r: CoreResult) => `${r.submission}/${r.durability}`;
  const rows = results.map((r) => [
    r.submission === 'library' ? 'library, bulk' : `HTTP, ${HTTP_CONCURRENCY} in flight`,
    r.durability,
    rate(r.enqueuePerSec),
    rate(r.completedPerSec),
    `${ms(r.queueLatency.p50)} / ${ms(r.queueLatency.p99)}`,
    mb(r.peakRss),
    `1/${rate(base / r.completedPerSec)}`,
    r.errors > 0 ? `${r.errors}` : '0',
  ]);
  console.log(formatTable(['submission', 'durability', 'enqueued/s', 'completed/s', 'queue ms p50 / p99', 'peak RSS', 'vs no queue', 'errors'], rows));
  for (const r of results) console.log(`  ${label(r)}: ${describeCommits(r.commits, r.elapsedMs)}`);
  console.log(`no-queue baseline (${ACTIONS.toLocaleString('en-US')} × await noop(), 8-wide pool): ${rate(base)} actions/s`);
  console.log(`targets: completed >= ${rate(TARGET_COMPLETED)}/s, enqueued (bulk, library) >= ${rate(TARGET_ENQUEUED)}/s`);
  return summarize(results, base);
}

/** One summary row per scenario: the median of its runs. */
function summarize(results: readonly CoreResult[], base: number): SummaryRow[] {
  const keys = [...new Set(results.map((r) => `${r.submission}/${r.durability}`))];
  const rows: SummaryRow[] = keys.map((key) => {
    const runs = results.filter((r) => `${r.submission}/${r.durability}` === key);
    const completed = median(runs.map((r) => r.completedPerSec));
    const enqueued = median(runs.map((r) => r.enqueuePerSec));
    const bulk = runs[0]!.submission === 'library';
    const ok = completed >= TARGET_COMPLETED && (!bulk || enqueued >= TARGET_ENQUEUED);
    return {
      bench: 'core',
      scenario: key,
      throughput: `${rate(completed)} done/s, ${rate(enqueued)} enq/s`,
      latency: `${ms(median(runs.map((r) => r.queueLatency.p50)))} / ${ms(median(runs.map((r) => r.queueLatency.p99)))} ms`,
      peakRss: mb(median(runs.map((r) => r.peakRss))),
      target: `${bulk ? `>=${rate(TARGET_COMPLETED)} done/s & >=${rate(TARGET_ENQUEUED)} enq/s` : `>=${rate(TARGET_COMPLETED)} done/s`}: ${verdict(ok)}`,
    };
  });
  rows.push({ bench: 'core', scenario: 'no queue (8-wide pool)', throughput: `${rate(base)} done/s`, latency: '', peakRss: '', target: '' });
  return rows;
}

await runBenchScript<CoreScenario>(import.meta.url, runScenario, runCore);

/**
 * Tocsin beside BullMQ and graphile-worker (issue 15), every figure measured in the same run with
 * its baseline: W1 events to a file, W2 a webhook per completion (burst and paced), submission over
 * the wire, scale (submit and claim cost with 1k, 100k and 1M jobs waiting; --quick stops at 100k),
 * crash (kill -9 of the worker process one second into 5,000 jobs of 5 ms, then a restart; --quick:
 * 2,000 jobs, recovery waited for 3 s instead of 60, neither on BullMQ with AOF), and the ceilings.
 * Each scenario runs in a child process of its own; runs interleave the systems (Tocsin, Tocsin on
 * PostgreSQL for scale only, BullMQ, BullMQ with AOF, graphile-worker, ceilings), and the
 * table shows medians over runs. Prints one table of absolute figures with the ratios Tocsin/peer
 * and Tocsin/ceiling, and writes bench/results/latest.json, latest.md (the table in Markdown) and
 * side-by-side.svg.
 *
 * BullMQ runs on the Redis at TOCSIN_BENCH_REDIS_URL (default 127.0.0.1:6379) twice: without
 * persistence, and with `appendonly yes` + `appendfsync everysec`, switched with CONFIG SET for that
 * column only and restored after (printed). graphile-worker runs on the PostgreSQL at
 * TOCSIN_BENCH_PG_URL. A peer whose server does not answer is skipped with the reason printed.
 *
 *   npm run bench -- --quick          (this benchmark alone, smaller sizes, one run: under 2 minutes)
 *   node dist/bench/side-by-side.js [--quick]
 *   RUNS=3 JOBS=10000 IN_FLIGHT=8 node dist/bench/side-by-side.js
 *   SCALE_WAITING=1000,1000000 CRASH_JOBS=5000 CRASH_BOUND_MS=60000 node dist/bench/side-by-side.js --quick
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchScript, runInChild } from './lib/child.js';
import { machineFacts } from './lib/machine.js';
import { pgServerFacts, pgSkipReason } from './lib/pg-database.js';
import { PERSISTENCE_LABEL, redisFacts, redisSkipReason, withPersistence } from './lib/redis-server.js';
import { median } from './lib/summary.js';
import { chartSvg } from './side-by-side/chart.js';
import { buildRows, formatRows, markdownRows, tableNotes, type Runs } from './side-by-side/report.js';
import { runScenario, scenarioTimeoutMs, type Scenario } from './side-by-side/scenario.js';
import { sizes as sizesFor, type Sizes } from './side-by-side/sizes.js';
import { LABELS, SYSTEMS, type SystemId } from './side-by-side/systems.js';
import type { CeilingsResult } from './side-by-side/ceilings.js';
import type { CrashResult } from './side-by-side/crash.js';
import type { EventsToFileResult } from './side-by-side/events-to-file.js';
import type { ScaleResult } from './side-by-side/scale.js';
import type { SubmissionResult } from './side-by-side/submission.js';
import type { WebhookResult } from './side-by-side/webhook.js';

const SCRIPT = fileURLToPath(import.meta.url);
/** bench/results/ in the project (this file runs from dist/bench/). */
const RESULTS_DIR = resolve(dirname(SCRIPT), '../../bench/results');

/** Runs one scenario in a child; a failure is printed and gives no figure (never a made-up one). */
async function inChild<R>(scenario: Scenario, what: string): Promise<R | undefined> {
  const t0 = performance.now();
  try {
    const r = await runInChild<R>(SCRIPT, scenario, [], scenarioTimeoutMs(scenario));
    console.log(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  } catch (e) {
    console.log(`  ${what}: FAILED, no figure (${(e as Error).message})`);
    return undefined;
  }
}

/** Why each system cannot run here, if it cannot. */
async function skipReasons(): Promise<Partial<Record<SystemId, string>>> {
  const [redis, pg] = await Promise.all([redisSkipReason(), pgSkipReason()]);
  return { ...(redis ? { bullmq: redis, 'bullmq-aof': redis } : {}), ...(pg ? { graphile: pg, 'tocsin-pg': pg } : {}) };
}

/** Samples the 1-minute load average every 5 s while the benchmark runs (the box is shared). */
function loadSampler(): { stop(): { min: number; median: number; max: number } } {
  const samples = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 5_000);
  return {
    stop() {
      clearInterval(timer);
      samples.push(loadavg()[0]!);
      return { min: Math.min(...samples), median: median(samples), max: Math.max(...samples) };
    },
  };
}

function push<R>(into: Partial<Record<SystemId, R[]>>, system: SystemId, r: R | undefined): void {
  if (r !== undefined) (into[system] ??= []).push(r);
}

async function runScale(system: SystemId, s: Sizes, runs: Runs): Promise<void> {
  for (const waiting of s.scaleWaiting) {
    push(runs.scale, system, await inChild<ScaleResult>({ workload: 'scale', system, sizes: s, waiting }, `${system} scale, ${waiting.toLocaleString('en-US')} waiting`));
  }
}

/** One system's scenarios of one run. */
async function runSystem(system: SystemId, s: Sizes, runs: Runs): Promise<void> {
  if (system === 'tocsin-pg') return runScale(system, s, runs);
  push(runs.eventsToFile, system, await inChild<EventsToFileResult>({ workload: 'events-to-file', system, sizes: s }, `${system} W1 events to a file`));
  push(runs.webhook, system, await inChild<WebhookResult>({ workload: 'webhook', system, sizes: s }, `${system} W2 webhook`));
  if (system === 'tocsin') {
    const r = await inChild<SubmissionResult>({ workload: 'submission', system, sizes: s }, 'tocsin submission over HTTP');
    if (r) runs.submission.push(r);
  }
  if (system === 'bullmq-aof' && !s.extraColumns) return;
  await runScale(system, s, runs);
  push(runs.crash, system, await inChild<CrashResult>({ workload: 'crash', system, sizes: s }, `${system} crash`));
}

export async function runSideBySide(quick: boolean): Promise<void> {
  const s = sizesFor(quick);
  const startedAt = new Date().toISOString();
  const load = loadSampler();
  console.log(
    `\n== side by side (issue 15)${quick ? ', --quick' : ''}: ${s.jobs.toLocaleString('en-US')} no-op jobs, concurrency 8, ` +
      `webhook ${s.inFlight} POSTs in flight to a sink process, ${s.runs} run(s), medians ==`,
  );
  const skipped = await skipReasons();
  if (!s.extraColumns) skipped['tocsin-pg'] ??= '--quick runs it in the full form only';
  for (const [system, reason] of Object.entries(skipped)) console.log(`  SKIPPED ${LABELS[system as SystemId]}: ${reason}`);
  const facts: string[] = [];
  if (!skipped.bullmq) facts.push(await redisFacts());
  if (!skipped.graphile) facts.push(await pgServerFacts());
  for (const f of facts) console.log(`  ${f}`);

  const runs: Runs = { eventsToFile: {}, webhook: {}, submission: [], scale: {}, crash: {}, ceilings: [] };
  for (let run = 0; run < s.runs; run++) {
    console.log(` run ${run + 1} of ${s.runs}`);
    for (const system of SYSTEMS) {
      if (skipped[system]) continue;
      if (system === 'tocsin' || system === 'tocsin-pg' || system === 'graphile') {
        await runSystem(system, s, runs);
        continue;
      }
      const persistence = system === 'bullmq' ? 'none' : 'aof-everysec';
      let entered = false;
      try {
        await withPersistence(persistence, async () => {
          entered = true;
          await runSystem(system, s, runs);
        });
      } catch (e) {
        if (entered) throw e;
        skipped[system] = `CONFIG SET on Redis was refused (${(e as Error).message}): cannot run with ${PERSISTENCE_LABEL[persistence]}`;
        console.log(`  SKIPPED ${LABELS[system]}: ${skipped[system]}`);
      }
    }
    const c = await inChild<CeilingsResult>({ workload: 'ceilings', sizes: s }, 'ceilings');
    if (c) runs.ceilings.push(c);
  }

  const loadAverage = load.stop();
  const present = SYSTEMS.filter((sys) => !skipped[sys]);
  const rows = buildRows(runs, s);
  const machine = machineFacts();
  console.log(`\n== side by side: medians of ${s.runs} run(s) ==\n${machine}`);
  console.log(`load average (1 min) during the run: min ${loadAverage.min.toFixed(2)}, median ${loadAverage.median.toFixed(2)}, max ${loadAverage.max.toFixed(2)}`);
  for (const sys of present) console.log(`  ${sys}: ${LABELS[sys]}`);
  console.log(formatRows(rows, present));
  const notes = tableNotes(s);
  console.log(notes.join('\n'));

  mkdirSync(RESULTS_DIR, { recursive: true });
  const title = `Tocsin beside BullMQ and graphile-worker, ${startedAt.slice(0, 10)}${quick ? ' (--quick)' : ''}: medians of ${s.runs} run(s), load average ${loadAverage.median.toFixed(1)}`;
  writeFileSync(join(RESULTS_DIR, 'side-by-side.svg'), chartSvg(rows, title));
  const json = { startedAt, finishedAt: new Date().toISOString(), quick, machine, loadAverage, servers: facts, systems: LABELS, skipped, sizes: s, rows, runs };
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  const legend = `${machine}; load average (1 min) during the run ${loadAverage.min.toFixed(1)}-${loadAverage.max.toFixed(1)} (median ${loadAverage.median.toFixed(1)})`;
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${title}\n\n${legend}\n\n${markdownRows(rows, present)}\n\n${notes.join('\n\n')}\n`);
  console.log(`written: ${['latest.json', 'latest.md', 'side-by-side.svg'].map((f) => join(RESULTS_DIR, f)).join(', ')}`);
}

await runBenchScript<Scenario>(import.meta.url, runScenario, () => runSideBySide(process.argv.includes('--quick')));

/**
 * graphile-worker (0.17.3, a dev dependency) driven on the benchmarks' work:
 *  - `graphileQueue`: graphile-worker as a QueueUnderTest (bench/side-by-side.ts): a runner with
 *    concurrency 8 (Tocsin's MaximumThreads), default settings and a no-op task; its `events`
 *    emitter's job:start and job:success go to the job event output (a line each to a text file,
 *    one write per line as Tocsin's TextFileHandler does, or a POST per completion); pause stops
 *    the runner, resume starts a new one;
 *  - `runGraphile`: bench/cluster.ts's throughput scenario, in the same run (with the library's own pools, see there): `actions` no-op
 *    jobs added first (addJobs, like Tocsin's submissions to a paused queue), then a runner started
 *    and timed until a line has been appended for every job's start and success. A warm-up of
 *    `warmup` jobs runs first, so the figure is of a warm runner.
 * Each on a fresh database of its own; the library's log lines are dropped (stdout is not what is measured).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { Logger, makeWorkerUtils, run, type Runner, type WorkerEvents } from 'graphile-worker';
import { backendPids, benchDatabase, databaseStats, type BenchDatabase } from './pg-database.js';
import { CpuSpan } from './process-cpu.js';
import { perSecond } from './stats.js';
import { jobEventOutput } from './job-event-output.js';
import { CONCURRENCY, type JobEventTarget, type QueueOptions, type QueueProbe, type QueueUnderTest } from './queue-under-test.js';

export interface GraphileScenario {
  readonly kind: 'graphile';
  readonly actions: number;
  readonly warmup: number;
}

export interface GraphileResult {
  readonly jobsPerSec: number;
  readonly elapsedMs: number;
  readonly lines: number;
  /** CPU ms per 1,000 jobs: the worker process, and the database's backends. */
  readonly nodeCpuPerK: number | undefined;
  readonly pgCpuPerK: number | undefined;
}

const quiet = new Logger(() => () => {});

/** addJobs in slices of this many jobs. */
const BULK_SLICE = 1_000;

/** graphile-worker on the database at `url` (migrated here), events to `target`; close() does not drop the database. */
export async function graphileQueue(url: string, target: JobEventTarget, probe: QueueProbe, options: QueueOptions = {}): Promise<QueueUnderTest> {
  // The library's own pools from the connection string (its default). One shared pool of 10 for
  // the utils and the runner ran cluster.ts's scenario at ~750 jobs/s with 2 ms of database CPU
  // per job, against ~2,600-3,200 and 0.08 ms: not graphile-worker as its users run it. The
  // database is dropped only once these pools' sessions are gone (side-by-side/systems.ts).
  const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
  await utils.migrate();
  const work = options.work;
  const output = jobEventOutput(target, probe);
  // Given to run(), so no event comes before these listeners.
  const events = new EventEmitter() as WorkerEvents;
  events.on('job:start', ({ job }) => output.started(job.id));
  events.on('job:success', ({ job }) => {
    probe.jobCompleted();
    output.completed(job.id);
  });
  let runner: Runner | undefined;
  let n = 0;
  return {
    async addOne() {
      return (await utils.addJob('noop', { i: n++ })).id;
    },
    async addMany(count) {
      for (let i = 0; i < count; i += BULK_SLICE) {
        await utils.addJobs(Array.from({ length: Math.min(BULK_SLICE, count - i) }, () => ({ identifier: 'noop', payload: { i: n++ } })));
      }
    },
    async resume() {
      runner ??= await run({
        connectionString: url,
        concurrency: CONCURRENCY,
        noHandleSignals: true,
        logger: quiet,
        events,
        taskList: {
          noop: async (_payload, helpers) => {
            if (work) await work(helpers.job.id);
            probe.jobEnded(helpers.job.id);
          },
        },
      });
    },
    async pause() {
      const r = runner;
      runner = undefined;
      await r?.stop();
    },
    async close() {
      await runner?.stop().catch(() => undefined);
      runner = undefined;
      await output.close();
      await utils.release();
    },
  };
}

/**
 * bench/cluster.ts's throughput scenario on graphile-worker (see the header), with the library's
 * own pools (its default: a pool per runner and per utils, from the connection string). Measured:
 * with one shared pool of 10 (as graphileQueue has) this scenario ran at ~750 jobs/s with 2 ms of
 * database CPU per job instead of ~2,600 jobs/s and 0.08 ms, so the shared pool is not used here.
 */
export async function runGraphile(s: GraphileScenario): Promise<GraphileResult> {
  const db = await benchDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-graphile-'));
  const fd = openSync(join(dir, 'events.log'), 'a');
  let runner: Runner | undefined;
  try {
    const utils = await makeWorkerUtils({ connectionString: db.url, logger: quiet });
    await utils.migrate();
    let lines = 0;
    let succeeded = 0;
    let target = 0;
    let done: (() => void) | undefined;
    // Given to run(), so no event comes before these listeners.
    const events = new EventEmitter() as WorkerEvents;
    events.on('job:start', ({ job }) => {
      writeSync(fd, `${JSON.stringify({ type: 'start', id: job.id, task: job.task_identifier })}\n`);
      lines++;
    });
    events.on('job:success', ({ job }) => {
      writeSync(fd, `${JSON.stringify({ type: 'success', id: job.id, task: job.task_identifier })}\n`);
      lines++;
      if (++succeeded >= target) done?.();
    });
    const start = () => run({ connectionString: db.url, concurrency: 8, noHandleSignals: true, logger: quiet, events, taskList: { noop: async () => {} } });
    const add = async (count: number) => {
      const specs = Array.from({ length: count }, (_, i) => ({ identifier: 'noop', payload: { i } }));
      for (let i = 0; i < specs.length; i += 1000) await utils.addJobs(specs.slice(i, i + 1000));
    };
    const until = (count: number) => {
      target = succeeded + count;
      return new Promise<void>((resolve) => (done = resolve));
    };

    runner = await start();
    const warm = until(s.warmup);
    await add(s.warmup);
    await warm;
    await runner.stop();
    // The measured jobs go in while no runner is up, then one starts: the processing alone is timed.
    await add(s.actions);
    const linesBefore = lines;
    const finished = until(s.actions);
    const nodeCpu = process.cpuUsage();
    const pgCpu = new CpuSpan();
    const t0 = performance.now();
    runner = await start();
    // The runner's connections exist once it has started (the first milliseconds of their CPU are missed).
    pgCpu.start(await backendPids(db.name));
    await finished;
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(nodeCpu);
    const pgMs = pgCpu.stop();
    await utils.release();
    const perK = (ms: number | undefined) => (ms === undefined ? undefined : (ms * 1000) / s.actions);
    return {
      jobsPerSec: perSecond(s.actions, elapsedMs),
      elapsedMs,
      lines: lines - linesBefore,
      nodeCpuPerK: perK((cpu.user + cpu.system) / 1000),
      pgCpuPerK: perK(pgMs),
    };
  } finally {
    await runner?.stop().catch(() => undefined);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
    // The library ends its pools without waiting for them: a connection still open when the drop
    // terminates it errors on a pool nobody listens to any more, which ends this process.
    await databaseStats(db.name, 5_000);
    await db.drop();
  }
}

/**
 * graphile-worker (0.17.3, a dev dependency) on the work of bench/cluster.ts's throughput scenarios,
 * in the same run: `actions` no-op jobs added first (addJobs, like Tocsin's submissions to a paused
 * queue), then a runner with concurrency 8 (Tocsin's MaximumThreads) and default settings started
 * and timed until a line has been appended to a text file for every job's start and success (its
 * `events` emitter: job:start, job:success), one write per line as Tocsin's TextFileHandler does.
 * A warm-up of `warmup` jobs runs first, so the figure is of a warm runner. On a fresh database of
 * its own; the library's log lines are dropped (stdout is not what is measured).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { Logger, makeWorkerUtils, run, type Runner, type WorkerEvents } from 'graphile-worker';
import { backendPids, benchDatabase, databaseStats } from './pg-database.js';
import { CpuSpan } from './process-cpu.js';
import { perSecond } from './stats.js';

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

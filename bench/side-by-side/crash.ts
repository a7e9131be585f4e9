/**
 * Crash (issue 15: "kill -9 one second into 5,000 jobs of 5 ms on each system, restart"), on one
 * system: a worker process (crash-worker.ts) adds `crashJobs` jobs of `crashJobMs` and starts on
 * them; `crashKillAfterMs` later it gets SIGKILL; a new worker process is started at once on the
 * same jobs (same Tocsin DataDirectory, BullMQ queue, graphile-worker database), with every setting
 * at the system's default, so its own recovery is what is measured. Completion events go to a
 * sink process (lib/http-sink.ts), which outlives both workers. Counted:
 *  - lost: a job whose body ended (its `e` mark) but whose completion event never reached the sink
 *    (waited for until `crashEventGraceMs` after the last job ended, or after the bound);
 *  - run twice: a job whose body started more than once (`s` marks): every interrupted job, if it
 *    is run again, and worse, any that had ended before the kill (counted apart: "ended, run again");
 *  - duplicate events: completion events beyond the first for a job, and of those, redeliveries
 *    (an event id the sink had already had: delivered before the kill, its delivery not yet noted);
 *  - recovery: from the restart (the new process spawned) until every job's body has ended, and
 *    until every job interrupted by the kill (its body started, not ended) has run again (a job a
 *    peer had fetched but not yet begun is not among those, only in the first); bounded by
 *    `crashBoundMs`: a system not done by then is reported "not within", with how many jobs had
 *    not ended, never waited for longer (graphile-worker's default lock expiry is 4 hours;
 *    BullMQ moves a stalled job back after its lock expires, 30 s by default).
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { HttpSink, SinkReceipts } from '../lib/http-sink.js';
import { benchDatabase } from '../lib/pg-database.js';
import { BENCH_REDIS_URL } from '../lib/redis-server.js';
import { now } from '../lib/summary.js';
import { JobMarks } from './crash-marks.js';
import { WORKING, type CrashWorkerArgs } from './crash-worker.js';
import type { Sizes } from './sizes.js';
import type { SystemId } from './systems.js';

export interface CrashResult {
  readonly jobs: number;
  readonly endedBeforeKill: number;
  /** Started and not ended when the worker was killed. */
  readonly interrupted: number;
  readonly lost: number;
  readonly runTwice: number;
  /** Of those, jobs whose body had ended before the kill. */
  readonly endedRunAgain: number;
  readonly duplicateEvents: number;
  /** Of those, events whose id had already arrived. */
  readonly redelivered: number;
  /** Restart → every job ended, ms; NaN: not within `boundMs`. */
  readonly recoveryMs: number;
  /** Restart → every interrupted job ended again, ms; NaN: not within `boundMs` (or none was interrupted). */
  readonly interruptedRerunMs: number;
  /** Jobs whose body had not ended when the recovery wait ended (at the bound), and of those, interrupted ones. */
  readonly unfinished: number;
  readonly interruptedUnfinished: number;
  readonly boundMs: number;
}

const WORKER_SCRIPT = fileURLToPath(new URL('./crash-worker.js', import.meta.url));
const POLL_MS = 20;
/** After the sink has as many events as jobs, for any still on the way. */
const SETTLE_MS = 500;

interface CrashHome {
  readonly home: string;
  remove(): Promise<void>;
}

/** Where the system keeps the jobs both workers see, and how to remove it. */
async function crashHome(system: SystemId, dir: string): Promise<CrashHome> {
  if (system === 'tocsin') {
    const home = join(dir, 'data');
    mkdirSync(home);
    return { home, remove: async () => {} };
  }
  if (system === 'graphile') {
    const db = await benchDatabase();
    return { home: db.url, remove: () => db.drop() };
  }
  const name = `tocsin-bench-crash-${randomBytes(6).toString('hex')}`;
  return {
    home: name,
    async remove() {
      const queue = new Queue(name, { connection: { url: BENCH_REDIS_URL } });
      try {
        await queue.obliterate({ force: true });
      } finally {
        await queue.close();
      }
    },
  };
}

interface WorkerProcess {
  /** Resolves once its workers take jobs; rejects if it ends first. */
  readonly working: Promise<void>;
  readonly exited: () => boolean;
  kill(): Promise<void>;
}

function startWorker(args: CrashWorkerArgs): WorkerProcess {
  const child = spawn(process.execPath, [WORKER_SCRIPT, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const working = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes(WORKING)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`crash worker (${args.system}) ended with ${signal ?? `code ${code}`} before it took jobs`)));
  });
  const killNow = () => child.kill('SIGKILL');
  process.once('exit', killNow);
  return {
    working,
    exited: () => exited,
    async kill() {
      if (!exited) killNow();
      await exit;
      process.removeListener('exit', killNow);
    },
  };
}

/** Follows the marks until every job has ended or `deadline`; the moments, epoch ms. */
async function followRecovery(marks: JobMarks, interrupted: ReadonlySet<string>, jobs: number, deadline: number, worker: WorkerProcess): Promise<{ allAt?: number; interruptedAt?: number }> {
  const waiting = new Set(interrupted);
  let interruptedAt: number | undefined;
  while (now() < deadline) {
    for (const key of marks.read()) waiting.delete(key);
    const t = now();
    if (interruptedAt === undefined && waiting.size === 0) interruptedAt = t;
    if (marks.ended.size >= jobs) return { allAt: t, interruptedAt };
    if (worker.exited()) throw new Error('the restarted worker ended on its own');
    await sleep(POLL_MS);
  }
  return interruptedAt === undefined ? {} : { interruptedAt };
}

/** The completion events, once there is one per job or the grace has passed. */
async function completionEvents(sink: HttpSink, jobs: number, graceMs: number): Promise<SinkReceipts> {
  const all = sink.expect(jobs).then(() => sleep(SETTLE_MS));
  await Promise.race([all, sleep(graceMs)]);
  return sink.collect();
}

export async function crash(system: SystemId, s: Sizes, sink: HttpSink): Promise<CrashResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-crash-'));
  const marksFile = join(dir, 'marks.log');
  writeFileSync(marksFile, '');
  const home = await crashHome(system, dir);
  const args: CrashWorkerArgs = { system, home: home.home, marksFile, target: { kind: 'webhook', url: `http://127.0.0.1:${sink.port}/e`, inFlight: s.inFlight }, jobMs: s.crashJobMs, add: s.crashJobs };
  const workers: WorkerProcess[] = [];
  try {
    const first = startWorker(args);
    workers.push(first);
    await first.working;
    await sleep(s.crashKillAfterMs);
    await first.kill();
    const marks = new JobMarks(marksFile);
    marks.read();
    const endedBeforeKill = new Set(marks.ended);
    const interrupted = marks.unended();

    const restartedAt = now();
    const second = startWorker({ ...args, add: 0 });
    workers.push(second);
    second.working.catch(() => {}); // an early end is seen by followRecovery
    const { allAt, interruptedAt } = await followRecovery(marks, interrupted, s.crashJobs, restartedAt + s.crashBoundMs, second);
    const unfinished = s.crashJobs - marks.ended.size;
    const interruptedUnfinished = [...interrupted].filter((key) => !marks.ended.has(key)).length;
    const { tokens, ids } = await completionEvents(sink, s.crashJobs, s.crashEventGraceMs);
    marks.read();
    const withEvent = new Set(tokens);
    return {
      jobs: s.crashJobs,
      endedBeforeKill: endedBeforeKill.size,
      interrupted: interrupted.size,
      lost: [...marks.ended].filter((key) => !withEvent.has(key)).length,
      runTwice: marks.runTwice(),
      endedRunAgain: [...endedBeforeKill].filter((key) => (marks.starts.get(key) ?? 0) > 1).length,
      duplicateEvents: tokens.length - withEvent.size,
      redelivered: ids.length - new Set(ids).size,
      recoveryMs: allAt === undefined ? Number.NaN : allAt - restartedAt,
      interruptedRerunMs: interruptedAt === undefined || interrupted.size === 0 ? Number.NaN : interruptedAt - restartedAt,
      unfinished,
      interruptedUnfinished,
      boundMs: s.crashBoundMs,
    };
  } finally {
    for (const w of workers) await w.kill();
    await home.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

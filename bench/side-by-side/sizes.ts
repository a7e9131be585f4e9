/**
 * How much work each workload of the side-by-side benchmark does, full and `--quick` (which must
 * finish in under two minutes on our 2-core machines with every peer present). Environment
 * variables override: JOBS, ONE_AT_A_TIME, WEBHOOK_JOBS, IN_FLIGHT, RUNS, SCALE_WAITING (e.g.
 * 1000,100000,1000000), CRASH_JOBS, CRASH_BOUND_MS.
 */
export interface Pace {
  /** Jobs added per second, one by one. */
  readonly perSec: number;
  readonly jobs: number;
}

export interface Sizes {
  /** W1: jobs added in bulk and timed through the workers. */
  readonly jobs: number;
  /** W1: jobs added one at a time (awaited one by one); they are then the workers' warm-up. */
  readonly oneAtATime: number;
  /** W2: jobs of the burst, and of its warm-up. */
  readonly webhookJobs: number;
  readonly webhookWarmup: number;
  /** W2: the paced loads. */
  readonly paces: readonly Pace[];
  /** W2: POSTs in flight at once, for every system and the ceiling alike. */
  readonly inFlight: number;
  /** Submission over HTTP: requests one at a time, and with `httpInFlight` in flight. */
  readonly httpOne: number;
  readonly httpMany: number;
  readonly httpInFlight: number;
  /** A system that has not produced every line or receipt this long after its jobs completed is reported short. */
  readonly lateMs: number;
  readonly runs: number;
  /** Scale: the backlogs (jobs waiting), smallest first; a queue of its own for each. */
  readonly scaleWaiting: readonly number[];
  /** Scale: submissions timed one by one with each backlog waiting. */
  readonly scaleSubmits: number;
  /** Scale: jobs through the workers before the timed claims (start-up, first fetch), then timed. */
  readonly scaleWarmIn: number;
  readonly scaleClaims: number;
  /** Crash: jobs of `crashJobMs` each; the worker is killed `crashKillAfterMs` after it starts on them. */
  readonly crashJobs: number;
  readonly crashJobMs: number;
  readonly crashKillAfterMs: number;
  /**
   * Scale and crash on BullMQ with AOF, and scale on Tocsin's PostgreSQL store. Off in --quick (for
   * its two minutes): the crash kills the worker, not Redis, so AOF has nothing to do there; scale
   * runs BullMQ without it, and Tocsin on its default store.
   */
  readonly extraColumns: boolean;
  /** Crash: how long after the restart every job may take to finish before the system is reported short. */
  readonly crashBoundMs: number;
  /** Crash: how long completion events may trail the last job's end. */
  readonly crashEventGraceMs: number;
}

const env = (name: string, fallback: number) => (process.env[name] !== undefined ? Number(process.env[name]) : fallback);

export function sizes(quick: boolean): Sizes {
  const jobs = env('JOBS', quick ? 3_000 : 10_000);
  return {
    jobs,
    oneAtATime: env('ONE_AT_A_TIME', quick ? 500 : 2_000),
    webhookJobs: env('WEBHOOK_JOBS', quick ? 2_000 : jobs),
    webhookWarmup: quick ? 300 : 1_000,
    paces: quick
      ? [{ perSec: 500, jobs: 750 }, { perSec: 5_000, jobs: 2_500 }]
      : [{ perSec: 500, jobs: 2_500 }, { perSec: 5_000, jobs: 10_000 }],
    inFlight: env('IN_FLIGHT', 8),
    httpOne: quick ? 500 : 2_000,
    httpMany: quick ? 3_000 : 10_000,
    httpInFlight: 64,
    lateMs: quick ? 5_000 : 15_000,
    runs: env('RUNS', quick ? 1 : 3),
    scaleWaiting: (process.env.SCALE_WAITING ?? (quick ? '1000,100000' : '1000,100000,1000000')).split(',').map(Number),
    scaleSubmits: quick ? 300 : 500,
    scaleWarmIn: 500,
    scaleClaims: quick ? 1_000 : 2_000,
    crashJobs: env('CRASH_JOBS', quick ? 2_000 : 5_000),
    crashJobMs: 5,
    crashKillAfterMs: 1_000,
    extraColumns: !quick,
    crashBoundMs: env('CRASH_BOUND_MS', quick ? 3_000 : 60_000),
    crashEventGraceMs: quick ? 1_000 : 5_000,
  };
}

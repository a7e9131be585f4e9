/**
 * How much work each workload of the side-by-side benchmark does, full and `--quick` (which must
 * finish in under two minutes on our 2-core machines with every peer present). Environment
 * variables override: JOBS, ONE_AT_A_TIME, WEBHOOK_JOBS, IN_FLIGHT, RUNS.
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
  };
}

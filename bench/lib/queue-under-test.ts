/**
 * One job queue as the side-by-side benchmark (bench/side-by-side.ts) drives it, whichever system
 * it is: Tocsin, BullMQ or graphile-worker, each through its public API with default settings.
 * The workloads see only these verbs, so every system does the same steps in the same order.
 */

/** Where a system sends its job events: a line per start and completion, a POST per completion, or nowhere (the queue alone). */
export type JobEventTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly inFlight: number }
  | { readonly kind: 'none' };

/** What the workloads watch; the system calls these from its own event sources. */
export interface QueueProbe {
  /** A line was appended to the event file. */
  lineWritten(): void;
  /** The job's function returned (the moment a completion's latency is counted from). */
  jobEnded(key: string): void;
  /** The system recorded the job as completed. */
  jobCompleted(): void;
}

export interface QueueUnderTest {
  /** Adds one no-op job and resolves once the system has accepted it; its key (token or job id). */
  addOne(): Promise<string>;
  /** Adds `count` no-op jobs the system's bulk way. */
  addMany(count: number): Promise<void>;
  /** Workers take jobs (the first call starts them). */
  resume(): Promise<void>;
  /** Workers take no new jobs. */
  pause(): Promise<void>;
  /** Stops everything and removes what the run left behind. */
  close(): Promise<void>;
}

/** Jobs run at once by every system: Tocsin's MaximumThreads, BullMQ's and graphile-worker's concurrency. */
export const CONCURRENCY = 8;

/** What the crash workload needs of a driver; the other workloads take the defaults. */
export interface QueueOptions {
  /** The job's body, given the job's key; default: returns at once. */
  readonly work?: (key: string) => Promise<void>;
  /**
   * Where the system keeps its jobs, so that a worker started again finds those of one that was
   * killed: Tocsin's DataDirectory, BullMQ's queue name (graphile-worker's database is given apart).
   * Given: close() leaves it for the caller to remove. Default: a fresh one, removed by close().
   */
  readonly home?: string;
}

export type QueueFactory = (target: JobEventTarget, probe: QueueProbe, options?: QueueOptions) => Promise<QueueUnderTest>;

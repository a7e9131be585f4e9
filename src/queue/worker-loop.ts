import { MAX_TIMER_MS } from '../common/timers.js';

/**
 * The worker loop of one slot (one of a queue's MaximumThreads). It sees only `claim`, `run` and
 * `waitForWork`; batching, wake-ups and storage live behind those (STYLE.md lesson 1).
 */
export interface WorkerLoopDeps<J> {
  /** The next action for this slot, or undefined when none is waiting. */
  claim(): Promise<J | undefined>;
  /** Run the action to its end (settling it is the runner's job). Never rejects. */
  run(job: J): Promise<void>;
  /** Resolve on a nudge (new work), after a bounded poll interval, or when `signal` aborts. */
  waitForWork(signal: AbortSignal): Promise<void>;
}

export async function workerLoop<J>(deps: WorkerLoopDeps<J>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    let job: J | undefined;
    try {
      job = await deps.claim();
    } catch {
      job = undefined; // the committer logged it; wait and try again
    }
    if (signal.aborted) return;
    if (job === undefined) {
      await deps.waitForWork(signal);
      continue;
    }
    await deps.run(job);
  }
}

/**
 * Idle slots of one queue wait here. `wake(n)` releases up to n of them (one per new action), so a
 * single enqueue does not send every idle slot to the store. A bounded poll is the correctness
 * floor for work this node was not told about (another node's enqueue, a missed nudge).
 */
export class IdleSlots {
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly pollMs: number) {}

  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        const i = this.waiting.indexOf(done);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, Math.min(this.pollMs, MAX_TIMER_MS));
      signal.addEventListener('abort', done, { once: true });
      this.waiting.push(done);
    });
  }

  wake(count = Infinity): void {
    for (let i = 0; i < count && this.waiting.length > 0; i++) this.waiting[0]!();
  }
}

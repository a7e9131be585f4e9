/**
 * Scale (issue 15: "submit and claim cost with 1k, 100k and 1M actions waiting; flat is the goal"),
 * one backlog size on any QueueUnderTest, with no job events (the queue alone):
 *  1. workers paused, `waiting` + `scaleWarmIn` + `scaleClaims` no-op jobs added the system's bulk
 *     way (the backlog: at least `waiting` stay behind the claims below, so even the smallest size
 *     has that many waiting throughout; the rate is noted, not compared);
 *  2. `scaleSubmits` jobs added one by one, each awaited and timed (after 200 untimed): the cost of
 *     submitting one more with the backlog waiting;
 *  3. workers resumed: after `scaleWarmIn` completions (start-up, first fetch), the next
 *     `scaleClaims` are timed: jobs/s claimed and completed from the head of the backlog.
 * The workload runs once per size, each in a child process and a queue of its own; the table shows
 * each figure per size and the largest backlog's over the smallest's (flat = 1×).
 */
import type { QueueFactory, QueueProbe } from '../lib/queue-under-test.js';
import { latencies, perSecond, type LatencySummary } from '../lib/stats.js';
import { now } from '../lib/summary.js';
import { Tally } from '../lib/tally.js';
import type { Sizes } from './sizes.js';

export interface ScaleResult {
  /** Jobs still waiting when the last timed claim completes (at least). */
  readonly waiting: number;
  readonly fillPerSec: number;
  /** Per submission, ms. */
  readonly submit: LatencySummary;
  /** NaN if the claims had not all completed within the deadline. */
  readonly claimsPerSec: number;
}

/** A system this far behind on its timed claims is reported short, not waited for. */
const CLAIMS_DEADLINE_MS = 60_000;
/** Untimed first, so that every backlog size is measured on a warm submission path (JIT, connections). */
const UNTIMED_SUBMITS = 200;

export async function scale(create: QueueFactory, s: Sizes, waiting: number): Promise<ScaleResult> {
  const completed = new Tally();
  const probe: QueueProbe = { lineWritten: () => {}, jobEnded: () => {}, jobCompleted: () => completed.tick() };
  const queue = await create({ kind: 'none' }, probe);
  try {
    await queue.pause();
    const backlog = waiting + s.scaleWarmIn + s.scaleClaims;
    const t = now();
    await queue.addMany(backlog);
    const fillPerSec = perSecond(backlog, now() - t);

    for (let i = 0; i < UNTIMED_SUBMITS; i++) await queue.addOne();
    const samples: number[] = [];
    for (let i = 0; i < s.scaleSubmits; i++) {
      const t0 = now();
      await queue.addOne();
      samples.push(now() - t0);
    }

    const warm = completed.reach(s.scaleWarmIn, CLAIMS_DEADLINE_MS);
    const timed = completed.reach(s.scaleWarmIn + s.scaleClaims, CLAIMS_DEADLINE_MS);
    await queue.resume();
    const [from, to] = [await warm, await timed];
    const claimsPerSec = from === undefined || to === undefined ? Number.NaN : perSecond(s.scaleClaims, to - from);
    return { waiting, fillPerSec, submit: latencies(samples), claimsPerSec };
  } finally {
    await queue.close();
  }
}

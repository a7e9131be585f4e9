/**
 * W1, events to a file, on any QueueUnderTest: a line appended on every job's start and completion.
 *  1. workers paused, `oneAtATime` jobs added one by one, each awaited: enqueue/s one at a time;
 *  2. workers resumed until those ran and their lines are in (the warm-up), paused again;
 *  3. `jobs` added the system's bulk way: enqueue/s bulk;
 *  4. workers resumed and timed: completed/s (all recorded as completed), time to the last line,
 *     and the process's peak RSS over 3-4 (a peer's server, Redis or PostgreSQL, is not counted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueFactory, QueueProbe } from '../lib/queue-under-test.js';
import { PeakRss } from '../lib/rss.js';
import { perSecond } from '../lib/stats.js';
import { now } from '../lib/summary.js';
import { Tally } from '../lib/tally.js';
import type { Sizes } from './sizes.js';

export interface EventsToFileResult {
  readonly enqueueOnePerSec: number;
  readonly enqueueBulkPerSec: number;
  readonly completedPerSec: number;
  /** From the workers' resume to the last line; NaN if lines were missing. */
  readonly lastLineMs: number;
  readonly lines: number;
  readonly expectedLines: number;
  readonly peakRss: number;
}

export async function eventsToFile(create: QueueFactory, s: Sizes): Promise<EventsToFileResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-w1-'));
  const lines = new Tally();
  const completed = new Tally();
  const probe: QueueProbe = { lineWritten: () => lines.tick(), jobEnded: () => {}, jobCompleted: () => completed.tick() };
  const queue = await create({ kind: 'file', path: join(dir, 'events.log') }, probe);
  try {
    await queue.pause();
    let t = now();
    for (let i = 0; i < s.oneAtATime; i++) await queue.addOne();
    const enqueueOnePerSec = perSecond(s.oneAtATime, now() - t);
    await queue.resume();
    await completed.reach(s.oneAtATime);
    await lines.reach(2 * s.oneAtATime, s.lateMs);
    await queue.pause();
    const linesBefore = lines.count;
    const completedBefore = completed.count;

    t = now();
    await queue.addMany(s.jobs);
    const enqueueBulkPerSec = perSecond(s.jobs, now() - t);
    const rss = new PeakRss();
    const allCompleted = completed.reach(completedBefore + s.jobs);
    const t0 = now();
    await queue.resume();
    const completedAt = (await allCompleted)!;
    const lastLineAt = await lines.reach(linesBefore + 2 * s.jobs, s.lateMs);
    return {
      enqueueOnePerSec,
      enqueueBulkPerSec,
      completedPerSec: perSecond(s.jobs, completedAt - t0),
      lastLineMs: lastLineAt === undefined ? Number.NaN : lastLineAt - t0,
      lines: lines.count - linesBefore,
      expectedLines: 2 * s.jobs,
      peakRss: rss.stop(),
    };
  } finally {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

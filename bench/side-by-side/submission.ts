/**
 * Submission over the wire, Tocsin's side: ACI HTTP `action=Noop` requests to a Tocsin server
 * with its queue paused (so the figure is the submission alone, like BullMQ's `add` and
 * graphile-worker's `addJob` with no worker running, which W1 measures for the peers), from a
 * load generator in a worker thread (lib/http-load.ts): `httpOne` requests one at a time, then
 * `httpMany` with `httpInFlight` in flight. A warm-up of 200 requests goes first.
 */
import { runHttpLoad, type HttpLoadResult } from '../lib/http-load.js';
import { perSecond } from '../lib/stats.js';
import { tocsinQueue } from '../lib/tocsin-queue.js';
import type { Sizes } from './sizes.js';

export interface SubmissionResult {
  readonly onePerSec: number;
  readonly manyPerSec: number;
  readonly errors: number;
}

const rateOf = (load: HttpLoadResult) => perSecond(load.tokens.length - load.errors, load.endedAt - load.startedAt);

export async function tocsinSubmission(s: Sizes): Promise<SubmissionResult> {
  const ignore = () => {};
  const queue = await tocsinQueue({ kind: 'file', path: '/dev/null' }, { lineWritten: ignore, jobEnded: ignore, jobCompleted: ignore });
  try {
    await queue.pause();
    const load = (count: number, concurrency: number) => runHttpLoad({ url: queue.url, path: '/action=Noop', count, concurrency });
    await load(200, 8);
    const one = await load(s.httpOne, 1);
    const many = await load(s.httpMany, s.httpInFlight);
    for (const l of [one, many]) if (l.firstError) process.stderr.write(`HTTP submission errors (${l.errors}), first: ${l.firstError}\n`);
    return { onePerSec: rateOf(one), manyPerSec: rateOf(many), errors: one.errors + many.errors };
  } finally {
    await queue.close();
  }
}

/**
 * W2, a webhook per completion, on any QueueUnderTest, to a sink in another process
 * (lib/http-sink.ts, startHttpSinkProcess) with `inFlight` POSTs at most in flight:
 *  - burst: after a warm-up, `webhookJobs` added in bulk with the workers paused, then resumed;
 *    events/s from the resume to the last receipt;
 *  - paced: jobs added one by one at `perSec` (not awaited one by one) with the workers running;
 *    events/s from the first add to the last receipt (the pace, if the system keeps up).
 * Latency: from the job's function returning (noted per job) to its first receipt at the sink
 * (both clocks `performance.timeOrigin + performance.now()`). In the burst it is mostly backlog.
 */
import type { HttpSink, SinkReceipts } from '../lib/http-sink.js';
import type { QueueFactory, QueueProbe } from '../lib/queue-under-test.js';
import { submitPaced } from '../lib/paced.js';
import { PeakRss } from '../lib/rss.js';
import { latencies, perSecond, type LatencySummary } from '../lib/stats.js';
import { now } from '../lib/summary.js';
import type { Sizes } from './sizes.js';

export interface WebhookLoad {
  /** 0: the burst. */
  readonly perSec: number;
  readonly eventsPerSec: number;
  readonly latency: LatencySummary;
  readonly received: number;
  readonly expected: number;
}

export interface WebhookResult {
  readonly loads: WebhookLoad[];
  readonly peakRss: number;
}

/** Key → first receipt time. */
function firstReceipts(r: SinkReceipts): Map<string, number> {
  const first = new Map<string, number>();
  r.tokens.forEach((t, i) => {
    if (!first.has(t)) first.set(t, r.receivedAt[i]!);
  });
  return first;
}

/** Waits for `count` receipts (at most `lateMs` after `settled`), then reads them against `ended`. */
async function measure(sink: HttpSink, count: number, settled: Promise<unknown>, lateMs: number, t0: number, ended: Map<string, number>, perSec: number): Promise<WebhookLoad> {
  const reached = sink.expect(count);
  await settled;
  await Promise.race([reached, new Promise((r) => setTimeout(r, lateMs))]);
  const first = firstReceipts(await sink.collect());
  const samples: number[] = [];
  let last = 0;
  for (const [key, at] of first) {
    const end = ended.get(key);
    if (end === undefined) continue;
    samples.push(at - end);
    last = Math.max(last, at);
  }
  ended.clear();
  return { perSec, eventsPerSec: perSecond(samples.length, last - t0), latency: latencies(samples), received: samples.length, expected: count };
}

export async function webhook(create: QueueFactory, s: Sizes, sink: HttpSink): Promise<WebhookResult> {
  const ended = new Map<string, number>();
  let completed = 0;
  const probe: QueueProbe = { lineWritten: () => {}, jobEnded: (key) => void ended.set(key, now()), jobCompleted: () => void completed++ };
  const queue = await create({ kind: 'webhook', url: `http://127.0.0.1:${sink.port}/e`, inFlight: s.inFlight }, probe);
  // Bounded: a system far behind (or losing jobs) is measured on what it did by then, not waited for.
  const until = async (target: number, deadlineMs = 60_000) => {
    const deadline = now() + deadlineMs;
    while (completed < target && now() < deadline) await new Promise((r) => setTimeout(r, 2));
  };
  try {
    const loads: WebhookLoad[] = [];
    await queue.resume();
    await queue.addMany(s.webhookWarmup);
    await measure(sink, s.webhookWarmup, until(s.webhookWarmup), s.lateMs, now(), ended, 0);
    await queue.pause();
    await queue.addMany(s.webhookJobs);
    const rss = new PeakRss();
    const burstDone = completed + s.webhookJobs;
    let t0 = now();
    await queue.resume();
    loads.push(await measure(sink, s.webhookJobs, until(burstDone), s.lateMs, t0, ended, 0));
    for (const pace of s.paces) {
      const target = completed + pace.jobs;
      t0 = now();
      const added = submitPaced(pace.jobs, pace.perSec, () => queue.addOne());
      loads.push(await measure(sink, pace.jobs, added.then(() => until(target, s.lateMs)), s.lateMs, t0, ended, pace.perSec));
    }
    return { loads, peakRss: rss.stop() };
  } finally {
    await queue.close();
  }
}

/**
 * What the machine allows with no queue at all, measured in the same run as the systems:
 *  - POST loop: `webhookJobs` bare undici POSTs of the same event document, `inFlight` in flight over
 *    as many keep-alive connections, to the same kind of sink process: W2's ceiling;
 *  - append loop: 2 × `jobs` writeSync appends of a W1 line to a file;
 *  - job loop: `jobs` no-op jobs through an in-memory 8-wide pool, no persistence;
 *  - job loop with appends: the same with a line written at each start and completion: W1's ceiling.
 * Each is run once unmeasured first (JIT), then timed.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { HttpSink } from '../lib/http-sink.js';
import { finishedDocument } from '../lib/job-event-output.js';
import { runPool } from '../lib/pool.js';
import { CONCURRENCY } from '../lib/queue-under-test.js';
import { perSecond } from '../lib/stats.js';
import { now } from '../lib/summary.js';
import type { Sizes } from './sizes.js';

export interface CeilingsResult {
  readonly postsPerSec: number;
  readonly appendsPerSec: number;
  readonly jobsPerSec: number;
  readonly jobsWithLinesPerSec: number;
  /** The job loop with appends: time for `jobs` jobs, ms. */
  readonly jobsWithLinesMs: number;
}

async function timed(run: () => Promise<void>): Promise<number> {
  await run();
  const t0 = now();
  await run();
  return now() - t0;
}

async function postLoop(sink: HttpSink, count: number, inFlight: number): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${sink.port}`, { connections: inFlight });
  const docs = Array.from({ length: count }, (_, i) => finishedDocument(`ceiling-${i}`));
  try {
    const run = async () => {
      const reached = sink.expect(count);
      await runPool(count, inFlight, async (i) => {
        const { body, headers } = docs[i]!;
        const res = await pool.request({ method: 'POST', path: '/e', body, headers });
        await res.body.dump();
      });
      await reached;
      await sink.collect();
    };
    return perSecond(count, await timed(run));
  } finally {
    await pool.close();
  }
}

export async function ceilings(s: Sizes, sink: HttpSink): Promise<CeilingsResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-ceiling-'));
  const fd = openSync(join(dir, 'events.log'), 'a');
  const line = (type: string, i: number) => writeSync(fd, `${JSON.stringify({ type, id: String(i), at: Date.now() })}\n`);
  const noop = async () => {};
  try {
    const appendsMs = await timed(async () => {
      for (let i = 0; i < s.jobs; i++) {
        line('start', i);
        line('completed', i);
      }
    });
    const jobsMs = await timed(() => runPool(s.jobs, CONCURRENCY, () => noop()));
    const withLinesMs = await timed(() =>
      runPool(s.jobs, CONCURRENCY, async (i) => {
        line('start', i);
        await noop();
        line('completed', i);
      }),
    );
    return {
      postsPerSec: await postLoop(sink, s.webhookJobs, s.inFlight),
      appendsPerSec: perSecond(2 * s.jobs, appendsMs),
      jobsPerSec: perSecond(s.jobs, jobsMs),
      jobsWithLinesPerSec: perSecond(s.jobs, withLinesMs),
      jobsWithLinesMs: withLinesMs,
    };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

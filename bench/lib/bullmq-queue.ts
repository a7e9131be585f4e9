/**
 * BullMQ (6.7.0 with ioredis 6, dev dependencies) as a QueueUnderTest: a Queue, a Worker with
 * concurrency 8 and a no-op processor, and a QueueEvents whose 'active' and 'completed' events go
 * to the job event output (the W1: "BullMQ QueueEvents 'active'/'completed'"); everything
 * else at BullMQ's defaults (no QueueEvents for a `none` target). The queue has a random name and
 * is obliterated on close, unless the options name it (`home`: kept for the caller).
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { jobEventOutput } from './job-event-output.js';
import { CONCURRENCY, type JobEventTarget, type QueueOptions, type QueueProbe, type QueueUnderTest } from './queue-under-test.js';
import { BENCH_REDIS_URL } from './redis-server.js';

/** addBulk in slices of this many jobs (graphile-throughput.ts's addJobs slices alike). */
const BULK_SLICE = 1_000;

export async function bullmqQueue(target: JobEventTarget, probe: QueueProbe, options: QueueOptions = {}): Promise<QueueUnderTest> {
  const name = options.home ?? `tocsin-bench-${randomBytes(6).toString('hex')}`;
  const connection = { url: BENCH_REDIS_URL };
  const output = jobEventOutput(target, probe);
  const queue = new Queue(name, { connection });
  const events = target.kind === 'none' ? undefined : new QueueEvents(name, { connection });
  events?.on('active', ({ jobId }) => output.started(jobId));
  events?.on('completed', ({ jobId }) => output.completed(jobId));
  await Promise.all([queue.waitUntilReady(), events?.waitUntilReady()]);
  const work = options.work;
  const worker = new Worker(
    name,
    async (job) => {
      if (work) await work(job.id!);
      probe.jobEnded(job.id!);
    },
    { connection, concurrency: CONCURRENCY, autorun: false },
  );
  worker.on('completed', () => probe.jobCompleted());
  await worker.waitUntilReady();
  let running: Promise<void> | undefined;
  let n = 0;
  return {
    async addOne() {
      return (await queue.add('noop', { i: n++ })).id!;
    },
    async addMany(count) {
      for (let i = 0; i < count; i += BULK_SLICE) {
        await queue.addBulk(Array.from({ length: Math.min(BULK_SLICE, count - i) }, () => ({ name: 'noop', data: { i: n++ } })));
      }
    },
    async resume() {
      if (running) worker.resume();
      else running = worker.run();
    },
    async pause() {
      // Before run() there is nothing to pause (a worker paused before it runs never starts).
      if (running) await worker.pause();
    },
    async close() {
      await worker.close();
      await running;
      await events?.close();
      await output.close();
      if (options.home === undefined) await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

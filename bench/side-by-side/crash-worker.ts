/**
 * The worker process of the crash workload (crash.ts starts it, kills it with SIGKILL one second
 * into its jobs, and starts it again on the same jobs): one system's queue through its driver
 * (lib/*-queue.ts, default settings), opened on the `home` crash.ts made, completion events POSTed
 * to the sink in crash.ts's process (Tocsin: HttpHandler from its outbox; the peers from their
 * completion event, as in W2). Each job appends `s <key>` to the marks file as its body starts and
 * `e <key>` as it ends, with a write(2) each: the kernel has them even if the process dies next.
 *
 *   node dist/bench/side-by-side/crash-worker.js '<CrashWorkerArgs as JSON>'
 *
 * Prints `WORKING` once its workers take jobs (after adding `add` jobs with them paused).
 */
import { openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { bullmqQueue } from '../lib/bullmq-queue.js';
import { isMainModule } from '../lib/child.js';
import { graphileQueue } from '../lib/graphile-throughput.js';
import type { JobEventTarget, QueueOptions, QueueProbe, QueueUnderTest } from '../lib/queue-under-test.js';
import { tocsinQueue } from '../lib/tocsin-queue.js';
import type { SystemId } from './systems.js';

export interface CrashWorkerArgs {
  readonly system: SystemId;
  /** Tocsin's DataDirectory, BullMQ's queue name, graphile-worker's database URL. */
  readonly home: string;
  readonly marksFile: string;
  readonly target: JobEventTarget;
  readonly jobMs: number;
  /** Jobs to add before the workers start: the first start's; 0 on the restart. */
  readonly add: number;
}

export const WORKING = 'WORKING';

function open(a: CrashWorkerArgs, probe: QueueProbe, work: QueueOptions['work']): Promise<QueueUnderTest> {
  if (a.system === 'tocsin') return tocsinQueue(a.target, probe, { work, home: a.home });
  if (a.system === 'tocsin-pg') throw new Error('the crash workload is not run on Tocsin with PostgreSQL');
  if (a.system === 'graphile') return graphileQueue(a.home, a.target, probe, { work });
  return bullmqQueue(a.target, probe, { work, home: a.home });
}

async function main(a: CrashWorkerArgs): Promise<void> {
  const fd = openSync(a.marksFile, 'a');
  const work = async (key: string) => {
    writeSync(fd, `s ${key}\n`);
    await sleep(a.jobMs);
    writeSync(fd, `e ${key}\n`);
  };
  const ignore = () => {};
  const queue = await open(a, { lineWritten: ignore, jobEnded: ignore, jobCompleted: ignore }, work);
  if (a.add > 0) {
    await queue.pause();
    await queue.addMany(a.add);
  }
  await queue.resume();
  process.stdout.write(`${WORKING}\n`);
  // Runs until killed: crash.ts ends both starts with SIGKILL.
}

if (isMainModule(import.meta.url)) await main(JSON.parse(process.argv[2] ?? 'null') as CrashWorkerArgs);

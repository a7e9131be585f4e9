/**
 * Tocsin as a QueueUnderTest: a server in this process (lib/server.ts: fresh DataDirectory, or the
 * options' `home`; SQLite, the default `Durability=process`, or the PostgreSQL store at
 * `postgresUrl`), MaximumThreads=8, a `Noop` action
 * running the options' work, and its own event handlers (lib/tocsin-config.ts): OnStart and
 * OnFinish to a TextFileHandler (counted by a thin wrapper) for a file target, OnFinish to an
 * HttpHandler with MaxConcurrentDeliveries = the target's `inFlight` for a webhook. Jobs are added
 * through the library API (`scheduler.submit`); pause and resume are QueueInfo's
 * (`setQueuePaused`). `url` is the ACI address, for submissions over HTTP.
 */
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import type { EventHandler, HandlerFactory } from '../../src/events/handler.js';
import { textFileHandlerFactory } from '../../src/events/handlers/textfile.js';
import { startBenchServer } from './server.js';
import { tocsinConfig } from './tocsin-config.js';
import { CONCURRENCY, type JobEventTarget, type QueueOptions, type QueueProbe, type QueueUnderTest } from './queue-under-test.js';

const QUEUE = 'Noop';
/** addMany submits this many at once: a million promises at once would measure the heap, not the queue. */
const BULK_SLICE = 10_000;

/** TextFileHandler, with every line written reported to the probe. */
function countedTextFile(probe: QueueProbe): HandlerFactory {
  return {
    libraryName: 'CountedTextFile',
    defaultPolicy: textFileHandlerFactory.defaultPolicy,
    create(section, context, start) {
      const inner = textFileHandlerFactory.create(section, context, start);
      if (!inner) return undefined;
      const handler: EventHandler = {
        async deliver(event, signal) {
          await inner.deliver(event, signal);
          probe.lineWritten();
        },
        close: () => inner.close(),
      };
      return handler;
    },
  };
}

export interface TocsinQueue extends QueueUnderTest {
  readonly url: string;
}

export async function tocsinQueue(target: JobEventTarget, probe: QueueProbe, options: QueueOptions = {}, postgresUrl?: string): Promise<TocsinQueue> {
  const work = options.work;
  const noop: AsyncActionDefinition = {
    name: QUEUE,
    run: async (ctx) => {
      if (work) await work(ctx.token);
      probe.jobEnded(ctx.token);
    },
  };
  const config = tocsinConfig({ threads: CONCURRENCY, maxQueueSize: 10_000_000, events: target, textFileLibrary: 'CountedTextFile', ...(postgresUrl ? { postgresUrl } : {}) });
  const bench = await startBenchServer({ config, actions: [noop], handlers: [countedTextFile(probe)], ...(options.home ? { dir: options.home } : {}) });
  const { scheduler } = bench.server;
  scheduler.onSettled(() => probe.jobCompleted());
  return {
    url: bench.server.url,
    async addOne() {
      return (await scheduler.submit(QUEUE, [])).token;
    },
    async addMany(count) {
      for (let i = 0; i < count; i += BULK_SLICE) {
        await Promise.all(Array.from({ length: Math.min(BULK_SLICE, count - i) }, () => scheduler.submit(QUEUE, [])));
      }
    },
    resume: () => scheduler.setQueuePaused(QUEUE, false),
    pause: () => scheduler.setQueuePaused(QUEUE, true),
    close: () => bench.close(),
  };
}

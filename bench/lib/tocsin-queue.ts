/**
 * Tocsin as a QueueUnderTest: a server in this process (lib/server.ts: fresh DataDirectory, SQLite,
 * the default `Durability=process`), MaximumThreads=8, a no-op `Noop` action, and its own event
 * handlers: OnStart and OnFinish to a TextFileHandler (counted by a thin wrapper) for a file
 * target, OnFinish to an HttpHandler with MaxConcurrentDeliveries = the target's `inFlight` for a
 * webhook. Jobs are added through the library API (`scheduler.submit`); pause and resume are
 * QueueInfo's (`setQueuePaused`). `url` is the ACI address, for submissions over HTTP.
 */
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import type { EventHandler, HandlerFactory } from '../../src/events/handler.js';
import { textFileHandlerFactory } from '../../src/events/handlers/textfile.js';
import { startBenchServer } from './server.js';
import { CONCURRENCY, type JobEventTarget, type QueueProbe, type QueueUnderTest } from './queue-under-test.js';

const QUEUE = 'Noop';

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

function config(target: JobEventTarget): string {
  const actions = `[Actions]\nMaximumThreads=${CONCURRENCY}\nMaximumQueueSize=10000000\n`;
  if (target.kind === 'file') {
    return `${actions}OnStart=EventLog\nOnFinish=EventLog\n\n[EventLog]\nLibraryName=CountedTextFile\nFilePath=${target.path}\n`;
  }
  return `${actions}OnFinish=Hook\n\n[Hook]\nLibraryName=HttpHandler\nURL=${target.url}\nMaxConcurrentDeliveries=${target.inFlight}\n`;
}

export interface TocsinQueue extends QueueUnderTest {
  readonly url: string;
}

export async function tocsinQueue(target: JobEventTarget, probe: QueueProbe): Promise<TocsinQueue> {
  const noop: AsyncActionDefinition = {
    name: QUEUE,
    run: async (ctx) => {
      probe.jobEnded(ctx.token);
    },
  };
  const bench = await startBenchServer({ config: config(target), actions: [noop], handlers: [countedTextFile(probe)] });
  const { scheduler } = bench.server;
  scheduler.onSettled(() => probe.jobCompleted());
  return {
    url: bench.server.url,
    async addOne() {
      return (await scheduler.submit(QUEUE, [])).token;
    },
    async addMany(count) {
      await Promise.all(Array.from({ length: count }, () => scheduler.submit(QUEUE, [])));
    },
    resume: () => scheduler.setQueuePaused(QUEUE, false),
    pause: () => scheduler.setQueuePaused(QUEUE, true),
    close: () => bench.close(),
  };
}

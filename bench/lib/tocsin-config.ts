/**
 * The config text of a benchmark's Tocsin server (after `[Server]`, which lib/server.ts writes):
 * `[Actions]` with MaximumThreads and MaximumQueueSize, optionally Durability or the PostgreSQL
 * store, and the job events
 * of a JobEventTarget: a file gets OnStart and OnFinish to a text-file handler (the real
 * TextFileHandler, or a bench wrapper of it named by `textFileLibrary`), a webhook gets OnFinish to
 * an HttpHandler with MaxConcurrentDeliveries = its `inFlight`, `none` gets no handler.
 * One builder for bench/events.ts and lib/tocsin-queue.ts, so both run the same server.
 */
import type { Durability } from './child.js';
import type { JobEventTarget } from './queue-under-test.js';

export interface TocsinBenchConfig {
  readonly threads: number;
  readonly maxQueueSize: number;
  /** Absent: the server's default (`process`). */
  readonly durability?: Durability;
  /** The PostgreSQL store at this URL instead of SQLite (then `durability` does not apply). */
  readonly postgresUrl?: string;
  readonly events: JobEventTarget;
  /** The LibraryName of a file target's handler (default: TextFileHandler). */
  readonly textFileLibrary?: string;
}

function eventsConfig(target: JobEventTarget, textFileLibrary: string): { actions: string; sections: string } {
  if (target.kind === 'file') {
    return { actions: 'OnStart=EventLog\nOnFinish=EventLog\n', sections: `\n[EventLog]\nLibraryName=${textFileLibrary}\nFilePath=${target.path}\n` };
  }
  if (target.kind === 'webhook') {
    return { actions: 'OnFinish=Hook\n', sections: `\n[Hook]\nLibraryName=HttpHandler\nURL=${target.url}\nMaxConcurrentDeliveries=${target.inFlight}\n` };
  }
  return { actions: '', sections: '' };
}

export function tocsinConfig(c: TocsinBenchConfig): string {
  const events = eventsConfig(c.events, c.textFileLibrary ?? 'TextFileHandler');
  const durability = c.durability === undefined ? '' : `Durability=${c.durability}\n`;
  const store = c.postgresUrl === undefined ? '' : `DatastoreType=postgres\nConnectionString=${c.postgresUrl}\n`;
  return `[Actions]\nMaximumThreads=${c.threads}\nMaximumQueueSize=${c.maxQueueSize}\n${durability}${store}${events.actions}${events.sections}`;
}

/**
 * Starts and stops the checkpoint thread of a SQLite store (checkpoint-worker.ts); the store's own
 * connection never checkpoints (`wal_autocheckpoint = 0`).
 *
 * Why: a checkpoint copies the WAL into the database file and fsyncs twice, even at
 * synchronous=NORMAL. Done by the store's connection every 1000 pages (SQLite's default), it
 * stalled the main thread a few ms at a time. Measured (bench/events.ts, quiet 2-core box):
 * p99 status change → line 23-25 → 14-17 ms, 9,300-9,500 → 9,800-10,600 actions/s; what it costs
 * elsewhere is in decisions.md "Durability and speed". synchronous=OFF would save as much, but an OS
 * crash could then corrupt the file instead of losing the last commits.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logger.js';

export interface CheckpointerSetup {
  readonly file: string;
  readonly synchronous: 'NORMAL' | 'FULL';
  readonly intervalMs: number;
  /** How long a RESTART waits for the writer's transaction (busy timeout). */
  readonly restartWaitMs: number;
}

export type CheckpointerMessage = { readonly type: 'error'; readonly message: string } | { readonly type: 'closed' };

/**
 * How often the WAL is copied back. Pages written again soon after (an event row, then its
 * delivered mark) are copied once per round; 100 ms and 500 ms measured the same.
 */
const INTERVAL_MS = 500;
const RESTART_WAIT_MS = 1_000;
/** A final checkpoint that has not answered by then is abandoned (the WAL is replayed at next open). */
const CLOSE_LIMIT_MS = 5_000;

export class Checkpointer {
  private readonly worker: Worker;
  private lastError = '';

  constructor(file: string, synchronous: CheckpointerSetup['synchronous'], log?: Logger) {
    const setup: CheckpointerSetup = { file, synchronous, intervalMs: INTERVAL_MS, restartWaitMs: RESTART_WAIT_MS };
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: setup });
    // A crash of the process leaves a WAL that the next open replays: nothing to keep alive for.
    this.worker.unref();
    this.worker.on('message', (message: CheckpointerMessage) => {
      // Logged once per distinct message: a disk that stays full would otherwise log every round.
      if (message.type === 'error' && message.message !== this.lastError) {
        this.lastError = message.message;
        log?.warn('WAL checkpoint failed; retrying', { error: message.message });
      }
    });
    this.worker.on('error', (error) => log?.error('the WAL checkpoint thread failed', { error: error.message }));
  }

  /** One last checkpoint, then the thread ends. Call before closing the writer's connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_LIMIT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.on('message', (message: CheckpointerMessage) => message.type === 'closed' && done());
      this.worker.once('exit', done);
    });
    this.worker.postMessage({ type: 'close' });
    await closed;
    await this.worker.terminate();
  }
}

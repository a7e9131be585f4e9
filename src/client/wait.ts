/**
 * Waiting for an action to end without a busy loop: GetStatus at growing intervals (100 ms,
 * then ×1.5 up to `maxIntervalMs`, 2 s by default), back to the shortest interval whenever the
 * record changed (progress moves, it starts), so a short action is seen ending within ~100 ms
 * and a long one costs one small request every 2 s.
 */
import { TocsinError } from '../common/errors.js';
import { FINAL_STATUSES, type ActionStatus } from '../queue/record.js';
import type { ActionStatusRecord } from './status-record.js';

export interface WaitOptions {
  /** Give up after this long (WAIT_TIMEOUT, carrying the last record). Default: no limit. */
  readonly timeoutMs?: number;
  /** Stop waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Called with the first record and each one that differs from the last (status, progress). */
  readonly onUpdate?: (record: ActionStatusRecord) => void;
  /** Longest pause between two reads, default 2000 ms. */
  readonly maxIntervalMs?: number;
}

const FIRST_INTERVAL_MS = 100;
const GROWTH = 1.5;

/** Thrown by wait() on timeout; `record` is the last one read. */
export class WaitTimeoutError extends TocsinError {
  constructor(readonly record: ActionStatusRecord, timeoutMs: number) {
    super('WAIT_TIMEOUT', `The action is still ${record.status} after ${timeoutMs / 1000} s`);
    this.name = 'WaitTimeoutError';
  }
}

export async function waitForEnd(read: (signal?: AbortSignal) => Promise<ActionStatusRecord>, options: WaitOptions): Promise<ActionStatusRecord> {
  const deadline = options.timeoutMs !== undefined ? Date.now() + options.timeoutMs : Infinity;
  const maxInterval = options.maxIntervalMs ?? 2000;
  let interval = FIRST_INTERVAL_MS;
  let last = '';
  for (;;) {
    options.signal?.throwIfAborted();
    const record = await read(options.signal);
    const seen = JSON.stringify([record.status, record.progress]);
    if (seen !== last) {
      last = seen;
      interval = FIRST_INTERVAL_MS;
      options.onUpdate?.(record);
    }
    if (FINAL_STATUSES.has(record.status as ActionStatus)) return record;
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(record, options.timeoutMs!);
    await pause(Math.min(interval, left), options.signal);
    interval = Math.min(interval * GROWTH, maxInterval);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

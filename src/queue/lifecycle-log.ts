/**
 * Debug lines for each step of every action (`[Logging] LogLevel=debug`): queued, started,
 * ended (or cancelled), each with its token, so one token's story greps out of the log. Costs a level check per
 * step at info and above.
 */
import type { Logger } from '../common/logger.js';
import type { ActionRecord } from './record.js';
import type { Scheduler } from './scheduler.js';

export function logActionLifecycle(scheduler: Scheduler, log: Logger): () => void {
  const line = (message: string, record: ActionRecord, extra: Record<string, unknown> = {}) =>
    log.debug(message, { token: record.token, queue: record.queue, ...extra });
  const off = [
    scheduler.onSubmitted((r) => line('action queued', r, { priority: r.priority })),
    scheduler.onStarted((r) => line('action started', r, { attempt: r.attempts })),
    scheduler.onSettled((r) => line('action ended', r, { status: r.status, ...(r.error !== undefined ? { error: r.error } : {}) })),
    scheduler.onCancelled((r) => line('action cancelled', r)),
  ];
  return () => off.forEach((f) => f());
}

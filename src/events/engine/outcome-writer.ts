/**
 * Hands delivery outcomes to `record` (the store's recordOutcomes) in batches. Outcomes are
 * idempotent, so a failed write is retried; if the process dies first, the events are still
 * pending and are delivered again (at least once).
 *
 * Two paces, chosen by the store (StoreCapabilities.queuesOutcomes):
 * - a store whose every call is a write (PostgreSQL: a statement) gets the outcomes of one turn of
 *   the event loop together, one batch at a time, the next collecting while one is written;
 * - a store that only queues them for its next group commit (SQLite) gets them at the end of the
 *   microtask checkpoint they were settled in, without waiting for the batch before: they then
 *   ride the very next commit. Waiting for the turn's end and for the previous batch's commit had
 *   outcomes reach the store up to three event-loop turns after their delivery, and a kill -9 in
 *   that window repeats those deliveries (test/faults/kill-loop.test.ts measured 6-7 per handler
 *   per kill as "delivered, outcome not committed").
 */
import { errorText } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { DeliveryOutcome } from '../../store/store.js';

const RETRY_AFTER_FAILURE_MS = 1000;

export type RecordDeliveries = (outcomes: readonly DeliveryOutcome[]) => Promise<void>;

export class OutcomeWriter {
  private pending: DeliveryOutcome[] = [];
  private scheduled = false;
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly record: RecordDeliveries,
    private readonly log: Logger,
    /** The store queues outcomes for its next commit: hand them over at once (see above). */
    private readonly atOnce = false,
  ) {}

  add(outcome: DeliveryOutcome): void {
    this.pending.push(outcome);
    this.schedule();
  }

  async flush(): Promise<void> {
    while (this.writing.size > 0 || this.pending.length > 0) {
      if (this.writing.size > 0) await Promise.all(this.writing);
      else await this.write();
    }
  }

  private schedule(): void {
    if (this.scheduled || (!this.atOnce && this.writing.size > 0)) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.pending.length > 0 && (this.atOnce || this.writing.size === 0)) void this.write();
    };
    if (this.atOnce) queueMicrotask(run);
    else setImmediate(run);
  }

  private write(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const written: Promise<void> = this.record(batch)
      .then(
        () => undefined,
        (e) => {
          this.log.error('cannot record delivery outcomes; retrying', { count: batch.length, error: errorText(e) });
          setTimeout(() => {
            this.pending.unshift(...batch);
            this.schedule();
          }, RETRY_AFTER_FAILURE_MS).unref();
        },
      )
      .finally(() => {
        this.writing.delete(written);
        if (this.pending.length > 0) this.schedule();
      });
    this.writing.add(written);
    return written;
  }
}

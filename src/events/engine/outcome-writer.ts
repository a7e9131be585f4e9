/**
 * Hands delivery outcomes to `record` (the store's recordOutcomes) in batches: the outcomes of one
 * turn of the event loop go together, and while a batch is being recorded the next one collects.
 * Outcomes are idempotent, so a failed write is retried; if the process dies first, the events
 * are still pending and are delivered again (at least once).
 */
import { errorText } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { DeliveryOutcome } from '../../store/store.js';

const RETRY_AFTER_FAILURE_MS = 1000;

export type RecordDeliveries = (outcomes: readonly DeliveryOutcome[]) => Promise<void>;

export class OutcomeWriter {
  private pending: DeliveryOutcome[] = [];
  private scheduled = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly record: RecordDeliveries,
    private readonly log: Logger,
  ) {}

  add(outcome: DeliveryOutcome): void {
    this.pending.push(outcome);
    this.schedule();
  }

  async flush(): Promise<void> {
    while (this.writing || this.pending.length > 0) {
      if (this.writing) await this.writing;
      else await this.write();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.writing) void this.write();
    });
  }

  private write(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.writing = this.record(batch)
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
        this.writing = undefined;
        if (this.pending.length > 0) this.schedule();
      });
    return this.writing;
  }
}

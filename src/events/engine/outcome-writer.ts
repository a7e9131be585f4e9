/**
 * Batches delivery outcomes into one outbox transaction every few milliseconds (the same
 * group-commit idea as the action queue). Outcomes are idempotent, so a failed write is retried;
 * if the process dies first, the events are still pending and are delivered again (at least once).
 */
import { errorText } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { DeliveryOutcome, Outbox } from '../../store/store.js';

const RETRY_AFTER_FAILURE_MS = 1000;
/**
 * Outcomes wait this long to share a transaction. Nothing waits on them (the receiver already has
 * the event); a longer wait only widens the window in which a crash causes a duplicate delivery.
 */
const BATCH_WINDOW_MS = 5;

export class OutcomeWriter {
  private pending: DeliveryOutcome[] = [];
  private scheduled = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly clock: () => number,
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
    setTimeout(() => {
      this.scheduled = false;
      if (!this.writing) void this.write();
    }, BATCH_WINDOW_MS);
  }

  private write(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.writing = this.outbox.recordDeliveries(batch, this.clock()).then(
      () => undefined,
      (e) => {
        this.log.error('cannot record delivery outcomes; retrying', { count: batch.length, error: errorText(e) });
        setTimeout(() => {
          this.pending.unshift(...batch);
          this.schedule();
        }, RETRY_AFTER_FAILURE_MS).unref();
      },
    ).finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0) this.schedule();
    });
    return this.writing;
  }
}

/**
 * Purges final actions and delivered events older than `[Actions] FinishedActionRetention`
 * (decisions.md), now and then.
 */
import { errorText } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Store } from '../store/store.js';

/** How often to purge: often enough that the store never holds much more than the retention. */
const PURGE_EVERY_MS = 60_000;

export class RetentionPurger {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly queues: readonly string[],
    private readonly retentionMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.purgeNow(), Math.min(PURGE_EVERY_MS, Math.max(1000, this.retentionMs / 10)));
    this.timer.unref();
    void this.purgeNow();
  }

  async purgeNow(now = Date.now()): Promise<number> {
    try {
      const purged = await this.store.purgeFinished(this.queues, now - this.retentionMs);
      // Delivered events go with the same retention; failed ones are kept until redelivered.
      const events = await this.store.purgeDelivered(now - this.retentionMs);
      if (purged + events > 0) this.log.info('purged finished actions and delivered events past their retention', { actions: purged, events });
      return purged;
    } catch (e) {
      this.log.error('purge failed', { error: errorText(e) });
      return 0;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/**
 * Group commit: every enqueue, settlement, error report and progress update that arrives while one
 * commit is in flight goes into the next batch, and the batch is one store transaction.
 * One commit at a time; the next starts as soon as the previous ends. A caller's promise resolves
 * only after its change committed, so a token is answered and an event fired only once durable
 * (decisions.md `Durability`).
 *
 * Why: a transaction per status change tops out near 5k/s with fsync and ~30k/s without; one
 * transaction per batch amortises the commit over everything that arrived meanwhile.
 */
import { TocsinError, errorText } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ActionRecord } from './record.js';
import type { EnqueueOutcome, NewAction, ProgressUpdate, ReportedError, Settlement, Store } from '../store/store.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface Pending {
  enqueues: { action: NewAction; waiter: Waiter<EnqueueOutcome> }[];
  settlements: { settlement: Settlement; waiter: Waiter<ActionRecord | undefined> }[];
  reports: ReportedError[];
  progress: Map<number, ProgressUpdate>;
}

const emptyPending = (): Pending => ({ enqueues: [], settlements: [], reports: [], progress: new Map() });

/** Wait before retrying settlements whose commit failed (e.g. disk full). */
const RETRY_AFTER_FAILURE_MS = 1000;

/** Told the duration of each successful commit, in seconds (the `/metrics` histogram). */
export type CommitObserver = (seconds: number) => void;

export class GroupCommitter {
  private pending = emptyPending();
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A commit was asked for with nothing of ours pending (the store writes behind). */
  private kicked = false;

  constructor(
    private readonly store: Store,
    private readonly node: string,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly observe?: CommitObserver,
  ) {}

  enqueue(action: NewAction): Promise<EnqueueOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.enqueues.push({ action, waiter: { resolve, reject } });
      this.schedule();
    });
  }

  settle(settlement: Settlement): Promise<ActionRecord | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.settlements.push({ settlement, waiter: { resolve, reject } });
      this.schedule();
    });
  }

  report(report: ReportedError): void {
    this.pending.reports.push(report);
    this.schedule();
  }

  /** Commit soon even with nothing pending here: the store has writes behind for the batch. */
  kick(): void {
    this.kicked = true;
    this.schedule();
  }

  /** Only the latest progress of an action within a batch is written. */
  progress(update: ProgressUpdate): void {
    this.pending.progress.set(update.id, update);
    this.schedule();
  }

  /** Resolves when everything submitted so far has been committed (or failed). */
  async flush(): Promise<void> {
    while (this.scheduled || this.inFlight || this.hasPending()) {
      if (this.inFlight) await this.inFlight;
      else if (this.hasPending()) await this.runBatch();
      else await new Promise((r) => setImmediate(r));
    }
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private hasPending(): boolean {
    const p = this.pending;
    return p.enqueues.length + p.settlements.length + p.reports.length + p.progress.size > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // setImmediate lets every request and run that is ready in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.inFlight && (this.kicked || this.hasPending())) void this.runBatch();
    });
  }

  private runBatch(): Promise<void> {
    this.kicked = false;
    const batch = this.pending;
    this.pending = emptyPending();
    const run = this.commit(batch).finally(() => {
      this.inFlight = undefined;
      if (this.kicked || this.hasPending()) this.schedule();
    });
    this.inFlight = run;
    return run;
  }

  private async commit(p: Pending): Promise<void> {
    try {
      const startedAt = performance.now();
      const result = await this.store.commit({
        now: this.clock(),
        node: this.node,
        enqueues: p.enqueues.map((e) => e.action),
        settlements: p.settlements.map((s) => s.settlement),
        reports: p.reports,
        progress: [...p.progress.values()],
      });
      this.observe?.((performance.now() - startedAt) / 1000);
      p.enqueues.forEach((e, i) => e.waiter.resolve(result.enqueued[i]!));
      p.settlements.forEach((s, i) => s.waiter.resolve(result.settled[i]));
    } catch (e) {
      this.failed(p, e);
    }
  }

  /**
   * A failed commit: submitters of new actions get the error (nothing of theirs was stored);
   * settlements and reports describe work already done, so they are kept and retried here,
   * never dropped.
   */
  private failed(p: Pending, e: unknown): void {
    const error = e instanceof TocsinError ? e : new TocsinError('STORE_FAILED', errorText(e), { cause: e });
    this.log.error('group commit failed; settlements will be retried', { code: error.code, error: error.message });
    for (const en of p.enqueues) en.waiter.reject(error);
    if (p.settlements.length + p.reports.length + p.progress.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.pending.settlements.push(...p.settlements);
      this.pending.reports.push(...p.reports);
      for (const [id, u] of p.progress) if (!this.pending.progress.has(id)) this.pending.progress.set(id, u);
      this.schedule();
    }, RETRY_AFTER_FAILURE_MS);
    this.retryTimer.unref();
  }
}

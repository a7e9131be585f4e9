/**
 * Group commit: every enqueue, claim, settlement, error report, progress update and event delivery
 * outcome that arrives while one commit is in flight goes into the next batch, and the batch is one
 * store transaction.
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
import type { DeliveryOutcome, NewAction, ProgressUpdate, ReportedError, Settlement, Store } from '../store/store.js';

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface Pending {
  starts: ActionRecord[];
  enqueues: { action: NewAction; waiter: Waiter<ActionRecord | 'full'> }[];
  settlements: { settlement: Settlement; waiter: Waiter<ActionRecord | undefined> }[];
  reports: ReportedError[];
  progress: Map<number, ProgressUpdate>;
  claims: Map<string, Waiter<ActionRecord | undefined>[]>;
  deliveries: { outcomes: readonly DeliveryOutcome[]; waiter: Waiter<void> }[];
}

const emptyPending = (): Pending => ({ starts: [], enqueues: [], settlements: [], reports: [], progress: new Map(), claims: new Map(), deliveries: [] });

/** Wait before retrying settlements whose commit failed (e.g. disk full). */
const RETRY_AFTER_FAILURE_MS = 1000;

export class GroupCommitter {
  private pending = emptyPending();
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private commitWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly node: string,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  enqueue(action: NewAction): Promise<ActionRecord | 'full'> {
    return new Promise((resolve, reject) => {
      this.pending.enqueues.push({ action, waiter: { resolve, reject } });
      this.schedule();
    });
  }

  /** One action for one free slot of `queue`, or undefined when none is waiting. */
  claim(queue: string): Promise<ActionRecord | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.pending.claims.get(queue);
      if (list) list.push({ resolve, reject });
      else this.pending.claims.set(queue, [{ resolve, reject }]);
      this.schedule();
    });
  }

  /** A locally claimed action started (Store.take): its start goes into the next batch. */
  start(record: ActionRecord): void {
    this.pending.starts.push(record);
    this.schedule();
  }

  /** Starts not yet handed to a commit (the local-claim backlog). */
  get pendingStarts(): number {
    return this.pending.starts.length;
  }

  /** Resolves after the next commit ends (successfully or not). */
  nextCommit(): Promise<void> {
    return new Promise((resolve) => {
      this.commitWaiters.push(resolve);
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

  /**
   * Delivery outcomes (the delivery engine's); resolves once they are stored, rejects if their
   * commit failed (their writer retries them, events/engine/outcome-writer.ts).
   */
  recordDeliveries(outcomes: readonly DeliveryOutcome[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.deliveries.push({ outcomes, waiter: { resolve, reject } });
      this.schedule();
    });
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
    return p.starts.length + p.enqueues.length + p.settlements.length + p.reports.length + p.progress.size + p.claims.size + p.deliveries.length > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // setImmediate lets every request and run that is ready in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.inFlight) void this.runBatch();
    });
  }

  private runBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = emptyPending();
    const run = this.commit(batch).finally(() => {
      this.inFlight = undefined;
      this.commitWaiters.splice(0).forEach((resolve) => resolve());
      if (this.hasPending()) this.schedule();
    });
    this.inFlight = run;
    return run;
  }

  private async commit(p: Pending): Promise<void> {
    const claimQueues = [...p.claims.keys()];
    try {
      const result = await this.store.commit({
        now: this.clock(),
        node: this.node,
        starts: p.starts,
        enqueues: p.enqueues.map((e) => e.action),
        settlements: p.settlements.map((s) => s.settlement),
        reports: p.reports,
        progress: [...p.progress.values()],
        claims: claimQueues.map((queue) => ({ queue, max: p.claims.get(queue)!.length })),
        deliveries: p.deliveries.length === 1 ? p.deliveries[0]!.outcomes : p.deliveries.flatMap((d) => d.outcomes),
      });
      p.enqueues.forEach((e, i) => e.waiter.resolve(result.enqueued[i]!));
      p.settlements.forEach((s, i) => s.waiter.resolve(result.settled[i]));
      for (const d of p.deliveries) d.waiter.resolve();
      claimQueues.forEach((queue, i) => {
        const records = result.claimed[i] ?? [];
        p.claims.get(queue)!.forEach((w, j) => w.resolve(records[j]));
      });
    } catch (e) {
      this.failed(p, e);
    }
  }

  /**
   * A failed commit: submitters of new actions and of delivery outcomes get the error (nothing of
   * theirs was stored; the outcomes' writer retries them, and without them the events stay pending,
   * delivered again at worst); slots get no action; starts, settlements and reports describe work
   * already done, so they are kept and retried here, never dropped.
   */
  private failed(p: Pending, e: unknown): void {
    const error = e instanceof TocsinError ? e : new TocsinError('STORE_FAILED', errorText(e), { cause: e });
    this.log.error('group commit failed; settlements will be retried', { code: error.code, error: error.message });
    for (const en of p.enqueues) en.waiter.reject(error);
    for (const d of p.deliveries) d.waiter.reject(error);
    for (const waiters of p.claims.values()) for (const w of waiters) w.resolve(undefined);
    if (p.starts.length + p.settlements.length + p.reports.length + p.progress.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.pending.starts.unshift(...p.starts);
      this.pending.settlements.push(...p.settlements);
      this.pending.reports.push(...p.reports);
      for (const [id, u] of p.progress) if (!this.pending.progress.has(id)) this.pending.progress.set(id, u);
      this.schedule();
    }, RETRY_AFTER_FAILURE_MS);
    this.retryTimer.unref();
  }
}

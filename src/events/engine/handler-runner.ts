/**
 * Delivers the pending events of ONE handler section (decisions.md "Events"):
 * - reads them from the outbox in seq order, from a cursor, into a bounded window, so memory stays
 *   bounded however large the backlog, and a slow or dead handler holds only its own window;
 * - keeps one chain per action (per queue for queue events): only the head of a chain is in
 *   flight or waiting to retry, so events of one action arrive in order (OnStart before OnFinish);
 * - runs heads of different chains concurrently, up to `concurrency`;
 * - retries a failed head after `RetryInterval` (or the receiver's Retry-After, if later) up to
 *   `Retries` more times, then marks it failed (kept, redeliverable) and moves on.
 */
import { errorText } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { DeliveryLease, EventRow, Outbox } from '../../store/store.js';
import { DeliveryError, type DeliveryPolicy, type EventDelivery, type EventHandler } from '../handler.js';
import type { OutcomeWriter } from './outcome-writer.js';

export interface HandlerRunnerOptions {
  readonly name: string;
  readonly handler: EventHandler;
  readonly policy: DeliveryPolicy;
  readonly concurrency: number;
  /** Most events held in memory for this handler. */
  readonly windowSize: number;
  readonly outbox: Outbox;
  readonly writer: OutcomeWriter;
  readonly log: Logger;
  readonly clock: () => number;
  /** Aborted when the server stops. */
  readonly signal: AbortSignal;
  /** Told of every delivery attempt's outcome (metrics); must be cheap and never throw. */
  readonly onAttempt?: AttemptObserver;
}

/** One delivery attempt: how it ended, and when its event was stored (the status change). */
export interface DeliveryAttempt {
  readonly handler: string;
  readonly result: 'delivered' | 'retry' | 'failed';
  readonly createdAt: number;
  readonly now: number;
}

export type AttemptObserver = (attempt: DeliveryAttempt) => void;

const READ_BATCH = 500;

/** One delivery of a stored event: a class, so a delivery is one object (it is made per event). */
class RowDelivery implements EventDelivery {
  readonly id: string;
  readonly type: EventDelivery['type'];
  readonly queue: string;
  readonly token: string | undefined;
  readonly document: string;
  readonly attempt: number;
  readonly createdAt: number;
  // Private fields: a handler that clones or spreads the delivery gets no copy of the row.
  readonly #requestJson: string;
  #request: Record<string, string> | undefined;

  constructor(
    row: EventRow,
    readonly handler: string,
  ) {
    this.#requestJson = row.request;
    this.id = row.eventId;
    this.type = row.type;
    this.queue = row.queue;
    this.token = row.token;
    this.document = row.document;
    this.attempt = row.attempts + 1;
    this.createdAt = row.createdAt;
  }

  /** Parsed on first use: only LuaHandler reads it. */
  get request(): Record<string, string> {
    return (this.#request ??= JSON.parse(this.#requestJson) as Record<string, string>);
  }
}

export class HandlerRunner {
  /** This node's lease on the handler's deliveries; nothing is read or delivered without one. */
  private lease: DeliveryLease | undefined;
  /** performance.now() after which the lease may have lapsed (not renewed since). */
  private leaseValidUntil = Infinity;
  private cursor = 0;
  private readonly chains = new Map<string, EventRow[]>();
  private readonly windowSeqs = new Set<number>();
  private readonly ready: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private filling = false;
  private refill = false;
  private idle: (() => void)[] = [];
  private stopping = false;
  /**
   * True while the outbox may hold pending events of this handler beyond the cursor that are not
   * in the window: at start (events from before), and whenever the window was full when events
   * were offered. Then events are read from the outbox; otherwise they arrive through offer().
   */
  private backlog = true;

  constructor(private readonly o: HandlerRunnerOptions) {}

  get name(): string {
    return this.o.name;
  }

  get handler(): EventHandler {
    return this.o.handler;
  }

  /**
   * Deliver under `lease` (undefined: another node delivers this handler). A new or lost lease
   * drops the window: another node may have delivered or be delivering those events, so they are
   * read again from the outbox under the new lease, from the start.
   */
  setLease(lease: DeliveryLease | undefined, askedAt = performance.now()): void {
    this.leaseValidUntil = lease?.validForMs === undefined ? Infinity : askedAt + lease.validForMs;
    const same = lease !== undefined && this.lease !== undefined && lease.generation === this.lease.generation && lease.node === this.lease.node;
    if (same) {
      this.pump();
      return;
    }
    this.lease = lease;
    this.dropWindow();
    if (lease) this.nudge();
  }

  private dropWindow(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.chains.clear();
    this.windowSeqs.clear();
    this.ready.length = 0;
    this.cursor = 0;
    this.backlog = true;
  }

  /** Events of this handler held in memory (in flight, waiting or retrying): at most windowSize. */
  get held(): number {
    return this.windowSeqs.size;
  }

  /**
   * Events just committed (fast path): taken straight into the window when there is room. One at
   * or behind the cursor was read from the outbox already: where a commit is not on the thread of
   * the reads (another thread or process; session 4's writer thread showed it), a read can see a
   * commit before its events are offered.
   */
  offer(row: EventRow): void {
    if (!this.lease || row.seq <= this.cursor) return;
    if (this.backlog || this.stopping || this.windowSeqs.size >= this.o.windowSize) {
      this.backlog = true;
      this.nudge();
      return;
    }
    this.cursor = Math.max(this.cursor, row.seq);
    this.add(row);
    this.pump();
  }

  /** Events may be in the outbox that were not offered: read from the cursor (coalesced). */
  nudge(): void {
    if (!this.lease) return;
    if (this.filling) {
      this.refill = true;
      return;
    }
    void this.fill();
  }

  /** Read again from `seq` (redelivered events lie behind the cursor). */
  rewind(seq: number): void {
    this.cursor = Math.min(this.cursor, seq - 1);
    this.backlog = true;
    this.nudge();
  }

  /** Start no more deliveries; resolves when nothing is in flight. */
  stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async fill(): Promise<void> {
    this.filling = true;
    try {
      while (!this.stopping && this.lease && this.windowSeqs.size < this.o.windowSize) {
        const want = Math.min(READ_BATCH, this.o.windowSize - this.windowSeqs.size);
        const lease = this.lease;
        const rows = await this.o.outbox.claimDeliveries(lease, this.cursor, want);
        // The lease changed while reading: these rows belong to the old one's window.
        if (lease !== this.lease) continue;
        for (const row of rows) {
          this.cursor = Math.max(this.cursor, row.seq);
          if (!this.windowSeqs.has(row.seq)) this.add(row);
        }
        this.pump();
        if (rows.length < want) {
          if (!this.refill) this.backlog = false;
          break;
        }
      }
    } catch (e) {
      this.o.log.error('cannot read pending events', { handler: this.o.name, error: errorText(e) });
    } finally {
      this.filling = false;
      if (this.refill) {
        this.refill = false;
        this.nudge();
      }
    }
  }

  private add(row: EventRow): void {
    this.windowSeqs.add(row.seq);
    const key = row.token ?? `queue:${row.queue}`;
    const chain = this.chains.get(key);
    if (chain) chain.push(row);
    else {
      this.chains.set(key, [row]);
      this.scheduleHead(key, row.nextAttemptAt);
    }
  }

  private scheduleHead(key: string, dueAt: number): void {
    const delay = dueAt - this.o.clock();
    if (delay <= 0) {
      this.ready.push(key);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(key);
      this.pump();
    }, delay);
    this.timers.add(timer);
  }

  private pump(): void {
    // Past the lease's end on this node's clock (it was paused, or renewals failed): deliver
    // nothing until the lease is confirmed again, another node may hold it now.
    if (performance.now() > this.leaseValidUntil) return;
    while (this.inFlight < this.o.concurrency && this.ready.length > 0 && !this.stopping && this.lease) {
      const key = this.ready.shift()!;
      const head = this.chains.get(key)?.[0];
      if (head) this.deliver(key, head);
    }
  }

  private deliver(key: string, row: EventRow): void {
    this.inFlight++;
    const lease = this.lease;
    // The handler runs in a microtask, never inside pump()'s caller (offer() runs right after a
    // commit); a synchronous throw counts as a failed delivery.
    queueMicrotask(() => {
      let delivered: Promise<void>;
      try {
        delivered = this.o.handler.deliver(new RowDelivery(row, this.o.name), this.o.signal);
      } catch (e) {
        delivered = Promise.reject(e);
      }
      delivered.then(
        () => this.settle(key, row, undefined, lease),
        (e: unknown) => this.settle(key, row, e, lease),
      );
    });
  }

  private settle(key: string, row: EventRow, error: unknown, lease: DeliveryLease | undefined): void {
    this.inFlight--;
    if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
    // Aborted at shutdown: leave the event pending; it is delivered after the restart.
    if (this.o.signal.aborted) return;
    // Delivered under a lease since lost: the window was dropped; the new holder owns the event.
    if (lease !== this.lease) return;
    if (error === undefined) {
      this.o.writer.add({ seq: row.seq, handler: this.o.name, result: 'delivered' });
      this.o.onAttempt?.({ handler: this.o.name, result: 'delivered', createdAt: row.createdAt, now: this.o.clock() });
      this.advance(key);
    } else {
      this.failed(key, row, error);
    }
    this.pump();
    if (this.backlog && this.windowSeqs.size < this.o.windowSize / 2) this.nudge();
  }

  private failed(key: string, row: EventRow, error: unknown): void {
    const attempts = row.attempts + 1;
    const message = errorText(error).slice(0, 2000);
    const retryable = !(error instanceof DeliveryError) || error.retryable;
    if (retryable && attempts <= this.o.policy.retries) {
      const wait = Math.max(this.o.policy.retryIntervalMs, error instanceof DeliveryError ? (error.retryAfterMs ?? 0) : 0);
      const nextAttemptAt = this.o.clock() + wait;
      this.o.writer.add({ seq: row.seq, handler: this.o.name, result: 'retry', attempts, nextAttemptAt, error: message });
      this.o.onAttempt?.({ handler: this.o.name, result: 'retry', createdAt: row.createdAt, now: this.o.clock() });
      this.chains.get(key)![0] = { ...row, attempts, nextAttemptAt, lastError: message };
      this.o.log.warn('event delivery failed; will retry', { handler: this.o.name, eventId: row.eventId, token: row.token, type: row.type, attempt: attempts, retryInMs: wait, error: message });
      this.scheduleHead(key, nextAttemptAt);
      return;
    }
    this.o.writer.add({ seq: row.seq, handler: this.o.name, result: 'failed', attempts, error: message });
    this.o.onAttempt?.({ handler: this.o.name, result: 'failed', createdAt: row.createdAt, now: this.o.clock() });
    this.o.log.error('event delivery failed for good; kept as failed (EventInfo can redeliver it)', { handler: this.o.name, eventId: row.eventId, token: row.token, type: row.type, attempts, error: message });
    this.advance(key);
  }

  /** The head is done: the next event of the chain becomes the head. */
  private advance(key: string): void {
    const chain = this.chains.get(key)!;
    const done = chain.shift()!;
    this.windowSeqs.delete(done.seq);
    const next = chain[0];
    if (next) this.scheduleHead(key, next.nextAttemptAt);
    else this.chains.delete(key);
  }
}

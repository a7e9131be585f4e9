/**
 * The delivery engine: one HandlerRunner per configured handler section, woken after every
 * commit that may have stored events (the store's subscription), with a bounded poll as the floor
 * (retries that come due are timers inside the runners). A runner delivers only while this node
 * holds its handler's lease (one node at a time per handler, decisions.md "Many machines"); the
 * poll also takes and checks the leases.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../../common/logger.js';
import type { EventRow, Outbox, StoreListener } from '../../store/store.js';
import type { ConfiguredHandler } from '../handler-setup.js';
import { HandlerRunner, type AttemptObserver } from './handler-runner.js';
import { OutcomeWriter } from './outcome-writer.js';

export interface DeliveryEngineOptions {
  readonly outbox: Outbox & { subscribe(listener: StoreListener): () => void };
  /** This node (the holder of delivery leases). */
  readonly node: string;
  readonly handlers: ReadonlyMap<string, ConfiguredHandler>;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly pollMs?: number;
  /** NodeLeaseTimeout: delivery leases are renewed well inside it. */
  readonly leaseTimeoutMs?: number;
  /** Events held in memory per handler; the rest wait in the outbox. */
  readonly windowSize?: number;
  /** Told of every delivery attempt's outcome (metrics). */
  readonly onAttempt?: AttemptObserver;
  /** The store only queues outcomes for its next commit (StoreCapabilities.queuesOutcomes). */
  readonly outcomesQueued?: boolean;
}

export class DeliveryEngine {
  private readonly runners = new Map<string, HandlerRunner>();
  private readonly writer: OutcomeWriter;
  private readonly shutdown = new AbortController();
  private poll: NodeJS.Timeout | undefined;
  private nudgeScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private readonly clock: () => number;

  constructor(private readonly o: DeliveryEngineOptions) {
    const clock = (this.clock = o.clock ?? Date.now);
    // Every in-flight delivery listens to this signal (undici adds a listener per request).
    setMaxListeners(0, this.shutdown.signal);
    this.writer = new OutcomeWriter((outcomes) => o.outbox.recordOutcomes(o.node, outcomes), o.log, o.outcomesQueued ?? false);
    for (const [key, h] of o.handlers) {
      this.runners.set(
        key,
        new HandlerRunner({
          name: h.name,
          handler: h.handler,
          policy: h.policy,
          concurrency: h.concurrency,
          windowSize: o.windowSize ?? 2000,
          outbox: o.outbox,
          writer: this.writer,
          log: o.log,
          clock,
          signal: this.shutdown.signal,
          ...(o.onAttempt ? { onAttempt: o.onAttempt } : {}),
        }),
      );
    }
  }

  async start(): Promise<void> {
    this.unsubscribe = this.o.outbox.subscribe({
      eventsStored: (stored) => {
        if ('rows' in stored) this.offer(stored.rows);
        else for (const h of stored.handlers) this.runners.get(h.toLowerCase())?.nudge();
      },
    });
    await this.checkLeases();
    this.poll = setInterval(() => {
      void this.checkLeases();
      this.nudge();
    }, Math.min(this.o.pollMs ?? 1000, Math.floor((this.o.leaseTimeoutMs ?? 15_000) / 3)));
    this.poll.unref();
  }

  /** Take the lease of every handler no live node holds; notice a lease lost. */
  private async checkLeases(): Promise<void> {
    await Promise.all(
      [...this.runners.values()].map(async (runner) => {
        try {
          const askedAt = performance.now();
          runner.setLease(await this.o.outbox.acquireDelivery(runner.name, this.o.node, this.clock()), askedAt);
        } catch (e) {
          this.o.log.warn('cannot take or renew a delivery lease', { handler: runner.name, error: (e as Error).message });
        }
      }),
    );
  }

  /** Events may have been stored: let every runner look (once per turn, however many commits). */
  nudge(): void {
    if (this.nudgeScheduled) return;
    this.nudgeScheduled = true;
    setImmediate(() => {
      this.nudgeScheduled = false;
      for (const r of this.runners.values()) r.nudge();
    });
  }

  /** Events the store just committed: hand each to its handler's runner. */
  offer(rows: readonly EventRow[]): void {
    for (const row of rows) this.runners.get(row.handler.toLowerCase())?.offer(row);
  }

  /** Failed events made pending again behind a runner's cursor. */
  rewind(handler: string, seqs: readonly number[]): void {
    const runner = this.runners.get(handler.toLowerCase());
    if (runner && seqs.length > 0) runner.rewind(Math.min(...seqs));
  }

  /** The handler of a section, for LuaHandler's send(). */
  handler(section: string): ConfiguredHandler | undefined {
    return this.o.handlers.get(section.toLowerCase());
  }

  /** Stop delivering; in-flight deliveries get `graceMs`, then stay pending for the next start. */
  async close(graceMs = 2000): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.unsubscribe?.();
    const drained = Promise.all([...this.runners.values()].map((r) => r.stop()));
    // A ref'd timer: with a handler that never settles, an unref'd one let the event loop empty and
    // close() never resolve (the process exited before the store was closed).
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (grace = setTimeout(r, graceMs)))]);
    clearTimeout(grace);
    this.shutdown.abort();
    await this.writer.flush();
    await Promise.all([...this.o.handlers.values()].map((h) => h.handler.close().catch(() => undefined)));
  }
}

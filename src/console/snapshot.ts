/**
 * The overview the console's live feed pushes: every queue's counts and limits, every handler's
 * delivery counts and latency, and the throughput series. Built once per change for all viewers
 * (live-feed.ts), from Store reads that do not grow with the events kept: queueCounts per queue,
 * eventCounts (a tally), and the latest delivered events of a handler only when its delivered
 * count moved.
 */
import type { Scheduler } from '../queue/scheduler.js';
import type { EventCount, QueueCounts, Store } from '../store/store.js';
import type { ThroughputSeries, ThroughputWindow } from './throughput.js';

/** A queue's counts as the store gives them (QueueCounts), with its name and limits. */
export interface QueueView extends QueueCounts {
  readonly name: string;
  readonly maxThreads: number;
  readonly maxQueueSize: number;
}

export interface Latency {
  /** Status change → delivered, ms, over the `samples` latest deliveries. */
  readonly p50: number;
  readonly p95: number;
  readonly samples: number;
}

export interface HandlerView {
  readonly name: string;
  readonly pending: number;
  readonly delivered: number;
  readonly failed: number;
  readonly latency?: Latency;
}

export interface Snapshot {
  readonly node: string;
  readonly time: number;
  readonly queues: readonly QueueView[];
  readonly handlers: readonly HandlerView[];
  readonly throughput: ThroughputSeries;
}

export interface SnapshotDeps {
  readonly store: Store;
  readonly scheduler: Scheduler;
  readonly handlers: () => readonly string[];
  readonly throughput: ThroughputWindow;
  readonly node: string;
  readonly clock: () => number;
}

const LATENCY_SAMPLES = 100;

export class SnapshotBuilder {
  /** Per handler: the delivered count its latency was measured at, and the figure. */
  private readonly latencies = new Map<string, { delivered: number; latency: Latency | undefined }>();

  constructor(private readonly deps: SnapshotDeps) {}

  async build(): Promise<Snapshot> {
    const { store, scheduler } = this.deps;
    const queues = await Promise.all(
      scheduler.queueNames().map(async (name): Promise<QueueView> => {
        const settings = scheduler.lookup(name)!.settings;
        return { name, ...(await store.queueCounts(name)), maxThreads: settings.maxThreads, maxQueueSize: settings.maxQueueSize };
      }),
    );
    const handlers = await Promise.all(handlerCounts(this.deps.handlers(), await store.eventCounts()).map((h) => this.withLatency(h)));
    return { node: this.deps.node, time: this.deps.clock(), queues, handlers, throughput: this.deps.throughput.series() };
  }

  private async withLatency(h: HandlerView): Promise<HandlerView> {
    let known = this.latencies.get(h.name);
    if (!known || known.delivered !== h.delivered) {
      const rows = h.delivered > 0 ? await this.deps.store.listEvents({ handler: h.name, states: ['delivered'], descending: true, limit: LATENCY_SAMPLES }) : [];
      const waits = rows.flatMap((r) => (r.deliveredAt !== undefined ? [Math.max(0, r.deliveredAt - r.createdAt)] : [])).sort((a, b) => a - b);
      known = { delivered: h.delivered, latency: waits.length > 0 ? { p50: quantile(waits, 0.5), p95: quantile(waits, 0.95), samples: waits.length } : undefined };
      this.latencies.set(h.name, known);
    }
    return known.latency ? { ...h, latency: known.latency } : h;
  }
}

/** Configured handlers first (in order, even with no events yet), then any other name with stored events. */
function handlerCounts(configured: readonly string[], counts: readonly EventCount[]): HandlerView[] {
  const byName = new Map<string, { name: string; pending: number; delivered: number; failed: number }>();
  for (const name of configured) byName.set(name, { name, pending: 0, delivered: 0, failed: 0 });
  for (const c of counts) {
    let h = byName.get(c.handler);
    if (!h) byName.set(c.handler, (h = { name: c.handler, pending: 0, delivered: 0, failed: 0 }));
    h[c.state] += c.count;
  }
  return [...byName.values()];
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

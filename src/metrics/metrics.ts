/**
 * Tocsin's Prometheus metrics (decisions.md "Metrics"), on a registry of their own per server, so
 * several servers in one process (tests, library users) never share or clash.
 *
 * Cost on the hot path: a counter increment or a histogram observation in code paths that already
 * run (a submission answered, a run started or settled, a delivery outcome, a group commit).
 * Gauges (queue depth, running, stored actions and events) are read from the store at scrape time,
 * one `queueCounts` per queue and one `eventCounts`, never kept up to date per change. Measured
 * for the console (docs/decisions.md "Web console at 100,000 actions"): `queueCounts` reads a tally
 * kept by the store, ~0.03 ms on SQLite and ~1 ms on PostgreSQL whatever the queue holds (a GROUP BY
 * took ~30 ms for 100,000 actions before), `eventCounts` under 0.1 ms on SQLite.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActionRecord } from '../queue/record.js';
import type { QueueCounts } from '../store/store.js';
import type { EventCount } from '../store/store.js';
import type { DeliveryAttempt } from '../events/engine/handler-runner.js';

/** What a scrape reads from the store and the settings. */
export interface MetricsSource {
  readonly queues: () => readonly QueueLimits[];
  readonly queueCounts: (queue: string) => Promise<QueueCounts>;
  readonly eventCounts: () => Promise<EventCount[]>;
}

export interface QueueLimits {
  readonly name: string;
  readonly maxThreads: number;
  readonly maxQueueSize: number;
}

/**
 * Buckets in seconds. Actions run from milliseconds (Echo) to hours (command actions): 5 ms to
 * 1 h. Deliveries and waits in the queue: 1 ms to 10 min (a retry is RetryInterval=10 s apart by
 * default, so a third retry lands near 30 s). Commits: 0.1 ms to 1 s (a SQLite group commit
 * measured 0.2-2 ms on the bench machine; fsync with Durability=power adds a few ms).
 */
const RUN_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const WAIT_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 600];
const COMMIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const STORED_STATUSES = [
  ['queued', 'Queued'],
  ['processing', 'Processing'],
  ['pausedActions', 'Paused'],
  ['finished', 'Finished'],
  ['error', 'Error'],
  ['cancelled', 'Cancelled'],
  ['stopped', 'Stopped'],
] as const satisfies readonly (readonly [keyof QueueCounts, string])[];

let processMetrics: Registry | undefined;

/**
 * Node's default metrics (CPU, memory, event-loop lag, GC) describe the process, not a server:
 * collected once per process, from its first scrape. Each collection starts an event-loop delay
 * monitor and a GC observer that are never stopped, so one per server would pile up in a process
 * that starts many servers (the test suite starts hundreds).
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export class TocsinMetrics {
  readonly registry = new Registry();
  private readonly submitted = new Counter({ name: 'tocsin_actions_submitted_total', help: 'Actions queued on this node (submissions and Duplicate)', labelNames: ['queue'], registers: [this.registry] });
  private readonly started = new Counter({ name: 'tocsin_actions_started_total', help: 'Runs started on this node (a run again after a restart counts again)', labelNames: ['queue'], registers: [this.registry] });
  private readonly finished = new Counter({ name: 'tocsin_actions_finished_total', help: 'Actions ended on this node, by final status: runs (Finished, Error, Stopped) and cancellations (Cancelled)', labelNames: ['queue', 'status'], registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'tocsin_action_duration_seconds', help: 'Run time of an action, start to end', labelNames: ['queue', 'status'], buckets: RUN_BUCKETS, registers: [this.registry] });
  private readonly queueWait = new Histogram({ name: 'tocsin_action_queue_seconds', help: 'Time an action waited in its queue, submission to start', labelNames: ['queue'], buckets: WAIT_BUCKETS, registers: [this.registry] });
  private readonly attempts = new Counter({ name: 'tocsin_event_delivery_attempts_total', help: 'Delivery attempts by handler section and result (delivered, retry, failed)', labelNames: ['handler', 'result'], registers: [this.registry] });
  private readonly retries = new Counter({ name: 'tocsin_event_retries_total', help: 'Failed delivery attempts that will be retried', labelNames: ['handler'], registers: [this.registry] });
  private readonly latency = new Histogram({ name: 'tocsin_event_delivery_latency_seconds', help: 'Status change (event stored) to delivered, retries included', labelNames: ['handler'], buckets: WAIT_BUCKETS, registers: [this.registry] });
  private readonly commits = new Histogram({ name: 'tocsin_store_commit_seconds', help: 'Duration of one group commit (one store transaction)', buckets: COMMIT_BUCKETS, registers: [this.registry] });
  private readonly depth = new Gauge({ name: 'tocsin_queue_depth', help: "Actions Queued (waiting to start; paused ones are tocsin_actions{status=\"Paused\"}), cluster-wide", labelNames: ['queue'], registers: [this.registry] });
  private readonly running = new Gauge({ name: 'tocsin_queue_running', help: 'Actions running (Processing), cluster-wide', labelNames: ['queue'], registers: [this.registry] });
  private readonly paused = new Gauge({ name: 'tocsin_queue_paused', help: '1 while the queue is paused', labelNames: ['queue'], registers: [this.registry] });
  private readonly maxThreads = new Gauge({ name: 'tocsin_queue_max_threads', help: 'MaximumThreads (per node)', labelNames: ['queue'], registers: [this.registry] });
  private readonly maxSize = new Gauge({ name: 'tocsin_queue_max_size', help: 'MaximumQueueSize', labelNames: ['queue'], registers: [this.registry] });
  private readonly stored = new Gauge({ name: 'tocsin_actions', help: 'Actions held in the store, by status (finished ones until FinishedActionRetention)', labelNames: ['queue', 'status'], registers: [this.registry] });
  private readonly events = new Gauge({ name: 'tocsin_events', help: 'Events held in the store, by handler section and state (pending, delivered, failed)', labelNames: ['handler', 'state'], registers: [this.registry] });

  constructor(private readonly source: MetricsSource) {}

  actionSubmitted(record: ActionRecord): void {
    this.submitted.inc({ queue: record.queue });
  }

  actionStarted(record: ActionRecord): void {
    this.started.inc({ queue: record.queue });
    if (record.startedAt !== undefined) this.queueWait.observe({ queue: record.queue }, Math.max(0, record.startedAt - record.queuedAt) / 1000);
  }

  actionSettled(record: ActionRecord): void {
    const labels = { queue: record.queue, status: record.status };
    this.finished.inc(labels);
    if (record.startedAt !== undefined && record.endedAt !== undefined) this.duration.observe(labels, Math.max(0, record.endedAt - record.startedAt) / 1000);
  }

  /** A waiting action cancelled: it ends without a run (no duration). */
  actionCancelled(record: ActionRecord): void {
    this.finished.inc({ queue: record.queue, status: 'Cancelled' });
  }

  deliveryAttempt(attempt: DeliveryAttempt): void {
    this.attempts.inc({ handler: attempt.handler, result: attempt.result });
    if (attempt.result === 'retry') this.retries.inc({ handler: attempt.handler });
    if (attempt.result === 'delivered') this.latency.observe({ handler: attempt.handler }, Math.max(0, attempt.now - attempt.createdAt) / 1000);
  }

  commitTook(seconds: number): void {
    this.commits.observe(seconds);
  }

  private reading: Promise<void> | undefined;

  /**
   * The text a scrape answers: gauges read from the store now, then every metric. Scrapes that
   * arrive while the gauges are being read share that read (two Prometheus servers, a retry).
   */
  async scrape(): Promise<string> {
    await (this.reading ??= this.readGauges().finally(() => (this.reading = undefined)));
    const [own, node] = await Promise.all([this.registry.metrics(), processRegistry().metrics()]);
    return (own.endsWith('\n') ? own : own + '\n') + node;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async readGauges(): Promise<void> {
    const queues = this.source.queues();
    const [counts, events] = await Promise.all([Promise.all(queues.map((q) => this.source.queueCounts(q.name))), this.source.eventCounts()]);
    queues.forEach((q, i) => {
      const c = counts[i]!;
      const queue = { queue: q.name };
      this.depth.set(queue, c.queued);
      this.running.set(queue, c.processing);
      this.paused.set(queue, c.paused ? 1 : 0);
      this.maxThreads.set(queue, q.maxThreads);
      this.maxSize.set(queue, q.maxQueueSize);
      for (const [field, status] of STORED_STATUSES) this.stored.set({ queue: q.name, status }, c[field] as number);
    });
    // A handler whose events were all purged reads 0, not its last value.
    this.events.reset();
    for (const e of events) this.events.set({ handler: e.handler, state: e.state }, e.count);
  }
}

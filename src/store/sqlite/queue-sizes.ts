/**
 * Queue sizes (actions waiting to start) and the last queue event, kept in memory for speed and
 * changed only through a transaction-scoped stage, so a rolled-back transaction leaves them as
 * they were. Safe because one process owns the database (the data directory lock, see database.ts).
 *
 * Every size change runs the queue-event state machine (idol-reference.md §3.3) through the
 * EventPlanner, one step per action, so no transition is skipped inside a batch.
 */
import type Database from 'better-sqlite3';
import type { EventPlanner, NewEvent, QueueEventType } from '../store.js';

interface QueueState {
  size: number;
  last: QueueEventType;
}

/**
 * Every queue's state is read from the table at once, when the store opens and after a bulk change
 * (`reset`), never lazily: a read inside a transaction would see that transaction's own writes,
 * and a start or Cancel written before the first read of its queue was then counted twice (after a
 * restart, MaximumQueueSize let one action too many in). A queue missing from the map therefore
 * has nothing waiting and has fired no queue event.
 */
export class QueueSizes {
  private readonly states = new Map<string, QueueState>();
  private readonly queueNames: Database.Statement<[], string>;
  private readonly countWaiting: Database.Statement<[string, string], number>;
  private readonly readLast: Database.Statement<[], { name: string; last: QueueEventType }>;
  private readonly writeLast: Database.Statement<[string, string]>;

  constructor(db: Database.Database, private readonly planner: EventPlanner) {
    // Each queue name once, by seeks along the claim index (queue, status, ...), not a scan of
    // every action: finished ones are kept for days (measured, 1,000,000 actions: a GROUP BY
    // over the index took ~100 ms).
    this.queueNames = db
      .prepare<[], string>(
        `WITH RECURSIVE q(name) AS (
           SELECT MIN(queue) FROM actions
           UNION ALL SELECT (SELECT MIN(queue) FROM actions WHERE queue > q.name) FROM q WHERE q.name IS NOT NULL
         ) SELECT name FROM q WHERE name IS NOT NULL`,
      )
      .pluck();
    this.countWaiting = db
      .prepare<[string, string], number>(
        `SELECT (SELECT COUNT(*) FROM actions WHERE queue = ? AND status = 'Queued')
              + (SELECT COUNT(*) FROM actions WHERE queue = ? AND status = 'Paused' AND started_at IS NULL)`,
      )
      .pluck();
    this.readLast = db.prepare<[], { name: string; last: QueueEventType }>('SELECT name, last_event AS last FROM queues');
    this.writeLast = db.prepare<[string, string]>(
      `INSERT INTO queues (name, last_event) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_event = excluded.last_event`,
    );
    this.loadAll();
  }

  /** Outside any transaction: every queue with a waiting action or a stored last event. */
  private loadAll(): void {
    this.states.clear();
    for (const { name, last } of this.readLast.all()) this.states.set(name, { size: 0, last });
    for (const queue of this.queueNames.all()) this.load(queue).size = this.countWaiting.get(queue, queue) ?? 0;
  }

  /** Start a transaction-scoped view. */
  stage(): QueueSizeStage {
    return new QueueSizeStage(this);
  }

  /** Current committed size (loads it on first use). */
  size(queue: string): number {
    return this.load(queue).size;
  }

  /** @internal The committed state (a queue not seen yet: empty, last event QueueEmpty). */
  load(queue: string): QueueState {
    let state = this.states.get(queue);
    if (!state) {
      state = { size: 0, last: 'QueueEmpty' };
      this.states.set(queue, state);
    }
    return state;
  }

  /** @internal Inside the transaction: store the new last queue events. */
  persist(staged: Map<string, QueueState>, lastChanged: Set<string>): void {
    for (const queue of lastChanged) this.writeLast.run(queue, staged.get(queue)!.last);
  }

  /** @internal After commit: make the staged states the committed ones. */
  publish(staged: Map<string, QueueState>): void {
    for (const [queue, state] of staged) this.states.set(queue, state);
  }

  /** @internal */
  get eventPlanner(): EventPlanner {
    return this.planner;
  }

  /** Read every queue's state again (after a bulk change such as crash recovery; outside a transaction). */
  reset(): void {
    this.loadAll();
  }
}

export class QueueSizeStage {
  private readonly staged = new Map<string, QueueState>();
  private readonly lastChanged = new Set<string>();

  constructor(private readonly sizes: QueueSizes) {}

  size(queue: string): number {
    return this.state(queue).size;
  }

  /** Add delta (+1 or -1) to the queue's size, collecting any queue event into `events`. */
  change(queue: string, delta: number, now: number, events: NewEvent[]): void {
    const state = this.state(queue);
    state.size += delta;
    const fired = this.sizes.eventPlanner.forQueueSize(queue, state.size, state.last, now);
    if (fired) {
      state.last = fired.type;
      this.lastChanged.add(queue);
      events.push(...fired.events);
    }
  }

  /** Inside the transaction, after its last size change: store the new last queue events. */
  persist(): void {
    this.sizes.persist(this.staged, this.lastChanged);
  }

  /** After the transaction committed: the in-memory sizes follow. */
  publish(): void {
    this.sizes.publish(this.staged);
  }

  private state(queue: string): QueueState {
    let state = this.staged.get(queue);
    if (!state) {
      const committed = this.sizes.load(queue);
      state = { ...committed };
      this.staged.set(queue, state);
    }
    return state;
  }
}

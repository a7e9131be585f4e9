/**
 * Cluster-wide queue state inside one transaction: the rows of the queues it changes are locked
 * (in name order, so two transactions never wait on each other in a cycle), each size change runs
 * the queue-event state machine through the EventPlanner, one step per action (idol-reference.md
 * §3.3), and the new sizes and last events are written back before commit. Every node sees one
 * size per queue, so MaximumQueueSize and each queue event hold for the cluster, once.
 *
 * Locking rule: take a tally before touching any action row of those queues.
 */
import type { EventPlanner, NewEvent, QueueEventType } from '../store.js';
import type { QueueWrite } from './append-events.js';
import type { Sql } from './transaction.js';

interface QueueRow {
  size: number;
  last: QueueEventType;
  paused: boolean;
  changed: boolean;
}

export class QueueTally {
  private constructor(
    private readonly rows: Map<string, QueueRow>,
    private readonly planner: EventPlanner,
  ) {}

  /** Lock the rows of `queues`, creating those of `creating` first (new queues come with enqueues). */
  static async lock(sql: Sql, queues: Iterable<string>, planner: EventPlanner, creating: Iterable<string> = queues): Promise<QueueTally> {
    const names = [...new Set(queues)].sort();
    const rows = new Map<string, QueueRow>();
    const create = [...new Set(creating)].sort();
    if (create.length > 0) await sql.query('INSERT INTO queues (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING', [create]);
    if (names.length > 0) {
      const locked = await sql.query<{ name: string; size: number; last_event: QueueEventType; paused: boolean }>(
        'SELECT name, size, last_event, paused FROM queues WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE',
        [names],
      );
      for (const r of locked.rows) rows.set(r.name, { size: r.size, last: r.last_event, paused: r.paused, changed: false });
    }
    return new QueueTally(rows, planner);
  }

  size(queue: string): number {
    return this.row(queue).size;
  }

  paused(queue: string): boolean {
    return this.row(queue).paused;
  }

  /** Add delta (+1 or -1) to the queue's size, collecting any queue event into `events`. */
  change(queue: string, delta: number, now: number, events: NewEvent[]): void {
    const row = this.row(queue);
    row.size += delta;
    row.changed = true;
    const fired = this.planner.forQueueSize(queue, row.size, row.last, now);
    if (fired) {
      row.last = fired.type;
      events.push(...fired.events);
    }
  }

  /** The rows changed, for appendAndNotify. */
  changes(): QueueWrite[] {
    return [...this.rows].filter(([, r]) => r.changed).map(([name, r]) => ({ name, size: r.size, last: r.last }));
  }

  /** Before commit: the new sizes and last events. */
  async write(sql: Sql): Promise<void> {
    const changed = [...this.rows].filter(([, r]) => r.changed);
    if (changed.length === 0) return;
    await sql.query(
      `UPDATE queues q SET size = c.size, last_event = c.last
         FROM unnest($1::text[], $2::int[], $3::text[]) AS c(name, size, last) WHERE q.name = c.name`,
      [changed.map(([n]) => n), changed.map(([, r]) => r.size), changed.map(([, r]) => r.last)],
    );
  }

  private row(queue: string): QueueRow {
    const row = this.rows.get(queue);
    if (!row) throw new Error(`queue tally: ${queue} was not locked by this transaction`);
    return row;
  }
}

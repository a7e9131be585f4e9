/**
 * Claims on PostgreSQL: the claims that slots of this node ask for in one turn of the event loop
 * go into one transaction (one at a time per node), which takes the next waiting actions of each
 * queue in priority then arrival order with `FOR UPDATE SKIP LOCKED`, marks them Processing on this
 * node, and stores their OnStart. Never one action twice: the row moves from Queued under its lock.
 * A paused queue (the flag in `queues`, cluster-wide) hands out nothing.
 */
import type { ActionRecord } from '../../queue/record.js';
import { startedRecord, byClaimOrder, type StartRow } from '../start-row.js';
import type { EventPlanner, NewEvent } from '../store.js';
import { appendEvents, handlersOf, notify } from './append-events.js';
import { QueueTally } from './queue-tally.js';
import type { Sql } from './transaction.js';

interface Waiter {
  readonly max: number;
  resolve(records: ActionRecord[]): void;
  reject(e: unknown): void;
}

export type RunInTransaction = <T>(what: string, work: (sql: Sql) => Promise<T>) => Promise<T>;

export class ClaimBatcher {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly transaction: RunInTransaction,
    private readonly planner: EventPlanner,
    private readonly storeId: string,
    private readonly told: (handlers: readonly string[]) => void,
  ) {}

  claim(queue: string, max: number, node: string, now: number): Promise<ActionRecord[]> {
    return new Promise((resolve, reject) => {
      const key = `${node}\u0000${queue}`;
      const list = this.pending.get(key);
      const waiter = { max, resolve, reject };
      if (list) list.push(waiter);
      else this.pending.set(key, [waiter]);
      this.nowOf = now;
      this.schedule();
    });
  }

  private nowOf = 0;

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.inFlight) this.run();
    });
  }

  private run(): void {
    const batch = this.pending;
    this.pending = new Map();
    const now = this.nowOf;
    this.inFlight = this.claimAll(batch, now).finally(() => {
      this.inFlight = undefined;
      if (this.pending.size > 0) this.schedule();
    });
  }

  private async claimAll(batch: Map<string, Waiter[]>, now: number): Promise<void> {
    try {
      const claimed = await this.transaction('claim', (sql) => claimInTransaction(sql, batch, now, this.planner, this.storeId));
      if (claimed.handlers.length > 0) this.told(claimed.handlers);
      for (const [key, waiters] of batch) {
        const records = claimed.byKey.get(key) ?? [];
        let i = 0;
        for (const w of waiters) {
          w.resolve(records.slice(i, i + w.max));
          i += w.max;
        }
      }
    } catch (e) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(e);
    }
  }
}

async function claimInTransaction(sql: Sql, batch: Map<string, Waiter[]>, now: number, planner: EventPlanner, storeId: string) {
  const wanted = [...batch].map(([key, waiters]) => {
    const [node, queue] = key.split('\u0000') as [string, string];
    return { key, node, queue, max: waiters.reduce((n, w) => n + w.max, 0) };
  });
  const tally = await QueueTally.lock(sql, wanted.map((w) => w.queue), planner);
  const events: NewEvent[] = [];
  const byKey = new Map<string, ActionRecord[]>();
  for (const w of wanted) {
    if (tally.paused(w.queue)) continue;
    const rows = await sql.query<unknown[]>({
      text: `UPDATE actions SET status = 'Processing', started_at = $1, attempts = attempts + 1, owner = $2, stop_requested = false
              WHERE id IN (SELECT id FROM actions WHERE queue = $3 AND status = 'Queued' ORDER BY priority DESC, id LIMIT $4 FOR UPDATE SKIP LOCKED)
              RETURNING id, token, priority, params, queued_at, attempts, reports`,
      values: [now, w.node, w.queue, w.max],
      rowMode: 'array',
    });
    const records = (rows.rows as StartRow[]).map((row) => ({ ...startedRecord(w.queue, now, row, row[5]), owner: w.node })).sort(byClaimOrder);
    for (const record of records) {
      tally.change(w.queue, -1, now, events);
      events.push(...planner.forAction('OnStart', record, now));
    }
    byKey.set(w.key, records);
  }
  await appendEvents(sql, events);
  await tally.write(sql);
  const handlers = handlersOf(events);
  await notify(sql, { e: handlers, s: storeId });
  return { byKey, handlers };
}

/**
 * Node and delivery leases on PostgreSQL (decisions.md "Many machines"): heartbeats, taking over
 * what dead nodes ran, one node at a time per handler's deliveries, and delivery outcomes fenced
 * by the lease. Lease times are the database's clock (schema.ts NOW_MS).
 */
import type { DeliveryLease, DeliveryOutcome, EventPlanner, EventRow, Heartbeat, NewEvent, NodeInfo } from '../store.js';
import { toEventRow, type EventDbRow } from '../event-row.js';
import { appendEvents, CHANNEL, handlersOf, notify, type Notice } from './append-events.js';
import type { RunInTransaction } from './transaction.js';
import type { Read } from './reads.js';
import { QueueTally } from './queue-tally.js';
import { NOW_MS } from './schema.js';

const RUNNING = `(status = 'Processing' OR (status = 'Paused' AND started_at IS NOT NULL))`;

export interface LeaseOptions {
  readonly transaction: RunInTransaction;
  readonly read: Read;
  readonly planner: EventPlanner;
  readonly leaseMs: number;
  /** This store instance: a node restarted under the same name is another incarnation. */
  readonly incarnation: string;
  readonly storeId: string;
  readonly told: (notice: Notice) => void;
}

export function postgresLeases(o: LeaseOptions) {
  const { read, transaction, leaseMs } = o;
  return {
    /**
     * Renew the node's lease and its delivery leases. `held` is false when the lease had lapsed
     * or belonged to another incarnation (a restart): what it ran may have been taken over.
     */
    async heartbeat(node: string): Promise<Heartbeat> {
      const [row] = await read<{ held: boolean }>(
        'heartbeat',
        `WITH before AS (SELECT incarnation = $2 AND lease_until >= ${NOW_MS} AS held FROM nodes WHERE name = $1),
              renewed AS (
                INSERT INTO nodes (name, incarnation, heartbeat_at, lease_until) VALUES ($1, $2, ${NOW_MS}, ${NOW_MS} + $3)
                ON CONFLICT (name) DO UPDATE SET incarnation = excluded.incarnation, heartbeat_at = excluded.heartbeat_at, lease_until = excluded.lease_until
                RETURNING 1),
              deliveries AS (UPDATE delivery_leases SET lease_until = ${NOW_MS} + $3 WHERE node = $1 RETURNING 1)
         SELECT COALESCE((SELECT held FROM before), false) AS held, (SELECT count(*) FROM renewed) AS r, (SELECT count(*) FROM deliveries) AS d`,
        [node, o.incarnation, leaseMs],
      );
      return { held: row?.held ?? false };
    },

    /**
     * Re-queue the running actions of dead nodes (lease lapsed; or no node row at all, as after
     * move-store), and `node`'s own when `starting` (its previous life's). Queue rows first.
     */
    async recoverExpired(node: string, now: number, starting: boolean): Promise<number> {
      const dead = `(owner IS NULL OR owner NOT IN (SELECT name FROM nodes WHERE lease_until >= ${NOW_MS}) ${starting ? 'OR owner = $1' : ''})`;
      const args = starting ? [node] : [];
      // Reservations (reservations.ts) of dead nodes, and this node's own from its previous life,
      // go back: waiting rows, so no queue size or event changes.
      const reservedBy = `owner NOT IN (SELECT name FROM nodes WHERE lease_until >= ${NOW_MS}) ${starting ? 'OR owner = $1' : ''}`;
      const freed = await read<{ queue: string; n: number }>(
        'recovery',
        `WITH r AS (UPDATE actions SET owner = NULL WHERE status = 'Queued' AND owner IS NOT NULL AND (${reservedBy}) RETURNING queue) SELECT queue, count(*)::int AS n FROM r GROUP BY queue`,
        args,
      );
      if (freed.length > 0) {
        const w = freed.map((f) => [f.queue, f.n] as [string, number]);
        o.told({ w });
        await read('recovery', 'SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ w, s: o.storeId })]);
      }
      const queues = await read<{ queue: string }>('recovery', `SELECT DISTINCT queue FROM actions WHERE ${RUNNING} AND ${dead}`, args);
      if (queues.length === 0) return 0;
      const notice: { e?: string[]; w?: [string, number][] } = {};
      const count = await transaction('recovery', async (sql) => {
        const tally = await QueueTally.lock(sql, queues.map((q) => q.queue), o.planner);
        const rows = await sql.query<{ queue: string }>(
          `UPDATE actions SET status = 'Queued', started_at = NULL, owner = NULL, progress = NULL, stop_requested = false
            WHERE ${RUNNING} AND ${dead} AND queue = ANY($${args.length + 1}::text[]) RETURNING queue`,
          [...args, queues.map((q) => q.queue)],
        );
        const events: NewEvent[] = [];
        const perQueue = new Map<string, number>();
        for (const r of rows.rows) {
          tally.change(r.queue, +1, now, events);
          perQueue.set(r.queue, (perQueue.get(r.queue) ?? 0) + 1);
        }
        await appendEvents(sql, events);
        await tally.write(sql);
        notice.w = [...perQueue];
        if (events.length > 0) notice.e = handlersOf(events);
        await notify(sql, { ...notice, s: o.storeId });
        return rows.rowCount ?? 0;
      });
      o.told(notice);
      return count;
    },

    async nodes(): Promise<NodeInfo[]> {
      const rows = await read<{ name: string; heartbeat_at: number; alive: boolean }>(
        'read',
        `SELECT name, heartbeat_at, lease_until >= ${NOW_MS} AS alive FROM nodes ORDER BY name`,
      );
      return rows.map((r) => ({ name: r.name, heartbeatAt: r.heartbeat_at, alive: r.alive }));
    },

    /** Take the handler's lease if no live node holds it; keep it if this node does. */
    async acquireDelivery(handler: string, node: string): Promise<DeliveryLease | undefined> {
      const [row] = await read<{ generation: number }>(
        'lease',
        `INSERT INTO delivery_leases AS l (handler, node, generation, lease_until) VALUES (lower($1), $2, 1, ${NOW_MS} + $3)
         ON CONFLICT (handler) DO UPDATE
           SET node = $2, lease_until = ${NOW_MS} + $3, generation = CASE WHEN l.node = $2 THEN l.generation ELSE l.generation + 1 END
           WHERE l.node = $2 OR l.lease_until < ${NOW_MS}
         RETURNING generation`,
        [handler, node, leaseMs],
      );
      return row ? { handler, node, generation: row.generation, validForMs: leaseMs } : undefined;
    },

    /** The handler's pending events after `afterSeq`, only while the lease is still this one. */
    async claimDeliveries(lease: DeliveryLease, afterSeq: number, limit: number): Promise<EventRow[]> {
      const rows = await read<EventDbRow & Record<string, unknown>>(
        'read',
        `SELECT e.* FROM events e
          WHERE e.handler = $1 AND e.state = 'pending' AND e.seq > $2
            AND EXISTS (SELECT 1 FROM delivery_leases l WHERE l.handler = lower($1) AND l.node = $3 AND l.generation = $4 AND l.lease_until >= ${NOW_MS})
          ORDER BY e.seq LIMIT $5`,
        [lease.handler, afterSeq, lease.node, lease.generation, limit],
      );
      return rows.map(toEventRow);
    },

    /** Outcomes of handlers whose lease `node` holds; others are dropped (the new holder redelivers). */
    async recordOutcomes(node: string, outcomes: readonly DeliveryOutcome[]): Promise<void> {
      if (outcomes.length === 0) return;
      const now = Date.now();
      const held = `EXISTS (SELECT 1 FROM delivery_leases l WHERE l.handler = lower(e.handler) AND l.node = $1 AND l.lease_until >= ${NOW_MS})`;
      const delivered = outcomes.filter((x) => x.result === 'delivered').map((x) => x.seq);
      const retries = outcomes.filter((x) => x.result === 'retry');
      const failures = outcomes.filter((x) => x.result === 'failed');
      if (retries.length + failures.length === 0) {
        // The common case, one statement (no transaction of three round trips).
        await read('delivery outcomes', `UPDATE events e SET state = 'delivered', attempts = e.attempts + 1, delivered_at = $2, last_error = NULL WHERE e.seq = ANY($3::bigint[]) AND e.state = 'pending' AND ${held}`, [node, now, delivered]);
        return;
      }
      await transaction('delivery outcomes', async (sql) => {
        if (delivered.length > 0) {
          await sql.query(`UPDATE events e SET state = 'delivered', attempts = e.attempts + 1, delivered_at = $2, last_error = NULL WHERE e.seq = ANY($3::bigint[]) AND e.state = 'pending' AND ${held}`, [node, now, delivered]);
        }
        if (retries.length > 0) {
          await sql.query(
            `UPDATE events e SET attempts = r.attempts, next_attempt_at = r.next_at, last_error = r.error
               FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::text[]) AS r(seq, attempts, next_at, error)
              WHERE e.seq = r.seq AND e.state = 'pending' AND ${held}`,
            [node, retries.map((r) => r.seq), retries.map((r) => r.attempts), retries.map((r) => r.nextAttemptAt), retries.map((r) => r.error)],
          );
        }
        if (failures.length > 0) {
          await sql.query(
            `UPDATE events e SET state = 'failed', attempts = f.attempts, last_error = f.error
               FROM unnest($2::bigint[], $3::int[], $4::text[]) AS f(seq, attempts, error)
              WHERE e.seq = f.seq AND e.state = 'pending' AND ${held}`,
            [node, failures.map((f) => f.seq), failures.map((f) => f.attempts), failures.map((f) => f.error)],
          );
        }
      });
    },
  };
}

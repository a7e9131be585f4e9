/**
 * Claims on PostgreSQL by reservation: one statement marks a page of a queue's next waiting rows
 * as this node's (`owner`, status still Queued), in priority then arrival order with
 * `FOR UPDATE SKIP LOCKED`, and the node's slots take them from a local buffer with no round trip.
 * The start of each taken row (Processing, attempts + 1, OnStart, the queue's size) is written by
 * the next group commit, fenced by `owner = node AND status = 'Queued'` (commit-batch.ts): a row
 * that a cancel, a pause or a lease take-over changed meanwhile is not started, and its run is
 * stopped unsettled (postgres-store.ts).
 *
 * Why: a claim per slot was a transaction of ~9 statements per 1-8 actions; measured, the
 * statements, not the rows, were most of the database's time (issue 14). A reservation is one
 * statement per page, and its starts ride in a commit that runs anyway.
 *
 * How many: what the slots ask for, plus a prefetch of at most PREFETCH_MS of work at the pace
 * this node's slots take the queue's actions (none until measured, none for slow actions), so a
 * node never sits on rows another node could run. Rows not taken within UNTAKEN_MS go back.
 *
 * Never one action twice: a row is reserved under its lock from owner NULL only, and started
 * only by its owner. A reservation held by a node that dies is cleared by recoverExpired.
 */
import type { ActionRecord } from '../../queue/record.js';
import { START_COLUMNS, startedRecord, type StartRow } from '../start-row.js';
import type { Read } from './reads.js';

const MAX_PAGE = 64;
const PREFETCH_MS = 20;
const UNTAKEN_MS = 500;
/** A paused queue is asked again after this, should its resume's notification be lost. */
const PAUSED_RECHECK_MS = 1_000;
/** A gap between takes counts as this at most (an idle queue is not a slow one). */
const IDLE_MS = 1_000;

interface Buffered {
  readonly row: StartRow;
  readonly reservedAt: number;
}

interface Waiter {
  readonly max: number;
  readonly now: number;
  resolve(records: ActionRecord[]): void;
  reject(e: unknown): void;
}

interface QueueBuffer {
  rows: Buffered[];
  waiters: Waiter[];
  fetching: boolean;
  /** Until when the queue is known to be paused (no statement is spent on it before then). */
  pausedUntil: number;
  /** Mean time between two actions taken from this queue on this node (ms), once measured. */
  perTakeMs: number | undefined;
  lastTakeAt: number | undefined;
}

export class Reservations {
  private readonly queues = new Map<string, QueueBuffer>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly read: Read,
    private readonly node: string,
    /** Rows given back: other nodes (and this one's idle slots) may take them. */
    private readonly released: (queue: string, count: number) => void,
  ) {
    this.timer = setInterval(() => void this.releaseUntaken(Date.now() - UNTAKEN_MS), UNTAKEN_MS);
    this.timer.unref();
  }

  /** Up to `max` records of `queue`, best first, started at `now` as far as this node knows. */
  take(queue: string, max: number, now: number): Promise<ActionRecord[]> {
    const q = this.buffer(queue);
    // Submissions to a paused queue wake idle slots on every node: they learn it here, not by a statement each.
    if (q.rows.length === 0 && Date.now() < q.pausedUntil) return Promise.resolve([]);
    if (q.waiters.length === 0 && q.rows.length >= max) return Promise.resolve(this.hand(queue, q, max, now));
    return new Promise((resolve, reject) => {
      q.waiters.push({ max, now, resolve, reject });
      if (!q.fetching) void this.fetch(queue, q);
    });
  }

  /**
   * Work of `priority` was queued: rows buffered here of a lower priority must not run before it,
   * so they are given back.
   */
  queued(queue: string, priority: number): void {
    const q = this.queues.get(queue);
    if (!q || q.rows.length === 0) return;
    if (q.rows.some((b) => b.row[2] < priority)) void this.release(queue, q.rows.splice(0));
  }

  /** The queue was paused (the database cleared its owners): forget the buffer, and hand out nothing for a while. */
  paused(queue: string): void {
    const q = this.buffer(queue);
    q.rows = [];
    q.pausedUntil = Date.now() + PAUSED_RECHECK_MS;
  }

  /** The queue was resumed. */
  resumed(queue: string): void {
    const q = this.queues.get(queue);
    if (q) q.pausedUntil = 0;
  }

  /** Forget every buffer (the lease was lost: the rows are released by the caller or a take-over). */
  forgetAll(): void {
    for (const q of this.queues.values()) q.rows = [];
  }

  /** Give every buffered row back (shutdown). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.queues].map(([queue, q]) => this.release(queue, q.rows.splice(0))));
  }

  close(): void {
    clearInterval(this.timer);
  }

  private buffer(queue: string): QueueBuffer {
    let q = this.queues.get(queue);
    if (!q) this.queues.set(queue, (q = { rows: [], waiters: [], fetching: false, pausedUntil: 0, perTakeMs: undefined, lastTakeAt: undefined }));
    return q;
  }

  private hand(queue: string, q: QueueBuffer, max: number, now: number): ActionRecord[] {
    const records = q.rows.splice(0, max).map((b) => ({ ...startedRecord(queue, now, b.row, b.row[5] + 1), owner: this.node }));
    if (records.length > 0) this.observeTakes(q, records.length);
    return records;
  }

  /** The queue's pace on this node: how fast its slots take what they are given. */
  private observeTakes(q: QueueBuffer, count: number): void {
    const at = Date.now();
    if (q.lastTakeAt !== undefined) {
      const each = Math.min(at - q.lastTakeAt, IDLE_MS) / count;
      q.perTakeMs = q.perTakeMs === undefined ? each : q.perTakeMs * 0.7 + each * 0.3;
    }
    q.lastTakeAt = at;
  }

  /** Rows beyond what the slots ask for: PREFETCH_MS of work at the queue's pace (none until known). */
  private prefetch(q: QueueBuffer): number {
    if (q.perTakeMs === undefined) return 0;
    return Math.floor(PREFETCH_MS / Math.max(q.perTakeMs, PREFETCH_MS / MAX_PAGE));
  }

  /**
   * Reservations for the queue's waiters, served in order; what is left over stays buffered. A
   * waiter gets fewer than it asked for only when the queue ran dry.
   */
  private async fetch(queue: string, q: QueueBuffer): Promise<void> {
    q.fetching = true;
    try {
      while (q.waiters.length > 0) {
        const asked = q.waiters.reduce((n, w) => n + w.max, 0);
        const want = Math.min(MAX_PAGE, asked + this.prefetch(q)) - q.rows.length;
        let dry = false;
        if (want > 0) {
          const { rows, paused } = await this.reserve(queue, want);
          const at = Date.now();
          for (const row of rows) q.rows.push({ row, reservedAt: at });
          dry = rows.length < want;
          if (paused) q.pausedUntil = at + PAUSED_RECHECK_MS;
        }
        while (q.waiters.length > 0 && (dry || q.rows.length >= Math.min(q.waiters[0]!.max, MAX_PAGE))) {
          const w = q.waiters.shift()!;
          w.resolve(this.hand(queue, q, w.max, w.now));
        }
      }
    } catch (e) {
      for (const w of q.waiters.splice(0)) w.reject(e);
    } finally {
      q.fetching = false;
    }
  }

  private async reserve(queue: string, max: number): Promise<{ rows: StartRow[]; paused: boolean }> {
    // A paused queue reserves nothing and says so (a row holding NULL).
    const found = await this.read<{ r: StartRow | null } & Record<string, unknown>>(
      'claim',
      `WITH p AS (SELECT paused FROM queues WHERE name = $2),
            r AS (UPDATE actions SET owner = $1
                   WHERE id IN (SELECT id FROM actions
                                 WHERE queue = $2 AND status = 'Queued' AND owner IS NULL AND NOT COALESCE((SELECT paused FROM p), false)
                                 ORDER BY priority DESC, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                  RETURNING json_build_array(${START_COLUMNS}) AS r)
       SELECT r FROM r UNION ALL SELECT NULL FROM p WHERE paused`,
      [this.node, queue, max],
    );
    const rows = found.flatMap((x) => (x.r ? [x.r] : []));
    // RETURNING gives no order: best first.
    rows.sort((a, b) => b[2] - a[2] || a[0] - b[0]);
    return { rows, paused: rows.length < found.length };
  }

  private async releaseUntaken(before: number): Promise<void> {
    for (const [queue, q] of this.queues) {
      const old = q.rows.filter((b) => b.reservedAt < before);
      if (old.length === 0) continue;
      q.rows = q.rows.filter((b) => b.reservedAt >= before);
      await this.release(queue, old).catch(() => undefined);
    }
  }

  private async release(queue: string, rows: readonly Buffered[]): Promise<void> {
    if (rows.length === 0) return;
    const released = await this.read<{ id: number }>(
      'release',
      `UPDATE actions SET owner = NULL WHERE id = ANY($1::bigint[]) AND owner = $2 AND status = 'Queued' RETURNING id`,
      [rows.map((b) => b.row[0]), this.node],
    );
    if (released.length > 0) this.released(queue, released.length);
  }
}

/**
 * Local claims (StoreCapabilities.localClaims): waiting actions handed out at once, their start
 * written by a later group commit. Safe because one process owns a SQLite store (the data
 * directory lock, database.ts).
 *
 * Invariant: an id in `taken` is running on this node although its row still says Queued; every
 * other writer (cancel, changePriority, pause) must treat it as running, and the next commit
 * writes its start (after which it leaves `taken`).
 *
 * Candidates are read a page at a time, in claim order, into a per-queue buffer; the cursor is
 * the last row read. Measured: a statement costs ~17 µs however few rows it returns, and
 * re-reading from the head past the taken rows cost ~30 µs per take. A buffered row is handed out
 * as read: a cancel, pause, priority change or claim of a waiting row empties its queue's buffer
 * (control-actions.ts, commit-batch.ts), and a row that becomes waiting ahead of the cursor (a
 * higher priority, a resumed older row) empties the buffer and resets the cursor.
 *
 * A queue is `complete` when its last page came back short (nothing waits beyond the cursor) and
 * every row enqueued since went into the buffer (`enqueued`, after its commit): then an empty
 * buffer means an empty queue, with no statement. Measured: with actions arriving one at a time,
 * a page read per action (and per idle slot's look) was ~6 % of the server's time. Any other change
 * to waiting rows ends completeness, and it lapses after COMPLETE_FOR_MS, so a change that did not
 * say so costs at most that long, never a lost action.
 *
 * Parameters of take: queue, max, now. Returns records best first (priority, then arrival).
 * Locking: reads outside any transaction; the start is written inside the commit's transaction.
 */
import type Database from 'better-sqlite3';
import type { ActionRecord } from '../../queue/record.js';
import { START_COLUMNS, startedRecord, type StartRow } from './rows.js';

interface Position {
  readonly priority: number;
  readonly id: number;
}

const PAGE = 64;
const COMPLETE_FOR_MS = 1000;

export class LocalClaims {
  private readonly taken = new Set<number>();
  private readonly cursors = new Map<string, Position>();
  private readonly buffers = new Map<string, StartRow[]>();
  /** Queues whose buffer holds every waiting row after the cursor, with when that was read. */
  private readonly complete = new Map<string, number>();
  private readonly first: Database.Statement<[string, number]>;
  private readonly samePriorityAfter: Database.Statement<[string, number, number, number]>;
  private readonly lowerPriority: Database.Statement<[string, number, number]>;
  private readonly start: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    // Whole start rows, a page per statement: a statement per row cost ~4 µs per action once reads
    // took shared-memory locks (a second connection, checkpointer.ts).
    this.first = db
      .prepare<[string, number]>(`SELECT ${START_COLUMNS} FROM actions WHERE queue = ? AND status = 'Queued' ORDER BY priority DESC, id LIMIT ?`)
      .raw();
    // "After the cursor" as two index seeks: an OR of both made SQLite scan (240 µs against 17).
    this.samePriorityAfter = db
      .prepare<[string, number, number, number]>(
        `SELECT ${START_COLUMNS} FROM actions WHERE queue = ? AND status = 'Queued' AND priority = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .raw();
    this.lowerPriority = db
      .prepare<[string, number, number]>(
        `SELECT ${START_COLUMNS} FROM actions WHERE queue = ? AND status = 'Queued' AND priority < ? ORDER BY priority DESC, id LIMIT ?`,
      )
      .raw();
    this.start = db.prepare<[number, number]>(
      `UPDATE actions SET status = 'Processing', started_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'Queued'`,
    );
  }

  take(queue: string, max: number, now: number): ActionRecord[] {
    const records: ActionRecord[] = [];
    while (records.length < max) {
      const row = this.nextCandidate(queue, now);
      if (row === undefined) break;
      if (this.taken.has(row[0])) continue;
      this.taken.add(row[0]);
      // The row still holds the attempts before this run: the start's UPDATE adds one.
      records.push(startedRecord(queue, now, row, row[5] + 1));
    }
    return records;
  }

  private nextCandidate(queue: string, now: number): StartRow | undefined {
    let buffer = this.buffers.get(queue);
    if (!buffer || buffer.length === 0) {
      const completeAt = this.complete.get(queue);
      if (completeAt !== undefined && now - completeAt < COMPLETE_FOR_MS && now >= completeAt) return undefined;
      const page = this.page(queue, this.cursors.get(queue));
      if (page.length < PAGE) this.complete.set(queue, now);
      else this.complete.delete(queue);
      if (page.length === 0) return undefined;
      const last = page[page.length - 1]!;
      this.cursors.set(queue, { id: last[0], priority: last[2] });
      // A taken row reads Queued until its start is committed: kept in the buffer behind a row
      // handed out now, it would be handed out again once that commit released it.
      buffer = this.taken.size > 0 ? page.filter((row) => !this.taken.has(row[0])) : page;
      this.buffers.set(queue, buffer);
      if (buffer.length === 0) return this.nextCandidate(queue, now);
    }
    return buffer.shift();
  }

  /** The next rows in claim order after `position` (from the top without one). */
  private page(queue: string, position: Position | undefined): StartRow[] {
    if (!position) return this.first.all(queue, PAGE) as StartRow[];
    const same = this.samePriorityAfter.all(queue, position.priority, position.id, PAGE) as StartRow[];
    if (same.length === PAGE) return same;
    return same.concat(this.lowerPriority.all(queue, position.priority, PAGE - same.length) as StartRow[]);
  }

  /**
   * After the commit of an enqueue: a row past the cursor of a complete queue joins the buffer (it
   * is what the next page would read); one ahead of the cursor resets the queue.
   */
  enqueued(queue: string, row: StartRow): void {
    const [id, , priority] = row;
    if (this.aheadOfCursor(queue, priority, id)) {
      this.reset(queue);
      return;
    }
    // Complete without a cursor: the last read from the head found the queue empty.
    if (!this.complete.has(queue)) return;
    const buffer = this.buffers.get(queue);
    // A page at most: a burst of enqueues stays in the store, for page reads (shift() is O(n)).
    if (buffer && buffer.length >= PAGE) {
      this.complete.delete(queue);
      return;
    }
    if (buffer) buffer.push(row);
    else this.buffers.set(queue, [row]);
    this.cursors.set(queue, { id, priority });
  }

  /** A row became waiting again (resume, priority change, duplicate): the cursor must not pass it. */
  noteWaiting(queue: string, priority: number, id: number): void {
    this.complete.delete(queue);
    if (this.aheadOfCursor(queue, priority, id)) this.reset(queue);
  }

  /** Would the row come before the last one read, in claim order (priority, then arrival)? */
  private aheadOfCursor(queue: string, priority: number, id: number): boolean {
    const c = this.cursors.get(queue);
    return c !== undefined && (priority > c.priority || (priority === c.priority && id < c.id));
  }

  /**
   * Forget the buffer and cursor of a queue (or of all): the next take reads from the head. Every
   * change to a waiting row other than a start calls this or noteWaiting, so buffered rows are
   * never stale (this process is the only writer, and on this thread).
   */
  reset(queue?: string): void {
    if (queue === undefined) {
      this.cursors.clear();
      this.buffers.clear();
      this.complete.clear();
      return;
    }
    this.cursors.delete(queue);
    this.buffers.delete(queue);
    this.complete.delete(queue);
  }

  isTaken(id: number): boolean {
    return this.taken.has(id);
  }

  /** Inside the commit transaction: write the start. Returns false if the row was not Queued. */
  writeStart(record: ActionRecord): boolean {
    return this.start.run(record.startedAt ?? Date.now(), record.id).changes === 1;
  }

  /** After the commit wrote the start. */
  release(record: ActionRecord): void {
    this.taken.delete(record.id);
  }
}

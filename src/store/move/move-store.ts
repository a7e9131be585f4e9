/**
 * `tocsin move-store`: copy a single-node SQLite store into PostgreSQL, so that a user who
 * outgrows one machine loses nothing on the way (decisions.md "Many machines"; issue 14 item 6).
 *
 * What moves: every action (waiting, running, paused, finished, with result, error, reports,
 * progress, attempts, priority and times), keeping its token; every event with its state,
 * attempts, last error, next attempt time and document (delivered ones too, as EventInfo history,
 * unless `delivered: false`); every queue's pause flag and last queue event, and its size (the
 * waiting actions, which the PostgreSQL store keeps in `queues.size`). Ids and seqs are the
 * target's own, in the source's order.
 *
 * Running actions (Processing, or Paused while running) arrive with no owner: the first node to
 * start or heartbeat on the target queues them again, counting the attempt, as after a restart.
 *
 * All of it is ONE PostgreSQL transaction: a failure at any point (a bad row, a lost connection)
 * leaves the target as it was, and a move can simply be run again. The source is only read.
 */
import { TocsinError } from '../../common/errors.js';
import { ACTION_STATUSES } from '../../queue/record.js';
import type { ActionRow } from '../action-row.js';
import type { EventDbRow } from '../event-row.js';
import { describeTarget, storeError } from '../postgres/connection.js';
import { openPostgresStore, type PostgresStore } from '../postgres/postgres-store.js';
import { inTransaction, type Sql } from '../postgres/transaction.js';
import {
  addQueueSizes,
  countActions,
  eventKey,
  insertActions,
  insertEvents,
  keepSequencesAhead,
  lockAgainstOtherMoves,
  lockEventAppends,
  lockQueues,
  notifyNodes,
  queueEventKeys,
  type InsertedAction,
} from './postgres-target.js';
import { SqliteSource } from './sqlite-source.js';

export interface MoveStoreOptions {
  /** The SQLite database (DataDirectory/tocsin.db), or the data directory holding it. */
  readonly from: string;
  /** postgres://user:password@host:port/database */
  readonly to: string;
  /**
   * Copy into a target that already holds actions. Actions whose token the target holds are
   * skipped with their events, and so are queue events it holds (same event id and handler):
   * running a merge twice copies nothing the second time. Default false: such a target is refused.
   */
  readonly merge?: boolean;
  /** Copy delivered events (EventInfo's history) too. Default true. */
  readonly delivered?: boolean;
}

export interface MovedQueue {
  readonly name: string;
  /** Waiting actions moved into it (added to its size). */
  readonly waiting: number;
}

export interface MoveReport {
  /** The source database file. */
  readonly source: string;
  /** The target as `host:port/database`, never with credentials. */
  readonly target: string;
  /** Actions copied, per status (statuses with none left out). */
  readonly actions: Readonly<Record<string, number>>;
  /** Actions not copied because the target held their token (merge). */
  readonly actionsSkipped: number;
  /** Of those copied, the running ones, which arrive without an owner and are queued again. */
  readonly running: number;
  /** Events copied, per state. */
  readonly events: Readonly<Record<string, number>>;
  /** Events not copied because the target holds them (merge). */
  readonly eventsSkipped: number;
  readonly queues: readonly MovedQueue[];
  readonly deliveredCopied: boolean;
}

/** Rows per INSERT, and text per INSERT (an action's parameters can hold an uploaded file). */
const BATCH_ROWS = 1_000;
const BATCH_CHARS = 8_000_000;

export async function moveStore(options: MoveStoreOptions): Promise<MoveReport> {
  const target = checkTarget(options.to);
  const source = SqliteSource.open(options.from);
  try {
    const store = await openTarget(options.to, target);
    try {
      return await inTransaction(store.pool, target, 'move-store', (sql) => copy(sql, source, options, target));
    } finally {
      await store.close();
    }
  } finally {
    source.close();
  }
}

/** The target's description for messages; refuses anything but a postgres:// URL (without echoing it). */
function checkTarget(to: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(to).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new TocsinError('PARAM_INVALID', '--to must be a postgres://user:password@host:port/database URL');
  }
  return describeTarget(to);
}

/** Open the target the way a node does (its schema made or migrated under the advisory lock). */
async function openTarget(to: string, target: string): Promise<PostgresStore> {
  try {
    return await openPostgresStore({ connectionString: to, poolSize: 2 });
  } catch (e) {
    // openPostgresStore names the config key; here the URL came from --to.
    throw storeError('start-up', target, (e as Error).cause ?? e);
  }
}

/** The whole copy, inside the transaction (run again from the top if PostgreSQL retries it). */
async function copy(sql: Sql, source: SqliteSource, options: MoveStoreOptions, target: string): Promise<MoveReport> {
  const merge = options.merge ?? false;
  const delivered = options.delivered ?? true;
  await lockAgainstOtherMoves(sql);
  const held = await countActions(sql);
  if (held > 0 && !merge) {
    throw new TocsinError(
      'MOVE_TARGET_NOT_EMPTY',
      `${target} already holds ${held} action${held === 1 ? '' : 's'}: move into a database without actions, or add --merge to add these to them (actions whose token it holds are skipped)`,
    );
  }
  const queues = source.queues();
  await lockQueues(sql, queues, merge);

  const tally = new MoveTally();
  for (const batch of batches(source.actions(), actionChars)) tally.actions(batch, await insertActions(sql, batch));
  await addQueueSizes(sql, tally.waiting);

  await lockEventAppends(sql);
  const heldQueueEvents = merge ? await queueEventKeys(sql) : new Set<string>();
  const wanted = (e: EventDbRow) => (e.token === null ? !heldQueueEvents.has(eventKey(e)) : !tally.skippedTokens.has(e.token));
  for (const batch of batches(source.events(delivered), eventChars)) {
    const kept = batch.filter(wanted);
    tally.events(kept, batch.length - kept.length);
    await insertEvents(sql, kept);
  }
  await keepSequencesAhead(sql);
  await notifyNodes(sql, [...tally.waiting], [...tally.pendingHandlers]);
  return tally.report(source.file, target, queues.map((q) => q.name), delivered);
}

const actionChars = (r: ActionRow) => r.params.length + (r.result?.length ?? 0) + (r.reports?.length ?? 0) + (r.progress?.length ?? 0) + (r.error?.length ?? 0);
const eventChars = (r: EventDbRow) => r.document.length + r.request.length + (r.last_error?.length ?? 0);

/** Rows in groups of at most BATCH_ROWS rows and BATCH_CHARS of text (a larger row goes alone). */
function* batches<T>(rows: Iterable<T>, chars: (row: T) => number): Generator<T[]> {
  let batch: T[] = [];
  let size = 0;
  for (const row of rows) {
    const n = chars(row);
    if (batch.length > 0 && (batch.length >= BATCH_ROWS || size + n > BATCH_CHARS)) {
      yield batch;
      batch = [];
      size = 0;
    }
    batch.push(row);
    size += n;
  }
  if (batch.length > 0) yield batch;
}

/** Counts of what went in, for the report and for the queue sizes. */
class MoveTally {
  readonly actionCounts = new Map<string, number>();
  readonly eventCounts = new Map<string, number>();
  readonly waiting = new Map<string, number>();
  readonly skippedTokens = new Set<string>();
  readonly pendingHandlers = new Set<string>();
  running = 0;
  eventsSkipped = 0;

  actions(batch: readonly ActionRow[], inserted: readonly InsertedAction[]): void {
    const taken = new Set(inserted.map((a) => a.token));
    for (const r of batch) if (!taken.has(r.token)) this.skippedTokens.add(r.token);
    for (const a of inserted) {
      this.actionCounts.set(a.status, (this.actionCounts.get(a.status) ?? 0) + 1);
      const started = a.started_at !== null;
      // The queue size: Queued, or Paused before it ever ran (record.ts isWaiting).
      if (a.status === 'Queued' || (a.status === 'Paused' && !started)) this.waiting.set(a.queue, (this.waiting.get(a.queue) ?? 0) + 1);
      if (a.status === 'Processing' || (a.status === 'Paused' && started)) this.running++;
    }
  }

  events(kept: readonly EventDbRow[], skipped: number): void {
    this.eventsSkipped += skipped;
    for (const e of kept) {
      this.eventCounts.set(e.state, (this.eventCounts.get(e.state) ?? 0) + 1);
      if (e.state === 'pending') this.pendingHandlers.add(e.handler);
    }
  }

  report(source: string, target: string, queues: readonly string[], deliveredCopied: boolean): MoveReport {
    return {
      source,
      target,
      actions: inOrder(this.actionCounts, ACTION_STATUSES),
      actionsSkipped: this.skippedTokens.size,
      running: this.running,
      events: inOrder(this.eventCounts, ['pending', 'failed', 'delivered']),
      eventsSkipped: this.eventsSkipped,
      queues: queues.map((name) => ({ name, waiting: this.waiting.get(name) ?? 0 })),
      deliveredCopied,
    };
  }
}

/** Counts as an object, the known keys first in their order, then any other the source had. */
function inOrder(counts: ReadonlyMap<string, number>, known: readonly string[]): Record<string, number> {
  const keys = [...known.filter((k) => counts.has(k)), ...[...counts.keys()].filter((k) => !known.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, counts.get(k)!]));
}

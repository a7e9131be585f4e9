/**
 * The Store: durable queues and the event outbox, in domain verbs (STYLE.md lesson 2).
 * SQLite (embedded default) and PostgreSQL (shared by many nodes) implement it.
 *
 * Invariants every store keeps:
 * - `commit` applies a whole batch in ONE transaction (group commit): enqueues, settlements,
 *   error reports, progress and claims, and the events they cause (through the EventPlanner).
 *   Nothing in the batch is visible or reported before that transaction commits.
 * - A claim is atomic: an action moves Queued → Processing exactly once per attempt, in priority
 *   order (higher first), then arrival order; no action runs twice at once.
 * - The queue size (actions waiting to start) never exceeds the action's MaximumQueueSize.
 */
import type { XElement } from '../common/xnode.js';
import type { ActionRecord, ActionStatus, ProgressInfo, RunOutcomeStatus } from '../queue/record.js';
import type { EventType } from '../events/handler.js';

export interface NewAction {
  readonly token: string;
  readonly queue: string;
  readonly priority: number;
  readonly params: readonly (readonly [string, string])[];
  readonly queuedAt: number;
  /** MaximumQueueSize of this queue; the enqueue is refused when the queue already holds this many. */
  readonly maxQueueSize: number;
}

export interface Settlement {
  readonly id: number;
  /**
   * The action as its runner knows it (the claimed record plus the error reports it made). The
   * store builds the final record from it instead of reading the row back: measured, a settle
   * with RETURNING costs about twice as much as one without.
   */
  readonly running: ActionRecord;
  readonly status: RunOutcomeStatus;
  readonly endedAt: number;
  readonly result?: readonly XElement[];
  readonly error?: string;
}

export interface ReportedError {
  readonly id: number;
  readonly time: number;
  readonly message: string;
}

export interface ProgressUpdate {
  readonly id: number;
  readonly progress: ProgressInfo;
}

export interface ClaimRequest {
  readonly queue: string;
  readonly max: number;
}

export interface CommitBatch {
  readonly now: number;
  /** Node id written as the owner of claimed actions. */
  readonly node: string;
  readonly enqueues: readonly NewAction[];
  /**
   * Actions this node took with `take()` and started running (local claims): their move from
   * Queued to Processing, and their OnStart, are written here, before the batch's settlements.
   */
  readonly starts: readonly ActionRecord[];
  readonly settlements: readonly Settlement[];
  readonly reports: readonly ReportedError[];
  readonly progress: readonly ProgressUpdate[];
  readonly claims: readonly ClaimRequest[];
  /**
   * Delivery outcomes of events (the delivery engine's): written in the same transaction, so the
   * pages of recent events that the batch appends to are written to the log once, not twice.
   */
  readonly deliveries: readonly DeliveryOutcome[];
}

export interface CommitResult {
  /** Per enqueue, in order: the stored record, or 'full' when the queue was full. */
  readonly enqueued: readonly (ActionRecord | 'full')[];
  /** Per claim request, in order: the actions now Processing on this node, best first. */
  readonly claimed: readonly (readonly ActionRecord[])[];
  /** Per settlement, in order: the final record, or undefined if the action was no longer running. */
  readonly settled: readonly (ActionRecord | undefined)[];
}

/** A stored event, before delivery. Built by the EventPlanner inside the status-change transaction. */
export interface NewEvent {
  readonly eventId: string;
  readonly type: EventType;
  readonly handler: string;
  readonly queue: string;
  readonly token?: string;
  readonly document: string;
  /** Request parameters as JSON object text (LuaHandler's `request`). */
  readonly request: string;
  readonly createdAt: number;
}

export type QueueEventType =
  | 'QueueFull'
  | 'QueueFilling'
  | 'QueueEmptying'
  | 'QueueEmpty';

/**
 * Turns status changes into events, inside the transaction that makes the change
 * (decisions.md "Events": stored in the same transaction as the status change).
 * Must be synchronous and pure apart from reading settings.
 */
export interface EventPlanner {
  /** Events for an action status change; `record` is the state right after it. */
  forAction(type: Exclude<EventType, 'OnQueueEvent'>, record: ActionRecord, now: number): readonly NewEvent[];
  /**
   * Called after every change of a queue's size with the previous queue event; returns the new
   * queue event, if the IDOL state machine fires one (idol-reference.md §3.3).
   */
  forQueueSize(queue: string, size: number, last: QueueEventType, now: number): { readonly type: QueueEventType; readonly events: readonly NewEvent[] } | undefined;
}

export const NO_EVENTS: EventPlanner = {
  forAction: () => [],
  forQueueSize: () => undefined,
};

export type SortKey = 'queue-time' | 'start-time' | 'finish-time' | 'priority' | 'status';

export interface ActionFilter {
  readonly queue: string;
  readonly token?: string;
  readonly statuses?: readonly ActionStatus[];
  readonly queuedAfter?: number;
  readonly queuedBefore?: number;
  readonly finishedAfter?: number;
  readonly finishedBefore?: number;
  readonly minPriority?: number;
  readonly maxPriority?: number;
  readonly sortBy: SortKey;
  readonly descending: boolean;
  readonly limit?: number;
}

export interface QueueCounts {
  readonly paused: boolean;
  readonly queued: number;
  readonly processing: number;
  readonly pausedActions: number;
  readonly finished: number;
  readonly error: number;
  readonly cancelled: number;
  readonly stopped: number;
}

export type EventState = 'pending' | 'delivered' | 'failed';

/** A stored event as the outbox returns it. */
export interface EventRow extends NewEvent {
  readonly seq: number;
  readonly state: EventState;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly deliveredAt?: number;
  readonly lastError?: string;
}

/** What became of one delivery attempt. */
export type DeliveryOutcome =
  | { readonly seq: number; readonly result: 'delivered' }
  | { readonly seq: number; readonly result: 'retry'; readonly attempts: number; readonly nextAttemptAt: number; readonly error: string }
  | { readonly seq: number; readonly result: 'failed'; readonly attempts: number; readonly error: string };

export interface EventFilter {
  readonly states?: readonly EventState[];
  readonly handler?: string;
  readonly token?: string;
  readonly types?: readonly EventType[];
  readonly eventId?: string;
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  /** Newest first when true. */
  readonly descending: boolean;
  readonly limit: number;
}

export interface EventCount {
  readonly handler: string;
  readonly state: EventState;
  readonly count: number;
}

/**
 * The event outbox: events are appended by `commit` (through the EventPlanner); delivery reads
 * them per handler in `seq` order, and its outcomes are recorded by `commit` too
 * (`CommitBatch.deliveries`).
 */
export interface Outbox {
  /** Pending events of a handler with seq > afterSeq, in seq order. */
  pendingEvents(handler: string, afterSeq: number, limit: number): Promise<EventRow[]>;
  listEvents(filter: EventFilter): Promise<EventRow[]>;
  eventCounts(): Promise<EventCount[]>;
  /** Failed events of a handler (one, by id, or all) → pending, attempts reset. Returns their seqs. */
  redeliver(handler: string, eventId: string | undefined, now: number): Promise<number[]>;
  /** Delete delivered events created before `before`. Failed ones are kept. */
  purgeDelivered(before: number): Promise<number>;
  /**
   * Pending and failed events stored for a handler section spelled otherwise only in case (the
   * section was renamed so) become this handler's: IDOL section names ignore case. Returns how many.
   */
  adoptHandlerEvents(handler: string): Promise<number>;
}

/** Told of events right after the transaction that stored them committed (delivery fast path). */
export type EventsStoredListener = (events: readonly EventRow[]) => void;

export interface StoreCapabilities {
  /** Several nodes share this store (claims and stop requests must go through it). */
  readonly shared: boolean;
  /**
   * The store can hand out waiting actions at once (`take`), their start being written by a later
   * commit (`starts`). Only where one process owns the store: a slot then never waits for a commit
   * to get work, which removes the round trip per MaximumThreads actions that bounded throughput.
   */
  readonly localClaims: boolean;
}

export interface Store extends Outbox {
  readonly capabilities: StoreCapabilities;

  /** Apply one group-commit batch in one transaction. */
  commit(batch: CommitBatch): Promise<CommitResult>;
  /**
   * (localClaims stores) Up to `max` waiting actions of `queue`, best first, as records already
   * Processing since `now`; the store treats them as running until their start is committed.
   */
  take?(queue: string, max: number, now: number): ActionRecord[];
  /**
   * Actions left Processing or running-Paused by a dead node go back to Queued, counting an attempt
   * (decisions.md: none is left hanging). Returns how many were recovered.
   */
  recoverInterrupted(node: string, now: number): Promise<number>;

  getAction(token: string): Promise<ActionRecord | undefined>;
  listActions(filter: ActionFilter): Promise<ActionRecord[]>;
  queueCounts(queue: string): Promise<QueueCounts>;

  /** Queued/Paused-before-start → Cancelled. Returns the new record, or undefined if not waiting. */
  cancel(token: string, now: number): Promise<ActionRecord | undefined>;
  /** Queued/Paused-before-start only. */
  changePriority(token: string, priority: number): Promise<ActionRecord | undefined>;
  /** Queued → Paused, Processing → Paused; returns undefined when the action cannot be paused. */
  pauseAction(token: string): Promise<ActionRecord | undefined>;
  /** Paused → Queued (never started) or Processing (running). */
  resumeAction(token: string): Promise<ActionRecord | undefined>;
  setQueuePaused(queue: string, paused: boolean): Promise<void>;
  isQueuePaused(queue: string): Promise<boolean>;
  /** Mark a running action to be stopped (for the node that runs it). Returns false if not running. */
  requestStop(token: string): Promise<boolean>;
  /** Ids of this node's running actions whose stop was requested. */
  pendingStops(node: string): Promise<number[]>;
  /** A new Queued copy of a waiting or running action. */
  duplicate(token: string, copy: NewAction): Promise<ActionRecord | 'full' | undefined>;

  /** Delete final actions of these queues that ended before `endedBefore` (retention). */
  purgeFinished(queues: readonly string[], endedBefore: number): Promise<number>;

  close(): Promise<void>;
}

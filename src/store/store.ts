/**
 * The Store: durable queues and the event outbox, in domain verbs (STYLE.md lesson 2).
 * SQLite (embedded default) and PostgreSQL (shared by many nodes) implement it.
 *
 * The interface has the shape of a database shared by several nodes (decisions.md "Many
 * machines"); a store used by one process only says so in its capabilities and may take
 * shortcuts inside its own implementation (SQLite's local claims), never in this interface.
 *
 * Invariants every store keeps:
 * - `commit` applies a whole batch in ONE transaction (group commit): enqueues, settlements,
 *   error reports and progress, and the events they cause (through the EventPlanner).
 *   Nothing in the batch is visible or reported before that transaction commits.
 * - A claim is atomic: an action moves Queued → Processing exactly once per attempt, in priority
 *   order (higher first), then arrival order; no action runs twice at once. Its OnStart is
 *   stored with its start. A store may write starts behind, with its next commit (both do: SQLite's
 *   local claims, PostgreSQL's reservations); its own reads and changes see them. A start the
 *   store can no longer write (the action was cancelled or taken over meanwhile) is told to its
 *   listeners as a `stop` of the action. A paused queue hands out nothing.
 * - The queue size (actions waiting to start), the queue's pause flag and its last queue event
 *   are held in the store: with several nodes they are the cluster's, not a node's.
 * - Nodes hold their claims through a lease renewed by `heartbeat`; a node whose lease lapsed
 *   is dead, and `recoverExpired` re-queues what it ran. A settlement or delivery outcome of a
 *   node that no longer holds the action or handler changes nothing (fencing).
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
  /**
   * `IdempotencyKey` of the submission, if it had one. A queue holds at most one action per key
   * while that action's record is kept (a unique index on (queue, key), so across restarts and
   * nodes): an enqueue whose key the queue holds, stored or earlier in the same batch, stores
   * nothing and answers the action that holds it.
   */
  readonly idempotencyKey?: string;
}

/** An enqueue whose idempotency key its queue already held: nothing was stored. */
export interface DuplicateSubmission {
  /** The action first submitted with the key, as stored now. */
  readonly duplicateOf: ActionRecord;
}

/** What became of one enqueue: the stored record, 'full' when the queue was full, or a duplicate. */
export type EnqueueOutcome = ActionRecord | 'full' | DuplicateSubmission;

export const isDuplicate = (outcome: EnqueueOutcome): outcome is DuplicateSubmission => typeof outcome === 'object' && 'duplicateOf' in outcome;

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

export interface CommitBatch {
  readonly now: number;
  /** The node that commits: a settlement applies only to an action this node still holds. */
  readonly node: string;
  readonly enqueues: readonly NewAction[];
  readonly settlements: readonly Settlement[];
  readonly reports: readonly ReportedError[];
  readonly progress: readonly ProgressUpdate[];
}

export interface CommitResult {
  /**
   * Per enqueue, in order: the stored record, 'full' when the queue was full, or the action that
   * already held its idempotency key. A key is looked at before the queue's size: a duplicate of
   * a stored action is answered even when the queue is full.
   */
  readonly enqueued: readonly EnqueueOutcome[];
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
  /**
   * The queue's thresholds where forQueueSize follows the IDOL state machine (events/queue-state.ts)
   * with them, or undefined where the queue fires no queue events. Optional: a store that knows
   * the rule may apply it inside the database (PostgreSQL's one-statement commit, fast-commit.ts);
   * without it, the store asks forQueueSize step by step.
   */
  queueRule?(queue: string): QueueRule | undefined;
}

/** What forQueueSize decides with (events/queue-state.ts `nextQueueEvent`). */
export interface QueueRule {
  readonly max: number;
  readonly filling: number;
  readonly emptying: number;
}

export const NO_EVENTS: EventPlanner = {
  forAction: () => [],
  forQueueSize: () => undefined,
  queueRule: () => undefined,
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
  /**
   * Keyed paging (the console): only rows after this one in the listing's order, which must be
   * `queue-time` with a `limit`. Ties in queue time are broken by id, as the listing sorts.
   */
  readonly after?: ActionKey;
}

/** Where a page of a queue-time listing ended: the last row's queue time and id. */
export interface ActionKey {
  readonly queuedAt: number;
  readonly id: number;
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

/** Events listed and counted at one moment. */
export interface EventListing {
  readonly events: EventRow[];
  readonly counts: EventCount[];
}

/** A stored event as the outbox returns it. */
export interface EventRow extends NewEvent {
  readonly seq: number;
  readonly state: EventState;
  /**
   * Attempts made so far, the successful one included: a pending event's are all failed ones (the
   * next attempt is attempts + 1), a delivered event's last one succeeded. Redelivery resets it.
   */
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly deliveredAt?: number;
  readonly lastError?: string;
}

/** What became of one delivery attempt (of the handler whose lease the node holds). */
export type DeliveryOutcome =
  | { readonly seq: number; readonly handler: string; readonly result: 'delivered' }
  | { readonly seq: number; readonly handler: string; readonly result: 'retry'; readonly attempts: number; readonly nextAttemptAt: number; readonly error: string }
  | { readonly seq: number; readonly handler: string; readonly result: 'failed'; readonly attempts: number; readonly error: string };

export interface EventFilter {
  readonly states?: readonly EventState[];
  readonly handler?: string;
  readonly token?: string;
  readonly types?: readonly EventType[];
  readonly eventId?: string;
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  /** Only events stored before this one (keyed paging, newest first). */
  readonly beforeSeq?: number;
  /** Newest first when true. */
  readonly descending: boolean;
  readonly limit: number;
}

export interface EventCount {
  readonly handler: string;
  readonly state: EventState;
  readonly count: number;
}

/** A node's hold on delivering one handler's events: one node at a time per handler. */
export interface DeliveryLease {
  readonly handler: string;
  readonly node: string;
  /** Increases each time the lease changes hands (fencing). */
  readonly generation: number;
  /**
   * How long the lease lasts from the moment it was asked for, unless renewed (absent: no end, a
   * store used by one process). The holder stops delivering once that has passed on its own clock:
   * a node that was paused (stopped, swapped out) must not deliver what another may have taken.
   */
  readonly validForMs?: number;
}

/**
 * The event outbox: events are appended by the transactions that change what they describe
 * (through the EventPlanner). A node delivers a handler's events only while it holds that
 * handler's lease; it reads them in seq order from a cursor, which is safe because a store makes
 * seqs visible in order (every committed seq is below every seq still being written).
 */
export interface Outbox {
  /**
   * Take or keep the delivery lease of `handler` for `node` (renewed by `heartbeat`). Returns the
   * lease, or undefined while another live node holds it.
   */
  acquireDelivery(handler: string, node: string, now: number): Promise<DeliveryLease | undefined>;
  /** Pending events of the lease's handler with seq > afterSeq, in seq order ([] once the lease is lost). */
  claimDeliveries(lease: DeliveryLease, afterSeq: number, limit: number): Promise<EventRow[]>;
  /**
   * Store delivery outcomes. Those of a handler whose lease `node` no longer holds are dropped
   * (the events stay with the new holder: at least once).
   */
  recordOutcomes(node: string, outcomes: readonly DeliveryOutcome[]): Promise<void>;
  listEvents(filter: EventFilter): Promise<EventRow[]>;
  eventCounts(): Promise<EventCount[]>;
  /** EventInfo's answer: a listing and the counts, read in one read transaction (they agree). */
  listEventsCounted(filter: EventFilter): Promise<EventListing>;
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

/**
 * What a store tells its users after a commit (its own or, on a shared store, another node's).
 * Rows are given where the store has them in memory (the delivery fast path); otherwise the
 * handlers whose events were stored, to be read from the outbox.
 */
export interface StoreListener {
  eventsStored?(stored: StoredEvents): void;
  /** Actions became claimable in this queue (enqueue, resume, another node's submission). */
  workQueued?(queue: string, count: number): void;
  /** A running action's stop, pause or resume was asked (possibly on another node). */
  actionControl?(token: string, change: 'stop' | 'pause' | 'resume'): void;
  /**
   * The store holds writes for the next commit (a store that writes behind, SQLite): a group
   * committer should commit soon, so they go in its batch rather than in a transaction of their own.
   */
  writesBehind?(): void;
}

export type StoredEvents = { readonly rows: readonly EventRow[] } | { readonly handlers: readonly string[] };

export interface NodeInfo {
  readonly name: string;
  readonly heartbeatAt: number;
  readonly alive: boolean;
}

/** The result of a heartbeat: whether the node still held its lease before renewing it. */
export interface Heartbeat {
  /**
   * False when the node's lease had lapsed (another node may have re-queued its actions and taken
   * its deliveries): the node must drop what it was running and delivering.
   */
  readonly held: boolean;
}

export interface StoreCapabilities {
  /** Several nodes share this store: leases, heartbeats and cross-node control matter. */
  readonly shared: boolean;
  /**
   * recordOutcomes only queues the outcomes for the store's next group commit (cheap per call),
   * so the engine hands them over as soon as they are settled (outcome-writer.ts).
   */
  readonly queuesOutcomes: boolean;
}

export interface Store extends Outbox {
  readonly capabilities: StoreCapabilities;

  /** Apply one group-commit batch in one transaction. */
  commit(batch: CommitBatch): Promise<CommitResult>;
  /**
   * Up to `max` waiting actions of `queue` (none while the queue is paused), best first, now
   * Processing on `node` since `now`, their OnStart stored with their start (written by the
   * store's next commit where it writes starts behind). The store may batch concurrent claims;
   * the records it returns are this node's until settled or until its lease lapses.
   */
  claim(queue: string, max: number, node: string, now: number): Promise<ActionRecord[]>;
  /**
   * Register or renew `node`'s lease (until now + NodeLeaseTimeout), and its delivery leases.
   * Tells whether the lease was still held.
   */
  heartbeat(node: string, now: number): Promise<Heartbeat>;
  /**
   * Actions left Processing or running-Paused by a dead node (its lease lapsed; and `node`'s own,
   * left by its previous life, when it starts) go back to Queued, counting an attempt at their
   * next claim (decisions.md: none is left hanging). Returns how many were recovered.
   */
  recoverExpired(node: string, now: number, options?: { readonly starting?: boolean }): Promise<number>;
  /** The nodes known to the store, with their last heartbeat (GetStatus). */
  nodes(now: number): Promise<NodeInfo[]>;
  /** Be told of commits (events stored, work queued, control of running actions). */
  subscribe(listener: StoreListener): () => void;

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
  /**
   * Mark a running action to be stopped; the node that runs it is told (`actionControl`, or
   * `pendingStops` as the floor). Returns false if not running.
   */
  requestStop(token: string): Promise<boolean>;
  /** Ids of this node's running actions whose stop was requested. */
  pendingStops(node: string): Promise<number[]>;
  /** A new Queued copy of a waiting or running action. */
  duplicate(token: string, copy: NewAction): Promise<ActionRecord | 'full' | undefined>;

  /** Delete final actions of these queues that ended before `endedBefore` (retention). */
  purgeFinished(queues: readonly string[], endedBefore: number): Promise<number>;

  close(): Promise<void>;
}

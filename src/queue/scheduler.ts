/**
 * The scheduler: one queue per asynchronous action, MaximumThreads worker slots per queue on this
 * node (decisions.md "Asynchronous actions", "Many machines"), submission through the group
 * committer, this node's lease (heartbeats, taking over from dead nodes), and the local side of
 * QueueInfo's stop / pause / resume / progress.
 */
import { setMaxListeners } from 'node:events';
import { TocsinError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { isDuplicate, type NewAction, type Store } from '../store/store.js';
import type { ActionRecord } from './record.js';
import type { AsyncActionDefinition, ParamReader } from './action-definition.js';
import { GroupCommitter, type CommitObserver } from './group-commit.js';
import { IdleSlots, workerLoop } from './worker-loop.js';
import { MAX_TIMER_MS } from '../common/timers.js';
import { RunningActions, type RunningAction } from './running-actions.js';
import { executeAction } from './execute-action.js';
import { createToken } from './token.js';

export interface QueueSettings {
  /** Canonical action name = queue name. */
  readonly name: string;
  readonly maxThreads: number;
  readonly maxQueueSize: number;
  /** `MaxStoredParametersSize`: bytes (UTF-8) of the names and values an action may store; none when absent. */
  readonly maxParameterBytes?: number;
}

export interface SubmitOptions {
  /**
   * `IdempotencyKey`: a second submission with the same key to the same queue queues nothing and
   * answers the first action, for as long as its record is kept. 1 to MAX_IDEMPOTENCY_KEY_LENGTH characters.
   */
  readonly idempotencyKey?: string;
}

/** A submitted action; `duplicate` when its idempotency key was already held (the holder's record). */
export type SubmittedAction = ActionRecord & { readonly duplicate?: true };

/** Longest IdempotencyKey taken (a UUID is 36; room for a client's own composite keys). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export interface RegisteredAction {
  readonly definition: AsyncActionDefinition;
  readonly settings: QueueSettings;
}

export interface SchedulerOptions {
  readonly store: Store;
  readonly actions: readonly RegisteredAction[];
  /** Host and port written into tokens. */
  readonly tokenHost: string;
  readonly tokenPort: number;
  /** This node's id (owner of the actions it claims). */
  readonly node: string;
  readonly log: Logger;
  readonly params: (pairs: readonly (readonly [string, string])[]) => ParamReader;
  /** Bounded poll of idle slots: the floor under nudges. */
  readonly pollMs?: number;
  /** NodeLeaseTimeout: a node silent this long is dead (heartbeats every third of it). */
  readonly leaseTimeoutMs?: number;
  readonly clock?: () => number;
  /** Told how long each group commit took (metrics); never on the caller's path to an answer. */
  readonly onCommit?: CommitObserver;
}

interface QueueState {
  readonly registered: RegisteredAction;
  readonly idle: IdleSlots;
}

/** decisions.md "Many machines": NodeLeaseTimeout default. */
export const DEFAULT_LEASE_TIMEOUT_MS = 15_000;

export class Scheduler {
  readonly running = new RunningActions();
  private readonly committer: GroupCommitter;
  private readonly queues = new Map<string, QueueState>();
  private readonly shutdown = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly settledListeners = new Set<(record: ActionRecord) => void>();
  private readonly startedListeners = new Set<(record: ActionRecord) => void>();
  private readonly submittedListeners = new Set<(record: ActionRecord) => void>();
  private readonly cancelledListeners = new Set<(record: ActionRecord) => void>();
  private readonly clock: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? Date.now;
    this.committer = new GroupCommitter(options.store, options.node, options.log, this.clock, options.onCommit);
    // Every idle slot of every queue listens for shutdown; more than 10 is normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    for (const registered of options.actions) {
      this.queues.set(registered.settings.name.toLowerCase(), { registered, idle: new IdleSlots(options.pollMs ?? 1000) });
    }
  }

  /**
   * Take this node's lease, recover what its previous life (and any dead node) left running, then
   * start every queue's slots.
   */
  async start(): Promise<void> {
    const { store, node, log } = this.options;
    this.unsubscribe = store.subscribe({
      workQueued: (queue, count) => this.queues.get(queue.toLowerCase())?.idle.wake(count),
      actionControl: (token, change) => this.controlLocal(token, change),
      writesBehind: () => this.committer.kick(),
    });
    await store.heartbeat(node, this.clock());
    const recovered = await store.recoverExpired(node, this.clock(), { starting: true });
    if (recovered > 0) log.warn('re-queued actions interrupted by a previous stop', { count: recovered });
    for (const state of this.queues.values()) {
      for (let i = 0; i < state.registered.settings.maxThreads; i++) this.loops.push(this.startSlot(state));
    }
    if (store.capabilities.shared) this.keepLease();
  }

  /** Find a registered asynchronous action by name, case-insensitively. */
  lookup(name: string): RegisteredAction | undefined {
    return this.queues.get(name.toLowerCase())?.registered;
  }

  queueNames(): string[] {
    return [...this.queues.values()].map((q) => q.registered.settings.name);
  }

  /**
   * Queue a new action; resolves once it is durable. Throws QUEUE_FULL. With an idempotency key
   * the queue already holds (decisions.md "Idempotent submission"), nothing is queued and the
   * answer is the action that holds it, marked `duplicate`.
   */
  async submit(actionName: string, params: readonly (readonly [string, string])[], priority = 0, options: SubmitOptions = {}): Promise<SubmittedAction> {
    if (this.shutdown.signal.aborted) throw new TocsinError('SERVER_STOPPING', 'The server is shutting down and takes no new actions');
    const state = this.state(actionName);
    checkParameterSize(state.registered.settings, params);
    const action = this.newAction(state, params, priority);
    const outcome = await this.committer.enqueue(options.idempotencyKey === undefined ? action : { ...action, idempotencyKey: checkIdempotencyKey(options.idempotencyKey) });
    if (outcome === 'full') throw queueFull(state.registered.settings);
    // A duplicate is the first submission's action: counted (metrics) once, when it was new.
    if (isDuplicate(outcome)) return { ...outcome.duplicateOf, duplicate: true };
    this.submitted(outcome);
    return outcome;
  }

  /** A copy of a waiting or running action (QueueAction=Duplicate). */
  async duplicate(source: ActionRecord): Promise<ActionRecord | undefined> {
    if (this.shutdown.signal.aborted) throw new TocsinError('SERVER_STOPPING', 'The server is shutting down and takes no new actions');
    const state = this.state(source.queue);
    const copy = await this.options.store.duplicate(source.token, this.newAction(state, source.params, source.priority));
    if (copy === 'full') throw queueFull(state.registered.settings);
    if (copy) this.submitted(copy);
    return copy;
  }

  private submitted(record: ActionRecord): void {
    for (const l of this.submittedListeners) l(record);
  }

  /** A new action of the queue, queued now with a fresh token. */
  private newAction(state: QueueState, params: readonly (readonly [string, string])[], priority: number): NewAction {
    const settings = state.registered.settings;
    const now = this.clock();
    const token = createToken(this.options.tokenHost, this.options.tokenPort, settings.name, now);
    return { token, queue: settings.name, priority, params, queuedAt: now, maxQueueSize: settings.maxQueueSize };
  }

  /**
   * Cancel a waiting action (QueueAction=Cancel): its final record, or undefined when it was not
   * waiting. No event fires (decisions.md "Events"); onCancelled listeners are told.
   */
  async cancel(token: string, now: number = this.clock()): Promise<ActionRecord | undefined> {
    const cancelled = await this.options.store.cancel(token, now);
    if (cancelled) for (const l of this.cancelledListeners) l(cancelled);
    return cancelled;
  }

  /** Called with every action cancelled through this node, once durable. */
  onCancelled(listener: (record: ActionRecord) => void): () => void {
    this.cancelledListeners.add(listener);
    return () => this.cancelledListeners.delete(listener);
  }

  /** Ask a running action to stop: locally at once, and through the store for other nodes. */
  async stop(token: string): Promise<boolean> {
    const requested = await this.options.store.requestStop(token);
    const local = this.running.get(token);
    if (local) local.stop('stop');
    return requested || local !== undefined;
  }

  /** Pause or resume a queue for the whole cluster (the store holds the flag; claims check it). */
  async setQueuePaused(queueName: string, paused: boolean): Promise<void> {
    const state = this.state(queueName);
    await this.options.store.setQueuePaused(state.registered.settings.name, paused);
    if (!paused) state.idle.wake();
  }

  /** Local pause state of a running action, after the store changed its status. */
  markPaused(token: string, paused: boolean): void {
    const local = this.running.get(token);
    if (!local) return;
    if (paused) local.pause();
    else local.resume();
  }

  /** A waiting action became claimable again (resume, priority change): wake a slot. */
  nudge(queueName: string): void {
    this.queues.get(queueName.toLowerCase())?.idle.wake(1);
  }

  localAction(token: string): RunningAction | undefined {
    return this.running.get(token);
  }

  /** Called with every action queued on this node (a submission or a Duplicate), once durable. */
  onSubmitted(listener: (record: ActionRecord) => void): () => void {
    this.submittedListeners.add(listener);
    return () => this.submittedListeners.delete(listener);
  }

  /** Called with every action this node claims, as its run begins (the web console's live view). */
  onStarted(listener: (record: ActionRecord) => void): () => void {
    this.startedListeners.add(listener);
    return () => this.startedListeners.delete(listener);
  }

  /** Called with every action's final record once it is durable. */
  onSettled(listener: (record: ActionRecord) => void): () => void {
    this.settledListeners.add(listener);
    return () => this.settledListeners.delete(listener);
  }

  /**
   * Stop taking actions; give running ones `graceMs` to end, then abort them. Aborted runs are not
   * settled: they stay Processing and are re-queued at the next start.
   */
  async close(graceMs = 5000): Promise<void> {
    this.shutdown.abort();
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe?.();
    for (const q of this.queues.values()) q.idle.wake();
    const deadline = setTimeout(() => {
      for (const a of this.running.all()) a.stop('shutdown');
    }, Math.min(graceMs, MAX_TIMER_MS));
    await Promise.all(this.loops);
    clearTimeout(deadline);
    await this.committer.flush();
    this.committer.close();
  }

  private state(name: string): QueueState {
    const state = this.queues.get(name.toLowerCase());
    if (!state) throw new TocsinError('QUEUE_UNKNOWN', `There is no asynchronous action (queue) named "${name}"`);
    return state;
  }

  private startSlot(state: QueueState): Promise<void> {
    const { definition, settings } = state.registered;
    const deps = {
      committer: this.committer,
      running: this.running,
      log: this.options.log,
      params: this.options.params,
      clock: this.clock,
      onSettled: (record: ActionRecord) => {
        for (const l of this.settledListeners) l(record);
      },
    };
    return workerLoop<ActionRecord>(
      {
        claim: () => this.claim(state),
        run: (record) => {
          for (const l of this.startedListeners) l(record);
          return executeAction(record, definition, deps);
        },
        waitForWork: (signal) => state.idle.wait(signal),
      },
      this.shutdown.signal,
    );
  }

  /** The next action for a slot (the store batches and claims; a paused queue gives none). */
  private async claim(state: QueueState): Promise<ActionRecord | undefined> {
    const [record] = await this.options.store.claim(state.registered.settings.name, 1, this.options.node, this.clock());
    return record;
  }

  /** A stop, pause or resume asked through the store, perhaps on another node. */
  private controlLocal(token: string, change: 'stop' | 'pause' | 'resume'): void {
    const local = this.running.get(token);
    if (!local) return;
    if (change === 'stop') local.stop('stop');
    else if (change === 'pause') local.pause();
    else local.resume();
  }

  /**
   * With a shared store: heartbeat well inside NodeLeaseTimeout, take over what dead nodes ran,
   * and look for stop requests now and then (the floor under notifications). A node that finds
   * its lease lapsed was taken for dead: what it runs was re-queued elsewhere, so it drops it,
   * unsettled (fencing keeps it from settling anyway).
   */
  private keepLease(): void {
    const { store, node, log } = this.options;
    const leaseMs = this.options.leaseTimeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS;
    const beat = setInterval(() => {
      void (async () => {
        const { held } = await store.heartbeat(node, this.clock());
        if (!held) {
          log.error('this node missed its lease (NodeLeaseTimeout); its running actions were taken over and are dropped here', { node, running: this.running.size });
          for (const a of this.running.all()) a.stop('lease-lost');
        }
        // Lease lost: what this node still owns in the store (an action it claimed after waking,
        // before this heartbeat told it) was taken over by no one; its run was just dropped, so it
        // goes back to the queue now, as after a restart.
        const recovered = await store.recoverExpired(node, this.clock(), { starting: !held });
        if (recovered > 0) log.warn('re-queued actions of a node that stopped heartbeating', { count: recovered });
      })().catch((e: unknown) => log.warn('heartbeat failed', { node, error: (e as Error).message }));
    }, Math.max(10, Math.floor(leaseMs / 3)));
    const stops = setInterval(() => {
      store.pendingStops(node).then(
        (ids) => ids.forEach((id) => this.running.getById(id)?.stop('stop')),
        () => {},
      );
    }, Math.min(this.options.pollMs ?? 1000, 500, MAX_TIMER_MS));
    beat.unref();
    stops.unref();
    this.timers.push(beat, stops);
  }
}

/** Refuses (before anything is stored) parameters larger than the queue's MaxStoredParametersSize. */
function checkParameterSize(settings: QueueSettings, params: readonly (readonly [string, string])[]): void {
  const max = settings.maxParameterBytes;
  if (max === undefined) return;
  let bytes = 0;
  for (const [name, value] of params) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  if (bytes > max) {
    throw new TocsinError(
      'REQUEST_TOO_LARGE',
      `The parameters of this ${settings.name} action take ${bytes} bytes, more than MaxStoredParametersSize=${max}; nothing was stored`,
    );
  }
}

function checkIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new TocsinError('PARAM_INVALID', `IdempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters (it has ${key.length}); nothing was stored`);
  }
  return key;
}

function queueFull(settings: QueueSettings): TocsinError {
  return new TocsinError('QUEUE_FULL', `The ${settings.name} queue is full (MaximumQueueSize=${settings.maxQueueSize}); try again later`);
}

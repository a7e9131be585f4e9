/**
 * The scheduler: one queue per asynchronous action, MaximumThreads worker slots per queue
 * (decisions.md "Asynchronous actions"), submission through the group committer, and the
 * local side of QueueInfo's stop / pause / resume / progress.
 */
import { setMaxListeners } from 'node:events';
import { TocsinError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { DeliveryOutcome, NewAction, Store } from '../store/store.js';
import type { ActionRecord } from './record.js';
import type { AsyncActionDefinition, ParamReader } from './action-definition.js';
import { GroupCommitter } from './group-commit.js';
import { IdleSlots, workerLoop } from './worker-loop.js';
import { MAX_TIMER_MS } from '../common/timers.js';
import { RunningActions, type RunningAction } from './running-actions.js';
import { executeAction } from './execute-action.js';
import { createToken } from './token.js';

/** Local-claim starts allowed to wait for a commit (measured: 64 balances batch size and latency). */
const MAX_UNWRITTEN_STARTS = 64;

export interface QueueSettings {
  /** Canonical action name = queue name. */
  readonly name: string;
  readonly maxThreads: number;
  readonly maxQueueSize: number;
}

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
  readonly clock?: () => number;
}

interface QueueState {
  readonly registered: RegisteredAction;
  readonly idle: IdleSlots;
  paused: boolean;
}

export class Scheduler {
  readonly running = new RunningActions();
  private readonly committer: GroupCommitter;
  private readonly queues = new Map<string, QueueState>();
  private readonly shutdown = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly settledListeners = new Set<(record: ActionRecord) => void>();
  private readonly clock: () => number;
  private stopPoll: NodeJS.Timeout | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? Date.now;
    this.committer = new GroupCommitter(options.store, options.node, options.log, this.clock);
    // Every idle slot of every queue listens for shutdown; more than 10 is normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    for (const registered of options.actions) {
      this.queues.set(registered.settings.name.toLowerCase(), { registered, idle: new IdleSlots(options.pollMs ?? 1000), paused: false });
    }
  }

  /** Recover what a dead process left running, then start every queue's slots. */
  async start(): Promise<void> {
    const recovered = await this.options.store.recoverInterrupted(this.options.node, this.clock());
    if (recovered > 0) this.options.log.warn('re-queued actions interrupted by a previous stop', { count: recovered });
    for (const state of this.queues.values()) {
      state.paused = await this.options.store.isQueuePaused(state.registered.settings.name);
      for (let i = 0; i < state.registered.settings.maxThreads; i++) this.loops.push(this.startSlot(state));
    }
    if (this.options.store.capabilities.shared) this.pollStopRequests();
  }

  /** Find a registered asynchronous action by name, case-insensitively. */
  lookup(name: string): RegisteredAction | undefined {
    return this.queues.get(name.toLowerCase())?.registered;
  }

  queueNames(): string[] {
    return [...this.queues.values()].map((q) => q.registered.settings.name);
  }

  /** Queue a new action; resolves once it is durable. Throws QUEUE_FULL. */
  async submit(actionName: string, params: readonly (readonly [string, string])[], priority = 0): Promise<ActionRecord> {
    if (this.shutdown.signal.aborted) throw new TocsinError('SERVER_STOPPING', 'The server is shutting down and takes no new actions');
    const state = this.state(actionName);
    const record = await this.committer.enqueue(this.newAction(state, params, priority));
    if (record === 'full') throw queueFull(state.registered.settings);
    state.idle.wake(1);
    return record;
  }

  /** A copy of a waiting or running action (QueueAction=Duplicate). */
  async duplicate(source: ActionRecord): Promise<ActionRecord | undefined> {
    const state = this.state(source.queue);
    const copy = await this.options.store.duplicate(source.token, this.newAction(state, source.params, source.priority));
    if (copy === 'full') throw queueFull(state.registered.settings);
    if (copy) state.idle.wake(1);
    return copy;
  }

  /** A new action of the queue, queued now with a fresh token. */
  private newAction(state: QueueState, params: readonly (readonly [string, string])[], priority: number): NewAction {
    const settings = state.registered.settings;
    const now = this.clock();
    const token = createToken(this.options.tokenHost, this.options.tokenPort, settings.name, now);
    return { token, queue: settings.name, priority, params, queuedAt: now, maxQueueSize: settings.maxQueueSize };
  }

  /** Ask a running action to stop: locally at once, and through the store for other nodes. */
  async stop(token: string): Promise<boolean> {
    const requested = await this.options.store.requestStop(token);
    const local = this.running.get(token);
    if (local) local.stop('stop');
    return requested || local !== undefined;
  }

  /** Pause or resume a queue (and its running actions, idol-reference.md §7.2). */
  async setQueuePaused(queueName: string, paused: boolean): Promise<void> {
    const state = this.state(queueName);
    await this.options.store.setQueuePaused(state.registered.settings.name, paused);
    state.paused = paused;
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

  isQueuePaused(queueName: string): boolean {
    return this.state(queueName).paused;
  }

  localAction(token: string): RunningAction | undefined {
    return this.running.get(token);
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
  /** Event delivery outcomes go into the next group commit (with the status changes of actions). */
  recordDeliveries(outcomes: readonly DeliveryOutcome[]): Promise<void> {
    return this.committer.recordDeliveries(outcomes);
  }

  async close(graceMs = 5000): Promise<void> {
    this.shutdown.abort();
    if (this.stopPoll) clearInterval(this.stopPoll);
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
        run: (record) => executeAction(record, definition, deps),
        waitForWork: (signal) => state.idle.wait(signal),
      },
      this.shutdown.signal,
    );
  }

  /**
   * The next action for a slot. With local claims the store hands it out at once and its start
   * joins the next commit; the backlog of unwritten starts is bounded, which keeps commit batches
   * (and event latency) small and lets the event loop serve requests between them.
   */
  private async claim(state: QueueState): Promise<ActionRecord | undefined> {
    if (state.paused) return undefined;
    const queue = state.registered.settings.name;
    const store = this.options.store;
    if (!store.take) return this.committer.claim(queue);
    while (this.committer.pendingStarts >= MAX_UNWRITTEN_STARTS) await this.committer.nextCommit();
    const [record] = store.take(queue, 1, this.clock());
    if (record) this.committer.start(record);
    return record;
  }

  /** With a shared store, a stop may be asked on another node: look for ours now and then. */
  private pollStopRequests(): void {
    this.stopPoll = setInterval(() => {
      this.options.store.pendingStops(this.options.node).then(
        (ids) => ids.forEach((id) => this.running.getById(id)?.stop('stop')),
        () => {},
      );
    }, Math.min(this.options.pollMs ?? 1000, MAX_TIMER_MS));
    this.stopPoll.unref();
  }
}

function queueFull(settings: QueueSettings): TocsinError {
  return new TocsinError('QUEUE_FULL', `The ${settings.name} queue is full (MaximumQueueSize=${settings.maxQueueSize}); try again later`);
}

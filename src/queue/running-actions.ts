/**
 * The actions running on this node: their stop signals, pause state and latest progress.
 * QueueInfo `stop`, `pause`, `resume` and `progress` act through here for local actions.
 */
import { TocsinError } from '../common/errors.js';
import type { ErrorReport, ProgressInfo } from './record.js';

/** `lease-lost`: this node was taken for dead and its actions run elsewhere now. */
export type StopReason = 'stop' | 'shutdown' | 'lease-lost';

const STOP_MESSAGES: Readonly<Record<StopReason, string>> = {
  stop: 'The action was stopped (QueueAction=Stop)',
  shutdown: 'The server is shutting down',
  'lease-lost': 'This node lost its lease (NodeLeaseTimeout); the action was re-queued for another node',
};

export class RunningAction {
  stopReason: StopReason | undefined;
  progress: ProgressInfo | undefined;
  /** Error reports so far: those stored before this run, then this run's. */
  readonly reports: ErrorReport[];
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  // Created on first use: an AbortController costs ~7 µs, a large share of a no-op action's run.
  private abortController: AbortController | undefined;

  constructor(
    readonly id: number,
    readonly token: string,
    readonly queue: string,
    reports: readonly ErrorReport[] = [],
  ) {
    this.reports = [...reports];
  }

  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.controller.abort(new TocsinError('ACTION_STOPPED', STOP_MESSAGES[reason]));
    this.resume();
  }

  get controller(): AbortController {
    return (this.abortController ??= new AbortController());
  }

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const w of waiters) w();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** ActionContext.checkpoint(). */
  async checkpoint(): Promise<void> {
    while (this.paused && !this.stopped) {
      await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
    }
    if (this.stopped) throw this.controller.signal.reason;
  }
}

export class RunningActions {
  private readonly byId = new Map<number, RunningAction>();
  private readonly byToken = new Map<string, RunningAction>();

  add(action: RunningAction): void {
    this.byId.set(action.id, action);
    this.byToken.set(action.token, action);
  }

  remove(action: RunningAction): void {
    this.byId.delete(action.id);
    this.byToken.delete(action.token);
  }

  get(token: string): RunningAction | undefined {
    return this.byToken.get(token);
  }

  getById(id: number): RunningAction | undefined {
    return this.byId.get(id);
  }


  all(): RunningAction[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}

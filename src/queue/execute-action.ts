/**
 * Running one claimed action: build its context, call the definition, turn the outcome into a
 * settlement (Finished / Error / Stopped) and hand it to the group committer.
 *
 * Invariant: every claimed action is settled exactly once, except when the server shuts down
 * under it; then it stays Processing and crash recovery re-queues it at the next start
 * (decisions.md: none is left hanging).
 */
import { errorText } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ActionRecord } from './record.js';
import type { GroupCommitter } from './group-commit.js';
import { ActionFailure, type ActionContext, type AsyncActionDefinition, type ParamReader } from './action-definition.js';
import { RunningAction, type RunningActions } from './running-actions.js';
import type { Settlement } from '../store/store.js';

export interface ExecuteDeps {
  readonly committer: GroupCommitter;
  readonly running: RunningActions;
  readonly log: Logger;
  readonly params: (pairs: readonly (readonly [string, string])[]) => ParamReader;
  readonly clock: () => number;
  /** Called with the final record once the settlement committed. */
  readonly onSettled: (record: ActionRecord) => void;
}

export async function executeAction(record: ActionRecord, definition: AsyncActionDefinition, deps: ExecuteDeps): Promise<void> {
  const running = new RunningAction(record.id, record.token, record.queue, record.reports);
  deps.running.add(running);
  let status: Settlement['status'];
  let result: ActionRecord['result'];
  let error: string | undefined;
  try {
    result = (await definition.run(new RunContext(record, running, deps)))?.result;
    status = running.stopReason ? 'Stopped' : 'Finished';
  } catch (e) {
    result = e instanceof ActionFailure ? e.result : undefined;
    status = running.stopReason ? 'Stopped' : 'Error';
    if (status === 'Error') error = errorText(e);
  } finally {
    deps.running.remove(running);
  }
  // The claimed record serves as is unless this run reported errors (no copy per action).
  const runningRecord = running.reports.length === record.reports.length ? record : { ...record, reports: running.reports };
  const settlement: Settlement = { id: record.id, running: runningRecord, status, endedAt: deps.clock(), ...(result ? { result } : {}), ...(error !== undefined ? { error } : {}) };
  if (running.stopReason === 'shutdown' || running.stopReason === 'lease-lost') return;
  // Not awaited: the slot takes its next action while this settlement joins the same batch.
  deps.committer.settle(settlement).then(
    (final) => final && deps.onSettled(final),
    (e) => deps.log.error('settlement failed', { token: record.token, error: errorText(e) }),
  );
}

/**
 * The context of one run. A class, not an object literal with getters and closures: one object per
 * action instead of a dozen (measured: the literal was 2.7 KB of garbage per no-op action).
 * Parameters, signal and logger are made on first use: most actions touch few of them. The
 * methods are getters returning functions bound to this run, so `const { progress } = ctx` works.
 */
class RunContext implements ActionContext {
  readonly token: string;
  readonly queue: string;
  readonly attempt: number;
  private paramReader: ParamReader | undefined;
  private logger: Logger | undefined;
  private methods: Pick<ActionContext, 'progress' | 'reportError' | 'checkpoint'> | undefined;

  constructor(
    private readonly record: ActionRecord,
    private readonly running: RunningAction,
    private readonly deps: ExecuteDeps,
  ) {
    this.token = record.token;
    this.queue = record.queue;
    this.attempt = record.attempts;
  }

  get params(): ParamReader {
    return (this.paramReader ??= this.deps.params(this.record.params));
  }

  get signal(): AbortSignal {
    return this.running.controller.signal;
  }

  get log(): Logger {
    return (this.logger ??= this.deps.log.child({ action: this.record.queue, token: this.record.token }));
  }

  get progress(): ActionContext['progress'] {
    return this.bound().progress;
  }

  get reportError(): ActionContext['reportError'] {
    return this.bound().reportError;
  }

  get checkpoint(): ActionContext['checkpoint'] {
    return this.bound().checkpoint;
  }

  private bound(): Pick<ActionContext, 'progress' | 'reportError' | 'checkpoint'> {
    const { record, running, deps } = this;
    return (this.methods ??= {
      progress(fraction, stage) {
        const progress = { fraction: Math.min(1, Math.max(0, fraction)), ...(stage !== undefined ? { stage } : {}) };
        running.progress = progress;
        deps.committer.progress({ id: record.id, progress });
      },
      reportError(message) {
        const report = { time: deps.clock(), message };
        running.reports.push(report);
        deps.committer.report({ id: record.id, ...report });
      },
      checkpoint: () => running.checkpoint(),
    });
  }
}

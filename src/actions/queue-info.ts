/**
 * The QueueInfo action (idol-reference.md §7): every QueueAction, matched without regard to case.
 * Each QueueAction is one small function; the table at the bottom maps names to them.
 */
import { TocsinError } from '../common/errors.js';
import { el, parent, repeating, type XElement } from '../common/xnode.js';
import type { SyncAction, SyncActionRequest } from '../aci/action-table.js';
import { intParam, PRIORITY_RANGE, requireParam } from '../aci/param-values.js';
import { parseToken } from '../queue/token.js';
import { isRunning, isWaiting, type ActionRecord } from '../queue/record.js';
import { actionRecordElement, progressElement } from '../queue/record-xml.js';
import type { Scheduler } from '../queue/scheduler.js';
import type { Store } from '../store/store.js';
import { readStatusFilter } from './queue-info-filter.js';

export interface QueueInfoDeps {
  readonly scheduler: Scheduler;
  readonly store: Store;
  readonly clock: () => number;
}

interface QueueRequest {
  readonly queue: string;
  readonly request: SyncActionRequest;
  readonly deps: QueueInfoDeps;
}

type QueueActionHandler = (q: QueueRequest) => Promise<readonly XElement[]>;

/** The action of `Token`, checked to belong to the queue. Throws TOKEN_INVALID / TOKEN_UNKNOWN. */
async function findToken(q: QueueRequest, required: true): Promise<ActionRecord>;
async function findToken(q: QueueRequest, required: false): Promise<ActionRecord | undefined>;
async function findToken(q: QueueRequest, required: boolean): Promise<ActionRecord | undefined> {
  const token = required ? requireParam(q.request.params, 'Token', 'QueueInfo') : q.request.params.get('Token');
  if (token === undefined || token === '') return undefined;
  const parts = parseToken(token);
  const record = await q.deps.store.getAction(token);
  if (!record) throw new TocsinError('TOKEN_UNKNOWN', `No action has token ${token} (it may have been purged after FinishedActionRetention)`);
  if (record.queue !== q.queue || parts.action !== q.queue.toUpperCase()) {
    throw new TocsinError('TOKEN_UNKNOWN', `Token ${token} belongs to the ${record.queue} queue, not ${q.queue}`);
  }
  return record;
}

const conflict = (record: ActionRecord, what: string): TocsinError =>
  new TocsinError('ACTION_STATE_CONFLICT', `Cannot ${what} action ${record.token}: its status is ${record.status}`);

const tokenStatus = (record: ActionRecord): XElement[] => [el('token', record.token), el('status', record.status)];

const getStatus: QueueActionHandler = async (q) => {
  const token = await findToken(q, false);
  const records = await q.deps.store.listActions(readStatusFilter(q.request.params, q.queue, token?.token));
  const now = q.deps.clock();
  return [parent('actions', records.map((r) => actionRecordElement(r, now)))];
};

const cancel: QueueActionHandler = async (q) => {
  const record = await findToken(q, true);
  const cancelled = await q.deps.scheduler.cancel(record.token, q.deps.clock());
  if (!cancelled) throw conflict(record, 'cancel (only a queued action can be cancelled; use QueueAction=Stop for a running one)');
  return tokenStatus(cancelled);
};

const changePriority: QueueActionHandler = async (q) => {
  const record = await findToken(q, true);
  const priority = intParam(q.request.params, 'Priority', 'QueueInfo', PRIORITY_RANGE);
  if (priority === undefined) throw new TocsinError('PARAM_MISSING', 'QueueInfo QueueAction=ChangePriority needs the Priority parameter');
  const changed = await q.deps.store.changePriority(record.token, priority);
  if (!changed) throw conflict(record, 'change the priority of');
  return [...tokenStatus(changed), el('priority', changed.priority)];
};

const duplicate: QueueActionHandler = async (q) => {
  const record = await findToken(q, true);
  const copy = isWaiting(record) || isRunning(record) ? await q.deps.scheduler.duplicate(record) : undefined;
  if (!copy) throw conflict(record, 'duplicate (a completed action cannot be duplicated)');
  return [el('token', copy.token), el('duplicated_from', record.token)];
};

const getActionParameters: QueueActionHandler = async (q) => {
  const token = await findToken(q, false);
  if (token && !(isWaiting(token) || isRunning(token))) throw conflict(token, 'get the parameters of (not available for completed actions)');
  const records = token
    ? [token]
    : await q.deps.store.listActions({ queue: q.queue, statuses: ['Queued', 'Processing', 'Paused'], sortBy: 'queue-time', descending: false });
  const params = (r: ActionRecord) =>
    parent('parameters', r.params.map(([name, value]) => repeating({ name: 'parameter', attrs: { name }, text: value })));
  return [parent('actions', records.map((r) => repeating(parent('action', [el('token', r.token), params(r)]))))];
};

const pause: QueueActionHandler = async (q) => {
  const record = await findToken(q, false);
  if (!record) {
    await q.deps.scheduler.setQueuePaused(q.queue, true);
    // Every running action of the queue, on whichever node runs it: the store tells that node.
    const running = await q.deps.store.listActions({ queue: q.queue, statuses: ['Processing'], sortBy: 'start-time', descending: false });
    for (const r of running) {
      if (await q.deps.store.pauseAction(r.token)) q.deps.scheduler.markPaused(r.token, true);
    }
    return [el('queue', q.queue), el('paused', 'true')];
  }
  const paused = await q.deps.store.pauseAction(record.token);
  if (!paused) throw conflict(record, 'pause');
  q.deps.scheduler.markPaused(record.token, true);
  return tokenStatus(paused);
};

const resume: QueueActionHandler = async (q) => {
  const record = await findToken(q, false);
  if (!record) {
    const paused = await q.deps.store.listActions({ queue: q.queue, statuses: ['Paused'], sortBy: 'queue-time', descending: false });
    for (const p of paused) {
      if (await q.deps.store.resumeAction(p.token)) q.deps.scheduler.markPaused(p.token, false);
    }
    await q.deps.scheduler.setQueuePaused(q.queue, false);
    return [el('queue', q.queue), el('paused', 'false')];
  }
  const resumed = await q.deps.store.resumeAction(record.token);
  if (!resumed) throw conflict(record, 'resume');
  q.deps.scheduler.markPaused(record.token, false);
  q.deps.scheduler.nudge(q.queue);
  return tokenStatus(resumed);
};

const progress: QueueActionHandler = async (q) => {
  const record = await findToken(q, true);
  const local = q.deps.scheduler.localAction(record.token)?.progress;
  const info = local ?? record.progress ?? (record.status === 'Finished' ? { fraction: 1 } : { fraction: 0 });
  return [parent('action', [...tokenStatus(record), progressElement(info.fraction, info.stage)])];
};

const queueStatus: QueueActionHandler = async (q) => {
  const counts = await q.deps.store.queueCounts(q.queue);
  const settings = q.deps.scheduler.lookup(q.queue)!.settings;
  return [
    parent('queue', [
      el('name', q.queue),
      el('paused', counts.paused),
      el('queued', counts.queued),
      el('processing', counts.processing),
      el('paused_actions', counts.pausedActions),
      el('finished', counts.finished),
      el('error', counts.error),
      el('cancelled', counts.cancelled),
      el('stopped', counts.stopped),
      el('maximum_threads', settings.maxThreads),
      el('maximum_queue_size', settings.maxQueueSize),
    ]),
  ];
};

const stop: QueueActionHandler = async (q) => {
  const record = await findToken(q, false);
  if (!record) {
    // Without a token: stop every action of the queue that is running (idol-reference.md §7.2).
    const running = await q.deps.store.listActions({ queue: q.queue, statuses: ['Processing', 'Paused'], sortBy: 'start-time', descending: false });
    const stopped = running.filter(isRunning);
    for (const r of stopped) await q.deps.scheduler.stop(r.token);
    return [el('stopped', stopped.length)];
  }
  if (!isRunning(record) || !(await q.deps.scheduler.stop(record.token))) {
    throw conflict(record, 'stop (only a running action can be stopped; use QueueAction=Cancel for a queued one)');
  }
  return [];
};

const QUEUE_ACTIONS: Readonly<Record<string, QueueActionHandler>> = {
  getstatus: getStatus,
  cancel,
  changepriority: changePriority,
  duplicate,
  getactionparameters: getActionParameters,
  pause,
  resume,
  progress,
  queuestatus: queueStatus,
  stop,
};

export function queueInfoAction(deps: QueueInfoDeps): SyncAction {
  return {
    name: 'QueueInfo',
    role: 'query',
    async run(request) {
      const queueName = requireParam(request.params, 'QueueName', 'QueueInfo');
      const queueAction = requireParam(request.params, 'QueueAction', 'QueueInfo');
      const registered = deps.scheduler.lookup(queueName);
      if (!registered) {
        throw new TocsinError('QUEUE_UNKNOWN', `QueueInfo: QueueName="${queueName.slice(0, 100)}" is not an asynchronous action of this server (queues: ${deps.scheduler.queueNames().join(', ')})`);
      }
      const handler = QUEUE_ACTIONS[queueAction.toLowerCase()];
      if (!handler) {
        throw new TocsinError('QUEUE_ACTION_UNKNOWN', `QueueInfo: QueueAction="${queueAction.slice(0, 100)}" is not one of GetStatus, Cancel, ChangePriority, Duplicate, GetActionParameters, Pause, Resume, Progress, QueueStatus, Stop`);
      }
      return handler({ queue: registered.settings.name, request, deps });
    },
  };
}

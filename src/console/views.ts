/**
 * The JSON shapes the console's page reads. Times are epoch ms; the page formats them.
 */
import type { ActionRecord, ActionStatus } from '../queue/record.js';
import type { EventRow, EventState } from '../store/store.js';
import type { EventType } from '../events/handler.js';

export interface ActionSummary {
  readonly token: string;
  readonly queue: string;
  readonly status: ActionStatus;
  readonly priority: number;
  readonly queuedAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly attempts: number;
  /** 0..1 while it runs, when the action reports progress. */
  readonly progress?: number;
  readonly error?: string;
}

export interface EventSummary {
  readonly id: string;
  readonly seq: number;
  readonly type: EventType;
  readonly handler: string;
  readonly queue: string;
  readonly token?: string;
  readonly state: EventState;
  readonly attempts: number;
  readonly createdAt: number;
  readonly deliveredAt?: number;
  readonly nextAttemptAt?: number;
  readonly lastError?: string;
}

export function actionSummary(r: ActionRecord, localProgress?: number): ActionSummary {
  const progress = localProgress ?? r.progress?.fraction;
  return {
    token: r.token,
    queue: r.queue,
    status: r.status,
    priority: r.priority,
    queuedAt: r.queuedAt,
    attempts: r.attempts,
    ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
    ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
    ...(progress !== undefined ? { progress } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

export function eventSummary(e: EventRow): EventSummary {
  return {
    id: e.eventId,
    seq: e.seq,
    type: e.type,
    handler: e.handler,
    queue: e.queue,
    state: e.state,
    attempts: e.attempts,
    createdAt: e.createdAt,
    ...(e.token !== undefined ? { token: e.token } : {}),
    ...(e.deliveredAt !== undefined ? { deliveredAt: e.deliveredAt } : {}),
    ...(e.state === 'pending' && e.attempts > 0 ? { nextAttemptAt: e.nextAttemptAt } : {}),
    ...(e.lastError !== undefined ? { lastError: e.lastError } : {}),
  };
}

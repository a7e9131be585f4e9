/**
 * The stored state of one asynchronous action, and the status values of decisions.md
 * "Asynchronous actions". Storage-blind: every store returns these.
 */
import type { XElement } from '../common/xnode.js';

export const ACTION_STATUSES = ['Queued', 'Processing', 'Paused', 'Finished', 'Error', 'Cancelled', 'Stopped'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Statuses after which nothing changes any more. */
export const FINAL_STATUSES: ReadonlySet<ActionStatus> = new Set(['Finished', 'Error', 'Cancelled', 'Stopped']);

/** How a run ended. `Stopped` comes from QueueAction=Stop. */
export type RunOutcomeStatus = 'Finished' | 'Error' | 'Stopped';

export interface ErrorReport {
  /** Epoch ms. */
  readonly time: number;
  readonly message: string;
}

export interface ProgressInfo {
  /** 0..1 */
  readonly fraction: number;
  readonly stage?: string;
  readonly stages?: readonly { readonly name: string; readonly fraction: number }[];
}

export interface ActionRecord {
  readonly id: number;
  readonly token: string;
  /** Queue name = the canonical action name (e.g. `Sleep`). */
  readonly queue: string;
  readonly status: ActionStatus;
  readonly priority: number;
  /** Request parameters as sent (names keep their case), without `action`. */
  readonly params: readonly (readonly [string, string])[];
  /** Epoch ms. */
  readonly queuedAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  /** Times the action has been started (a crash recovery counts one more). */
  readonly attempts: number;
  /** Action-specific result elements, shown inside `<action>`. */
  readonly result?: readonly XElement[];
  readonly error?: string;
  /** Non-fatal errors reported while running (OnErrorReport); the newest last. */
  readonly reports: readonly ErrorReport[];
  readonly progress?: ProgressInfo;
  /** Node that runs (or last ran) the action. */
  readonly owner?: string;
}

/** Has the action started but not ended (Processing, or Paused while running)? */
export function isRunning(record: Pick<ActionRecord, 'status' | 'startedAt'>): boolean {
  return record.status === 'Processing' || (record.status === 'Paused' && record.startedAt !== undefined);
}

/** Waiting to start: Queued, or Paused before it ever ran. These make up the queue size. */
export function isWaiting(record: Pick<ActionRecord, 'status' | 'startedAt'>): boolean {
  return record.status === 'Queued' || (record.status === 'Paused' && record.startedAt === undefined);
}

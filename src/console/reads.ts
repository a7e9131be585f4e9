/**
 * The console's reads: a page of actions, one action in detail, a page of events. Filters are read
 * by QueueInfo's own filter reader (same parameter names, values and errors as the ACI); records
 * come from the Store interface, paged by key (paging.ts), never by OFFSET: actions by (queue time,
 * id), on the index ranges of listing-filters.ts; events by seq.
 */
import { TocsinError } from '../common/errors.js';
import { AciParams } from '../aci/params.js';
import { intParam } from '../aci/param-values.js';
import { toSimpleJson, type Json } from '../aci/render.js';
import { readStatusFilter } from '../actions/queue-info-filter.js';
import { listOf } from '../actions/event-info.js';
import { EVENT_TYPES } from '../events/handler.js';
import { actionRecordElement } from '../queue/record-xml.js';
import type { Scheduler } from '../queue/scheduler.js';
import type { ActionRecord } from '../queue/record.js';
import type { EventRow, EventState, Store } from '../store/store.js';
import { decodeCursor, keyedPage, type Page } from './paging.js';
import { actionSummary, eventSummary, type ActionSummary, type EventSummary } from './views.js';

export interface ReadDeps {
  readonly store: Store;
  readonly scheduler: Scheduler;
  /** Configured handler section names. */
  readonly handlers: () => readonly string[];
  readonly clock: () => number;
}

const PAGE_SIZE = { default: 50, max: 500 } as const;
const EVENT_STATES: readonly EventState[] = ['pending', 'delivered', 'failed'];
/** An action causes a handful of events per handler; more than this in a detail view is cut. */
const DETAIL_EVENTS = 500;

function pageSize(params: AciParams): number {
  return intParam(params, 'MaxResults', 'Console', { min: 1, max: PAGE_SIZE.max }) ?? PAGE_SIZE.default;
}

/** `QueueName` (empty: every queue), `State`, `Queued-After`, ... as QueueInfo GetStatus reads them. */
export async function actionsPage(deps: ReadDeps, query: URLSearchParams): Promise<{ actions: ActionSummary[]; next?: string }> {
  const params = new AciParams(query.entries());
  const name = params.get('QueueName');
  const queues = name ? [queueName(deps, name)] : deps.scheduler.queueNames();
  const limit = pageSize(params);
  // Newest first by queue time, ties by id: the only order the cursor follows.
  const filters = queues.map((q) => ({ ...readStatusFilter(params, q, undefined), sortBy: 'queue-time' as const, descending: true }));
  const page: Page<ActionRecord> = await keyedPage(
    {
      fetch: (after, n) => Promise.all(filters.map((f) => deps.store.listActions({ ...f, limit: n, ...(after ? { after: { queuedAt: after[0]!, id: after[1]! } } : {}) }))),
      key: (r) => [r.queuedAt, r.id],
      order: (a, b) => b.queuedAt - a.queuedAt || b.id - a.id,
    },
    decodeCursor(params.get('Cursor'), 2),
    limit,
  );
  return { actions: page.rows.map((r) => summary(deps, r)), ...(page.next ? { next: page.next } : {}) };
}

export interface ActionDetail {
  readonly action: ActionSummary;
  /** The record as QueueInfo GetStatus shows it in simplejson (result elements, output tail, reports). */
  readonly record: Json;
  readonly params: readonly (readonly [string, string])[];
  readonly progress?: { readonly fraction: number; readonly stage?: string };
  readonly owner?: string;
  /** Every event the action caused, oldest first, with each handler's delivery state. */
  readonly events: readonly EventSummary[];
}

export async function actionDetail(deps: ReadDeps, query: URLSearchParams): Promise<ActionDetail> {
  const token = query.get('Token');
  if (!token) throw new TocsinError('PARAM_MISSING', 'The console needs the Token parameter');
  const record = await deps.store.getAction(token);
  if (!record) throw new TocsinError('TOKEN_UNKNOWN', `No action has token ${token.slice(0, 200)} (it may have been purged after FinishedActionRetention)`);
  const events = await deps.store.listEvents({ token, descending: false, limit: DETAIL_EVENTS });
  // As QueueInfo Progress does: a local running action's latest progress is fresher than the store's.
  const progress = deps.scheduler.localAction(token)?.progress ?? record.progress;
  return {
    action: summary(deps, record),
    record: toSimpleJson(actionRecordElement(record, deps.clock())),
    params: record.params,
    ...(progress ? { progress: { fraction: progress.fraction, ...(progress.stage !== undefined ? { stage: progress.stage } : {}) } } : {}),
    ...(record.owner !== undefined ? { owner: record.owner } : {}),
    events: events.map(eventSummary),
  };
}

/** `Handler` (empty: every handler), `State` (comma list), `Type`; newest first. */
export async function eventsPage(deps: ReadDeps, query: URLSearchParams): Promise<{ events: EventSummary[]; next?: string }> {
  const params = new AciParams(query.entries());
  const handler = params.get('Handler') || undefined;
  const states = listOf(params.get('State'), EVENT_STATES, 'State');
  const types = listOf(params.get('Type'), EVENT_TYPES, 'Type');
  const limit = pageSize(params);
  const page: Page<EventRow> = await keyedPage(
    {
      fetch: async (after, n) => [
        await deps.store.listEvents({
          descending: true,
          limit: n,
          ...(handler ? { handler } : {}),
          ...(states ? { states } : {}),
          ...(types ? { types } : {}),
          ...(after ? { beforeSeq: after[0]! } : {}),
        }),
      ],
      key: (e) => [e.seq],
      order: (a, b) => b.seq - a.seq,
    },
    decodeCursor(params.get('Cursor'), 1),
    limit,
  );
  return { events: page.rows.map(eventSummary), ...(page.next ? { next: page.next } : {}) };
}

function queueName(deps: ReadDeps, name: string): string {
  const registered = deps.scheduler.lookup(name);
  if (!registered) throw new TocsinError('QUEUE_UNKNOWN', `"${name.slice(0, 100)}" is not an asynchronous action of this server (queues: ${deps.scheduler.queueNames().join(', ')})`);
  return registered.settings.name;
}

function summary(deps: ReadDeps, r: ActionRecord): ActionSummary {
  return actionSummary(r, deps.scheduler.localAction(r.token)?.progress?.fraction);
}

/**
 * The EventInfo action (decisions.md "ACI"): list stored events by state, handler, token, type and
 * time; count them per handler and state; `EventAction=Redeliver` makes failed events of a handler
 * (one by `Id`, or all) pending again.
 */
import { TocsinError } from '../common/errors.js';
import { formatActionTime } from '../common/dates.js';
import { el, parent, repeating, type XElement } from '../common/xnode.js';
import type { SyncAction, SyncActionRequest } from '../aci/action-table.js';
import { boolParam, choiceParam, intParam, requireParam } from '../aci/param-values.js';
import { parseTimeFilter } from '../common/dates.js';
import { EVENT_TYPES, type EventType } from '../events/handler.js';
import type { EventCount, EventRow, EventState, Store } from '../store/store.js';

export interface EventInfoDeps {
  readonly store: Store;
  /** Configured handler section names. */
  readonly handlers: () => readonly string[];
  /** Redelivered events lie behind the handler's read cursor: tell the engine. */
  readonly rewind: (handler: string, seqs: readonly number[]) => void;
  readonly clock: () => number;
}

const STATES: readonly EventState[] = ['pending', 'delivered', 'failed'];

/** A comma list of `allowed` words, matched without regard to case (also the web console's filters). */
export function listOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (value === undefined || value === '') return undefined;
  return value.split(',').map((word) => {
    const match = allowed.find((a) => a.toLowerCase() === word.trim().toLowerCase());
    if (!match) throw new TocsinError('PARAM_INVALID', `EventInfo: ${name}="${word.trim().slice(0, 100)}" is not one of ${allowed.join(', ')}`);
    return match;
  });
}

function time(request: SyncActionRequest, name: string): number | undefined {
  const value = request.params.get(name);
  if (value === undefined || value === '') return undefined;
  const t = parseTimeFilter(value);
  if (t === undefined) throw new TocsinError('PARAM_INVALID', `EventInfo: ${name}="${value.slice(0, 100)}" is not a time (epoch seconds, 2026-Nov-29 14:02:11, or ISO 8601)`);
  return t;
}

function eventElement(e: EventRow, withDocument: boolean): XElement {
  const children = [el('id', e.eventId), el('seq', e.seq), el('type', e.type), el('handler', e.handler), el('queue', e.queue)];
  if (e.token) children.push(el('token', e.token));
  children.push(el('state', e.state), el('attempts', e.attempts), el('created_time', formatActionTime(e.createdAt)));
  if (e.state === 'pending' && e.attempts > 0) children.push(el('next_attempt_time', formatActionTime(e.nextAttemptAt)));
  if (e.deliveredAt !== undefined) children.push(el('delivered_time', formatActionTime(e.deliveredAt)));
  if (e.lastError !== undefined) children.push(el('last_error', e.lastError));
  if (withDocument) children.push(el('document', e.document));
  return repeating(parent('event', children));
}

function counts(deps: EventInfoDeps, rows: readonly EventCount[]): XElement {
  const handlers = [...new Set([...deps.handlers(), ...rows.map((r) => r.handler)])];
  const total = (state: EventState, handler?: string) =>
    rows.filter((r) => r.state === state && (handler === undefined || r.handler === handler)).reduce((n, r) => n + r.count, 0);
  return parent('counts', [
    ...STATES.map((s) => el(s, total(s))),
    parent('handlers', handlers.map((h) => repeating(parent('handler', [el('name', h), ...STATES.map((s) => el(s, total(s, h)))])))),
  ]);
}

async function list(request: SyncActionRequest, deps: EventInfoDeps): Promise<readonly XElement[]> {
  const p = request.params;
  const states = listOf(p.get('State'), STATES, 'State');
  const types = listOf(p.get('Type'), EVENT_TYPES, 'Type') as EventType[] | undefined;
  const filter = {
    descending: choiceParam(p, 'Sort-Order', 'EventInfo', ['ascending', 'descending'] as const) !== 'ascending',
    limit: intParam(p, 'MaxResults', 'EventInfo', { min: 0, max: 100_000 }) ?? 100,
    ...(states ? { states } : {}),
    ...(types ? { types } : {}),
    ...(p.get('Handler') ? { handler: p.get('Handler')! } : {}),
    ...(p.get('Token') ? { token: p.get('Token')! } : {}),
    ...(p.get('Id') ? { eventId: p.get('Id')! } : {}),
  };
  const after = time(request, 'Created-After');
  const before = time(request, 'Created-Before');
  // One read for both: counts read apart from the list could disagree with it (a delivery between).
  const listing = await deps.store.listEventsCounted({ ...filter, ...(after !== undefined ? { createdAfter: after } : {}), ...(before !== undefined ? { createdBefore: before } : {}) });
  const withDocument = boolParam(p, 'ShowDocument', 'EventInfo') ?? false;
  return [counts(deps, listing.counts), parent('events', listing.events.map((e) => eventElement(e, withDocument)))];
}

async function redeliver(request: SyncActionRequest, deps: EventInfoDeps): Promise<readonly XElement[]> {
  const handlerName = requireParam(request.params, 'Handler', 'EventInfo EventAction=Redeliver');
  const handler = deps.handlers().find((h) => h.toLowerCase() === handlerName.toLowerCase());
  if (!handler) throw new TocsinError('HANDLER_UNKNOWN', `EventInfo: Handler="${handlerName.slice(0, 100)}" is not a configured handler section (${deps.handlers().join(', ') || 'none'})`);
  const id = request.params.get('Id') || undefined;
  const seqs = await deps.store.redeliver(handler, id, deps.clock());
  if (id !== undefined && seqs.length === 0) {
    throw new TocsinError('EVENT_UNKNOWN', `EventInfo: no failed event with Id=${id.slice(0, 100)} for handler ${handler}`);
  }
  deps.rewind(handler, seqs);
  return [el('handler', handler), el('redelivered', seqs.length)];
}

export function eventInfoAction(deps: EventInfoDeps): SyncAction {
  return {
    name: 'EventInfo',
    role: 'admin',
    async run(request) {
      const action = choiceParam(request.params, 'EventAction', 'EventInfo', ['List', 'Redeliver'] as const) ?? 'List';
      return action === 'List' ? list(request, deps) : redeliver(request, deps);
    },
  };
}

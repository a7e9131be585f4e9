/**
 * QueueInfo GetStatus filters, sorting and MaxResults (idol-reference.md §7.1) → ActionFilter.
 */
import { TocsinError } from '../common/errors.js';
import { parseTimeFilter } from '../common/dates.js';
import { ACTION_STATUSES, FINAL_STATUSES, type ActionStatus } from '../queue/record.js';
import type { ActionFilter, SortKey } from '../store/store.js';
import type { ParamReader } from '../queue/action-definition.js';
import { choiceParam, intParam } from '../aci/param-values.js';

const SORT_KEYS: readonly SortKey[] = ['queue-time', 'start-time', 'finish-time', 'priority', 'status'];

/** `State` values: each status by name, plus `completed` for every final status. */
function parseStates(value: string | undefined): ActionStatus[] | undefined {
  if (value === undefined || value === '') return undefined;
  const states = new Set<ActionStatus>();
  for (const word of value.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean)) {
    if (word === 'completed') {
      for (const s of FINAL_STATUSES) states.add(s);
      continue;
    }
    const status = ACTION_STATUSES.find((s) => s.toLowerCase() === word);
    if (!status) {
      throw new TocsinError('PARAM_INVALID', `QueueInfo: State="${value.slice(0, 100)}": "${word}" is not one of ${ACTION_STATUSES.join(', ').toLowerCase()}, completed`);
    }
    states.add(status);
  }
  return [...states];
}

function timeParam(params: ParamReader, name: string): number | undefined {
  const value = params.get(name);
  if (value === undefined || value === '') return undefined;
  const time = parseTimeFilter(value);
  if (time === undefined) {
    throw new TocsinError('PARAM_INVALID', `QueueInfo: ${name}="${value.slice(0, 100)}" is not a time (epoch seconds, 2026-Nov-29 14:02:11, or ISO 8601)`);
  }
  return time;
}

export function readStatusFilter(params: ParamReader, queue: string, token: string | undefined): ActionFilter {
  const statuses = parseStates(params.get('State'));
  const optional = {
    token,
    statuses,
    queuedAfter: timeParam(params, 'Queued-After'),
    queuedBefore: timeParam(params, 'Queued-Before'),
    finishedAfter: timeParam(params, 'Finished-After'),
    finishedBefore: timeParam(params, 'Finished-Before'),
    minPriority: intParam(params, 'Min-Priority', 'QueueInfo'),
    maxPriority: intParam(params, 'Max-Priority', 'QueueInfo'),
    limit: intParam(params, 'MaxResults', 'QueueInfo', { min: 0 }),
  };
  const order = choiceParam(params, 'Sort-Order', 'QueueInfo', ['ascending', 'descending'] as const);
  return {
    queue,
    // IDOL's default: the time received, newest first.
    sortBy: choiceParam(params, 'Sort-By', 'QueueInfo', SORT_KEYS) ?? 'queue-time',
    descending: order !== 'ascending',
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

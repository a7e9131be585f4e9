/**
 * What the console's buttons do: each runs the ACI action an operator would send by hand, through
 * the same action table (QueueInfo Pause / Resume / Cancel / Stop / ChangePriority, EventInfo
 * Redeliver), so the console has no code path of its own for changing anything.
 */
import { TocsinError } from '../common/errors.js';
import { parent } from '../common/xnode.js';
import type { ActionTable } from '../aci/action-table.js';
import { AciParams } from '../aci/params.js';
import { toSimpleJson, type Json } from '../aci/render.js';

export interface CommandDeps {
  readonly actions: ActionTable;
}

/** The QueueActions the console offers; others stay with the ACI. */
const QUEUE_ACTIONS = ['Pause', 'Resume', 'Cancel', 'Stop', 'ChangePriority'] as const;

type Body = Readonly<Record<string, unknown>>;

function text(body: Body, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') {
    if (required) throw new TocsinError('PARAM_MISSING', `The console request needs "${name}"`);
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw new TocsinError('PARAM_INVALID', `The console request's "${name}" must be text or a number`);
  return String(value);
}

async function run(deps: CommandDeps, action: string, pairs: [string, string][], client: string): Promise<Json> {
  const sync = deps.actions.get(action);
  if (!sync) throw new TocsinError('INTERNAL', `The console needs the ${action} action, which this server does not have`);
  const data = await sync.run({ action, params: new AciParams(pairs), files: [], client });
  return toSimpleJson(parent('responsedata', data));
}

/** `{ queue, action, token?, priority? }` → QueueInfo QueueName=queue QueueAction=action ... */
export function queueCommand(deps: CommandDeps, body: Body, client: string): Promise<Json> {
  const queue = text(body, 'queue', true)!;
  const requested = text(body, 'action', true)!;
  const queueAction = QUEUE_ACTIONS.find((a) => a.toLowerCase() === requested.toLowerCase());
  if (!queueAction) throw new TocsinError('QUEUE_ACTION_UNKNOWN', `The console offers QueueAction ${QUEUE_ACTIONS.join(', ')}, not "${requested.slice(0, 100)}"`);
  const pairs: [string, string][] = [
    ['QueueName', queue],
    ['QueueAction', queueAction],
  ];
  const token = text(body, 'token', false);
  const priority = text(body, 'priority', false);
  if (token !== undefined) pairs.push(['Token', token]);
  if (priority !== undefined) pairs.push(['Priority', priority]);
  return run(deps, 'QueueInfo', pairs, client);
}

/** `{ handler, id? }` → EventInfo EventAction=Redeliver Handler=handler [Id=id] */
export function redeliverCommand(deps: CommandDeps, body: Body, client: string): Promise<Json> {
  const pairs: [string, string][] = [
    ['EventAction', 'Redeliver'],
    ['Handler', text(body, 'handler', true)!],
  ];
  const id = text(body, 'id', false);
  if (id !== undefined) pairs.push(['Id', id]);
  return run(deps, 'EventInfo', pairs, client);
}

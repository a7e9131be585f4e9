/**
 * The ACI request handler: parse → look up → authorize → run → render (STYLE.md lesson 9).
 * Exported apart from `listen()` so tests can call it on any server.
 *
 * Every failure is an ACI error (HTTP 200, `<response>ERROR</response>`, idol-reference.md §9.2);
 * nothing a client sends can stop the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TocsinError, errorText } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { el } from '../common/xnode.js';
import type { Scheduler } from '../queue/scheduler.js';
import type { ActionTable } from './action-table.js';
import type { Authorizer } from './authorization.js';
import { intParam, PRIORITY_RANGE } from './param-values.js';
import type { AciParams } from './params.js';
import { parseResponseFormat, renderError, renderSuccess, type RenderedResponse, type ResponseFormat } from './render.js';
import { parseAciRequest, type AciLimits } from './request.js';

export interface AciHandlerDeps {
  readonly actions: ActionTable;
  readonly scheduler: Scheduler;
  readonly authorize: Authorizer;
  readonly limits: AciLimits;
  readonly log: Logger;
  /** Limits a request breaks before it is parsed (http-guards.ts). */
  readonly admit?: (req: IncomingMessage) => TocsinError | undefined;
  /** True once the server is stopping: answers then close their connection. */
  readonly stopping?: () => boolean;
}

export type AciRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Parameters every action accepts that are not the action's own (idol-reference.md §9.2). */
const STANDARD_PARAMS = new Set(['responseformat', 'actionid', 'priority', 'idempotencykey']);

export function createAciHandler(deps: AciHandlerDeps): AciRequestHandler {
  return (req, res) => {
    const refused = deps.admit?.(req);
    // A refused connection is closed after its answer, so that it stops counting against the limit.
    const close = () => refused !== undefined || deps.stopping?.() === true;
    if (refused) return send(res, renderError('UNKNOWN', refused, 'xml'), true);
    handle(req, deps).then(
      (rendered) => send(res, rendered, close()),
      (e) => {
        deps.log.error('unexpected failure answering a request', { error: errorText(e) });
        send(res, renderError('UNKNOWN', new TocsinError('INTERNAL', 'Internal error'), 'xml'), close());
      },
    );
  };
}

async function handle(req: IncomingMessage, deps: AciHandlerDeps): Promise<RenderedResponse> {
  let action = 'UNKNOWN';
  let format: ResponseFormat = 'xml';
  try {
    const request = await parseAciRequest(req, deps.limits);
    action = request.action;
    format = parseResponseFormat(request.params.get('ResponseFormat'));
    const client = req.socket.remoteAddress ?? '';
    const sync = deps.actions.get(action);
    if (sync) {
      authorize(deps, client, sync.name, sync.role);
      return renderSuccess(action, await sync.run({ action, params: request.params, files: request.files, client }), format);
    }
    if (deps.scheduler.lookup(action)) {
      authorize(deps, client, action, 'index');
      return renderSuccess(action, await submit(deps.scheduler, action, request.params), format);
    }
    throw new TocsinError('ACTION_UNKNOWN', `The requested action was not recognised: ${action.slice(0, 100)}`);
  } catch (e) {
    const error = e instanceof TocsinError ? e : new TocsinError('INTERNAL', `Internal error: ${errorText(e)}`, { cause: e });
    if (error.code === 'INTERNAL' || error.code === 'STORE_FAILED') deps.log.error('action failed', { action, code: error.code, error: error.message });
    return renderError(action, error, format);
  }
}

function authorize(deps: AciHandlerDeps, client: string, action: string, role: Parameters<Authorizer>[2]): void {
  if (!deps.authorize(client, action, role)) {
    throw new TocsinError('ACCESS_DENIED', `Client ${client} may not run ${action} (it needs the ${role} role; see [AuthorizationRoles])`);
  }
}

/**
 * Queue an asynchronous action and answer with its token (idol-reference.md §1). With an
 * `IdempotencyKey` the queue already holds, the answer is the first action's token and
 * `<duplicate>true</duplicate>` (decisions.md "Idempotent submission"). The key is not one of the
 * action's stored parameters.
 */
async function submit(scheduler: Scheduler, action: string, params: AciParams) {
  const registered = scheduler.lookup(action)!;
  registered.definition.validate?.(params);
  const priority = intParam(params, 'Priority', action, PRIORITY_RANGE) ?? 0;
  const idempotencyKey = params.get('IdempotencyKey');
  const stored = params.entries().filter(([name]) => !STANDARD_PARAMS.has(name.toLowerCase()));
  const record = await scheduler.submit(registered.settings.name, stored, priority, idempotencyKey === undefined ? {} : { idempotencyKey });
  return record.duplicate ? [el('token', record.token), el('duplicate', 'true')] : [el('token', record.token)];
}

function send(res: ServerResponse, rendered: RenderedResponse, close: boolean): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = { 'Content-Type': rendered.contentType, 'Content-Length': Buffer.byteLength(rendered.body) };
  if (close) headers['Connection'] = 'close';
  res.writeHead(200, headers);
  res.end(rendered.body);
}

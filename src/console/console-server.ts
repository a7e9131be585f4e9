/**
 * The web console at `/console` on the ACI port (decisions.md "Web console"): the page and its
 * assets, JSON reads under `/console/api/`, the buttons' commands (POST), and the live feed
 * (`/console/api/stream`, Server-Sent Events). Every request needs what Admin actions need: a
 * client refused gets 403 and a log line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TocsinError, errorText, type ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ActionTable } from '../aci/action-table.js';
import type { Authorizer } from '../aci/authorization.js';
import type { Scheduler } from '../queue/scheduler.js';
import type { Store } from '../store/store.js';
import { queueCommand, redeliverCommand } from './commands.js';
import { LiveFeed, type LiveFeedOptions } from './live-feed.js';
import { actionDetail, actionsPage, eventsPage, type ReadDeps } from './reads.js';
import { SnapshotBuilder } from './snapshot.js';
import { StaticFiles } from './static-files.js';
import { ThroughputWindow } from './throughput.js';

export interface ConsoleDeps {
  readonly actions: ActionTable;
  readonly scheduler: Scheduler;
  readonly store: Store;
  readonly handlers: () => readonly string[];
  readonly authorize: Authorizer;
  readonly log: Logger;
  readonly node: string;
  readonly clock?: () => number;
  readonly feed?: LiveFeedOptions;
  /** Where the built page lives (tests); default dist/console. */
  readonly assets?: string;
}

export interface WebConsole {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): void;
}

/** The name authorization sees: `[AuthorizationRoles]` may grant `Actions=Console` on its own. */
const CONSOLE_ACTION = 'Console';
const MAX_BODY_BYTES = 64 * 1024;

export function isConsolePath(url: string | undefined): boolean {
  if (!url) return false;
  return url === '/console' || url.startsWith('/console/') || url.startsWith('/console?');
}

const READS: Readonly<Record<string, (deps: ReadDeps, query: URLSearchParams) => Promise<unknown>>> = {
  actions: actionsPage,
  action: actionDetail,
  events: eventsPage,
};

const PAGE_HEADERS = {
  // The page loads only its own script and style sheet; no other site may frame its buttons.
  'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

export function createConsole(deps: ConsoleDeps): WebConsole {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ component: 'console' });
  const files = new StaticFiles(deps.assets);
  const throughput = new ThroughputWindow(deps.scheduler.queueNames(), 300, clock);
  const snapshots = new SnapshotBuilder({ store: deps.store, scheduler: deps.scheduler, handlers: deps.handlers, throughput, node: deps.node, clock });
  const feed = new LiveFeed(() => snapshots.build(), log, deps.feed);
  const readDeps: ReadDeps = { store: deps.store, scheduler: deps.scheduler, handlers: deps.handlers, clock };
  const changed = () => feed.changed();
  const unsubscribe = [
    deps.store.subscribe({ eventsStored: changed, workQueued: changed, actionControl: changed }),
    deps.scheduler.onStarted(changed),
    deps.scheduler.onSettled((record) => {
      throughput.record(record);
      feed.changed();
    }),
  ];
  if (files.missing) log.warn(files.missing);

  async function route(req: IncomingMessage, res: ServerResponse, client: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname.replace(/^\/console\/?/, '');
    if (path === 'api/stream' && req.method === 'GET') return feed.open(req, res);
    if (path.startsWith('api/')) {
      const name = path.slice(4);
      if (req.method === 'GET' && READS[name]) return sendJson(res, 200, await READS[name](readDeps, url.searchParams));
      if (req.method === 'POST' && (name === 'queue' || name === 'redeliver')) {
        const body = await readJsonBody(req);
        const result = name === 'queue' ? await queueCommand(deps, body, client) : await redeliverCommand(deps, body, client);
        log.info('console: command', { client, command: name, ...pick(body, ['queue', 'action', 'token', 'priority', 'handler', 'id']) });
        feed.changed();
        return sendJson(res, 200, { result });
      }
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No console API ${req.method} /console/${path}` } });
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && !files.missing) {
      if (path === '') res.setHeaders(new Map(Object.entries(PAGE_HEADERS)));
      if (files.serve(path, req, res)) return;
    }
    if (files.missing) return sendText(res, 503, files.missing);
    sendText(res, 404, `No console page ${path}`);
  }

  return {
    handle(req, res) {
      const client = req.socket.remoteAddress ?? '';
      if (!deps.authorize(client, CONSOLE_ACTION, 'admin')) {
        log.warn('console: access refused', { client, method: req.method, path: (req.url ?? '').slice(0, 200) });
        req.resume();
        return sendText(res, 403, `Client ${client} may not use the console (it needs the admin role, or Actions=Console; see [AuthorizationRoles])`);
      }
      if (req.method === 'POST' && !sameOrigin(req)) {
        log.warn('console: command from another origin refused', { client, origin: req.headers.origin });
        req.resume();
        return sendText(res, 403, 'Console commands are taken only from the console page itself');
      }
      route(req, res, client).catch((e: unknown) => {
        const error = e instanceof TocsinError ? e : new TocsinError('INTERNAL', `Internal error: ${errorText(e)}`, { cause: e });
        if (error.code === 'INTERNAL' || error.code === 'STORE_FAILED') log.error('console: request failed', { path: req.url, code: error.code, error: error.message });
        if (res.headersSent) return void res.end();
        sendJson(res, httpStatus(error.code), { error: { code: error.code, aciCode: error.spec.aciCode, message: error.message } });
      });
    },
    close() {
      for (const u of unsubscribe) u();
      feed.close();
    },
  };
}

/**
 * A command must come from the console page: a JSON body (a cross-site form cannot send one
 * without a CORS preflight, which this server never grants) and, when the browser names it, this
 * host as the origin.
 */
function sameOrigin(req: IncomingMessage): boolean {
  if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'PARAM_MISSING':
    case 'PARAM_INVALID':
    case 'QUEUE_ACTION_UNKNOWN':
    case 'REQUEST_MALFORMED':
    case 'REQUEST_TOO_LARGE':
      return 400;
    case 'TOKEN_UNKNOWN':
    case 'TOKEN_INVALID':
    case 'QUEUE_UNKNOWN':
    case 'EVENT_UNKNOWN':
    case 'HANDLER_UNKNOWN':
      return 404;
    case 'ACTION_STATE_CONFLICT':
    case 'QUEUE_FULL':
      return 409;
    case 'STORE_UNAVAILABLE':
    case 'SERVER_STOPPING':
      return 503;
    default:
      return 500;
  }
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new TocsinError('REQUEST_TOO_LARGE', `A console request body is at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new TocsinError('REQUEST_MALFORMED', 'The console request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TocsinError('REQUEST_MALFORMED', 'The console request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The named fields of a request body, for the log line (nothing else the client sent is logged). */
function pick(body: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => body[n] !== undefined).map((n) => [n, body[n]]));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

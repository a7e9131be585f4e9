/**
 * Assembling a running Tocsin: settings → store → scheduler → ACI server. `startServer` is what
 * `tocsin serve` and library users call.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { TocsinError } from './common/errors.js';
import { createLogger, type Logger } from './common/logger.js';
import { formatProblem } from './config/problems.js';
import type { LoadedConfig } from './config/load-settings.js';
import type { Settings } from './config/settings.js';
import { prepareConfig, type PreparedConfig } from './prepare-config.js';
import { builtinHandlerRegistry } from './events/builtin-handlers.js';
import type { EventDelivery, HandlerContext, HandlerFactory } from './events/handler.js';
import { createEventPlanner } from './events/planner.js';
import { DeliveryEngine } from './events/engine/delivery-engine.js';
import { warnOfUnconfiguredHandlers } from './events/unconfigured-handlers.js';
import { eventInfoAction } from './actions/event-info.js';
import { AciParams } from './aci/params.js';
import { ActionTable } from './aci/action-table.js';
import { createAciHandler, type AciRequestHandler } from './aci/server.js';
import { createAuthorizer } from './aci/authorization.js';
import { readServerTls } from './aci/server-tls.js';
import { httpTimeoutOptions } from './aci/http-timeouts.js';
import { installHttpGuards } from './aci/http-guards.js';
import { maxHeaderBytes } from './config/read-request-limits.js';
import { Scheduler, type RegisteredAction } from './queue/scheduler.js';
import { logActionLifecycle } from './queue/lifecycle-log.js';
import type { AsyncActionDefinition } from './queue/action-definition.js';
import { openStore } from './store/open-store.js';
import { nodeName } from './config/node-name.js';
import type { Store } from './store/store.js';
import { sleepAction } from './actions/sleep.js';
import { commandAction } from './actions/command-action.js';
import { queueInfoAction } from './actions/queue-info.js';
import { getStatusAction, getVersionAction } from './actions/server-info.js';
import { RetentionPurger } from './queue/retention.js';
import { createConsole, isConsolePath } from './console/console-server.js';
import { TocsinMetrics } from './metrics/metrics.js';
import { createMetricsEndpoint, isMetricsPath } from './metrics/metrics-endpoint.js';

export interface StartOptions {
  /** The config file (IDOL-style). */
  readonly configFile: string;
  /** Asynchronous actions defined in code, in addition to Sleep and command actions. */
  readonly actions?: readonly AsyncActionDefinition[];
  /** Handler libraries defined in code, in addition to HttpHandler, LuaHandler and TextFileHandler. */
  readonly handlers?: readonly HandlerFactory[];
  /** Overrides `[Server] Port` (0 = any free port). */
  readonly port?: number;
  /** Log here instead of to `[Logging] LogFile` or stderr (LogLevel then does not apply). */
  readonly logger?: Logger;
  /** Human-readable log lines (pino-pretty) instead of JSON: `tocsin serve --pretty`. */
  readonly prettyLogs?: boolean;
}

export interface RunningServer {
  readonly settings: Settings;
  /** The port actually listened on. */
  readonly port: number;
  /** `http://host:port` of the ACI server. */
  readonly url: string;
  readonly scheduler: Scheduler;
  readonly store: Store;
  /** This node's name (`[Server] NodeName`). */
  readonly node: string;
  readonly events: DeliveryEngine;
  readonly log: Logger;
  /** The `/metrics` registry; library users may register metrics of their own on `metrics.registry`. */
  readonly metrics: TocsinMetrics;
  close(): Promise<void>;
}

/**
 * Load and validate the config and create its handlers; throws CONFIG_INVALID listing every error
 * (after closing any handler already created). Warnings are logged.
 */
function prepareOrThrow(options: StartOptions, contextFor: (section: string, loaded: LoadedConfig) => HandlerContext, log: Logger): PreparedConfig {
  const prepared = prepareConfig(options.configFile, {
    codeActions: (options.actions ?? []).map((a) => a.name),
    registry: builtinHandlerRegistry(options.handlers),
    contextFor,
    start: true,
  });
  const problems = prepared.loaded.sink.problems;
  if (prepared.loaded.sink.hasErrors) {
    for (const h of prepared.handlers.values()) void h.handler.close().catch(() => undefined);
    const lines = problems.filter((p) => p.severity === 'error').map(formatProblem);
    throw new TocsinError('CONFIG_INVALID', `The configuration has errors:\n${lines.join('\n')}`);
  }
  for (const p of problems) log.warn(formatProblem(p));
  return prepared;
}

/** What a handler gets from the server; `send` reaches the engine once it exists. */
function handlerContext(section: string, loaded: LoadedConfig, log: Logger, engine: () => DeliveryEngine | undefined): HandlerContext {
  return {
    log: log.child({ handler: section }),
    dataDirectory: loaded.settings.server.dataDirectory,
    readSection: (name) => {
      const r = loaded.section(name);
      return r.exists ? r : undefined;
    },
    async send(target: string, text: string, event: EventDelivery) {
      const configured = engine()?.handler(target);
      if (!configured) throw new TocsinError('HANDLER_UNKNOWN', `send(): [${target}] is not a handler section (it needs a LibraryName)`);
      // Field by field: a delivery may be a class instance whose `request` is a getter (no spread).
      const forwarded: EventDelivery = { id: event.id, type: event.type, handler: configured.name, queue: event.queue, document: text, request: event.request, attempt: event.attempt };
      await configured.handler.deliver(event.token === undefined ? forwarded : { ...forwarded, token: event.token }, AbortSignal.timeout(60_000));
    },
  };
}

function registeredActions(settings: Settings, code: readonly AsyncActionDefinition[]): RegisteredAction[] {
  const definitions = [...code, ...(settings.actions.enableTestActions ? [sleepAction] : []), ...settings.actions.commands.map(commandAction)];
  return definitions.map((definition) => {
    const q = settings.actions.queues.get(definition.name.toLowerCase())!;
    return { definition, settings: { name: q.name, maxThreads: q.maximumThreads, maxQueueSize: q.maximumQueueSize, maxParameterBytes: q.maxStoredParametersSize } };
  });
}

/** The host written into tokens: the listening address, or a real address for a wildcard. */
function tokenHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  return external?.address ?? hostname();
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new TocsinError('CONFIG_VALUE', `Cannot listen on ${host}:${port} ([Server] Host/Port): ${e.message}`, { cause: e })),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const code = options.actions ?? [];
  const pretty = options.prettyLogs === true;
  const bootLog = options.logger ?? createLogger({ pretty });
  let engine: DeliveryEngine | undefined;
  const { loaded, handlers } = prepareOrThrow(options, (section, l) => handlerContext(section, l, bootLog, () => engine), bootLog);
  const { settings } = loaded;
  const logFile = settings.logging.file;
  const log = options.logger ?? createLogger({ level: settings.logging.level, pretty, ...(logFile !== undefined ? { file: logFile } : {}) });
  const tls = settings.server.sslConfig ? readServerTls(loaded, settings.server.sslConfig) : undefined;
  // Until everything is up (tokens need the port), requests get a 503.
  let aci: AciRequestHandler = (_req, res) => res.writeHead(503).end();
  const handler: AciRequestHandler = (req, res) => aci(req, res);
  const serverOptions = { maxHeaderSize: maxHeaderBytes(settings.server), ...httpTimeoutOptions(settings.server) };
  const http = tls ? createHttpsServer({ ...serverOptions, ...tls }, handler) : createHttpServer(serverOptions, handler);
  const guards = installHttpGuards(http, settings.server, tls !== undefined);
  let stopping = false;
  let store: Store;
  let port: number;
  let node: string;
  try {
    port = await listen(http, options.port ?? settings.server.port, settings.server.host);
    const server = `${tokenHost(settings.server.host)}:${port}`;
    node = nodeName(settings.server, port);
    const planner = createEventPlanner(settings.actions.queues, server);
    store = await openStore(settings, { planner, log, where: loaded.section('Actions').locate('ConnectionString') });
  } catch (e) {
    http.close();
    for (const h of handlers.values()) await h.handler.close().catch(() => undefined);
    throw e;
  }
  const registered = registeredActions(settings, code);
  const metrics = new TocsinMetrics({
    queues: () => registered.map((r) => ({ name: r.settings.name, maxThreads: r.settings.maxThreads, maxQueueSize: r.settings.maxQueueSize })),
    queueCounts: (queue) => store.queueCounts(queue),
    eventCounts: () => store.eventCounts(),
  });
  const scheduler = new Scheduler({
    store,
    actions: registered,
    tokenHost: tokenHost(settings.server.host),
    tokenPort: port,
    node,
    log,
    params: (pairs) => new AciParams(pairs),
    pollMs: settings.actions.pollIntervalMs,
    leaseTimeoutMs: settings.actions.nodeLeaseTimeoutMs,
    onCommit: (seconds) => metrics.commitTook(seconds),
  });
  // Only where its lines are written: otherwise it would build three discarded objects per action.
  if (settings.logging.level === 'debug') logActionLifecycle(scheduler, log);
  scheduler.onSubmitted((record) => metrics.actionSubmitted(record));
  scheduler.onStarted((record) => metrics.actionStarted(record));
  scheduler.onSettled((record) => metrics.actionSettled(record));
  scheduler.onCancelled((record) => metrics.actionCancelled(record));
  engine = new DeliveryEngine({
    outbox: store,
    node,
    handlers,
    log,
    pollMs: settings.actions.pollIntervalMs,
    leaseTimeoutMs: settings.actions.nodeLeaseTimeoutMs,
    onAttempt: (attempt) => metrics.deliveryAttempt(attempt),
    outcomesQueued: store.capabilities.queuesOutcomes,
  });
  const startedAt = Date.now();
  const events = engine;
  const actions = new ActionTable()
    .add(getVersionAction({ startedAt, dataDirectory: settings.server.dataDirectory }))
    .add(getStatusAction({ scheduler, store, startedAt, port, dataDirectory: settings.server.dataDirectory, datastore: settings.actions.datastoreType, node }))
    .add(queueInfoAction({ scheduler, store, clock: Date.now }))
    .add(eventInfoAction({ store, handlers: () => [...handlers.values()].map((h) => h.name), rewind: (h, seqs) => events.rewind(h, seqs), clock: Date.now }));
  const authorize = createAuthorizer(settings.roles);
  const handlerNames = () => [...handlers.values()].map((h) => h.name);
  const aciHandler = createAciHandler({
    actions,
    scheduler,
    authorize,
    limits: {
      maxInputString: settings.server.maxInputString,
      maxBodyBytes: settings.server.maxRequestSize,
      maxFileUploadSize: settings.server.maxFileUploadSize,
      maxParameters: settings.server.maxParameters,
    },
    log,
    admit: (req) => guards.admit(req),
    stopping: () => stopping,
  });
  const webConsole = createConsole({ actions, scheduler, store, handlers: handlerNames, authorize, log, node });
  const metricsEndpoint = createMetricsEndpoint(metrics, authorize, log);
  aci = (req, res) => {
    if (isConsolePath(req.url)) return webConsole.handle(req, res);
    if (isMetricsPath(req.url)) return metricsEndpoint(req, res);
    return aciHandler(req, res);
  };
  // Before any event is delivered: events of a section renamed only in case are its own.
  for (const h of handlers.values()) {
    const adopted = await store.adoptHandlerEvents(h.name);
    if (adopted > 0) log.info('pending and failed events of a section spelled otherwise in case now go to this one', { handler: h.name, events: adopted });
  }
  await warnOfUnconfiguredHandlers(store, [...handlers.values()].map((h) => h.name), log);
  await scheduler.start();
  await engine.start();
  const purger = new RetentionPurger(store, scheduler.queueNames(), settings.actions.finishedActionRetentionMs, log);
  purger.start();
  const host = settings.server.host.includes(':') ? `[${settings.server.host}]` : settings.server.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  let closing: Promise<void> | undefined;
  const stop = () => (webConsole.close(), stopServer({ purger, scheduler, events, http, store, graceMs: settings.server.shutdownGraceMs }));
  log.info('Tocsin listening', { url, queues: scheduler.queueNames(), handlers: [...handlers.values()].map((h) => h.name), dataDirectory: settings.server.dataDirectory });
  return {
    settings,
    port,
    url,
    scheduler,
    store,
    node,
    events,
    log,
    metrics,
    close() {
      stopping = true;
      return (closing ??= stop());
    },
  };
}

/**
 * A clean stop (decisions.md "Shutdown"): new submissions are refused (SERVER_STOPPING) while
 * running actions get ShutdownGrace; the port stays open meanwhile so clients can still ask
 * QueueInfo how their actions end (and Stop them). Then the port closes, deliveries in flight get
 * the engine's grace or stay pending, and the store closes last.
 */
async function stopServer(parts: { purger: RetentionPurger; scheduler: Scheduler; events: DeliveryEngine; http: Server; store: Store; graceMs: number }): Promise<void> {
  const { purger, scheduler, events, http, store } = parts;
  purger.stop();
  await scheduler.close(parts.graceMs);
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  http.closeIdleConnections();
  await events.close();
  http.closeAllConnections();
  await closed;
  await store.close();
}

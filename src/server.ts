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
import { loadSettings, type LoadedConfig } from './config/load-settings.js';
import type { Settings } from './config/settings.js';
import { AciParams } from './aci/params.js';
import { ActionTable } from './aci/action-table.js';
import { createAciHandler, type AciRequestHandler } from './aci/server.js';
import { createAuthorizer } from './aci/authorization.js';
import { readServerTls } from './aci/server-tls.js';
import { Scheduler, type RegisteredAction } from './queue/scheduler.js';
import type { AsyncActionDefinition } from './queue/action-definition.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';
import { sleepAction } from './actions/sleep.js';
import { commandAction } from './actions/command-action.js';
import { queueInfoAction } from './actions/queue-info.js';
import { getStatusAction, getVersionAction } from './actions/server-info.js';
import { RetentionPurger } from './queue/retention.js';

export interface StartOptions {
  /** The config file (IDOL-style). */
  readonly configFile: string;
  /** Asynchronous actions defined in code, in addition to Sleep and command actions. */
  readonly actions?: readonly AsyncActionDefinition[];
  /** Overrides `[Server] Port` (0 = any free port). */
  readonly port?: number;
  readonly logger?: Logger;
}

export interface RunningServer {
  readonly settings: Settings;
  /** The port actually listened on. */
  readonly port: number;
  /** `http://host:port` of the ACI server. */
  readonly url: string;
  readonly scheduler: Scheduler;
  readonly store: Store;
  readonly log: Logger;
  close(): Promise<void>;
}

/** Load and validate the config; throws CONFIG_INVALID listing every error. Warnings are logged. */
export function loadConfigOrThrow(file: string, codeActions: readonly string[], log?: Logger): LoadedConfig {
  const loaded = loadSettings(file, { codeActions });
  loaded.reportUnusedSections();
  const problems = loaded.sink.problems;
  if (loaded.sink.hasErrors) {
    const lines = problems.filter((p) => p.severity === 'error').map(formatProblem);
    throw new TocsinError('CONFIG_INVALID', `The configuration has errors:\n${lines.join('\n')}`);
  }
  for (const p of problems) log?.warn(formatProblem(p));
  return loaded;
}

function registeredActions(settings: Settings, code: readonly AsyncActionDefinition[]): RegisteredAction[] {
  const definitions = [...code, ...(settings.actions.enableTestActions ? [sleepAction] : []), ...settings.actions.commands.map(commandAction)];
  return definitions.map((definition) => {
    const q = settings.actions.queues.get(definition.name.toLowerCase())!;
    return { definition, settings: { name: q.name, maxThreads: q.maximumThreads, maxQueueSize: q.maximumQueueSize } };
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
  const bootLog = options.logger ?? createLogger();
  const loaded = loadConfigOrThrow(options.configFile, code.map((a) => a.name), bootLog);
  const { settings } = loaded;
  const log = options.logger ?? createLogger({ level: settings.server.logLevel });
  const tls = settings.server.sslConfig ? readServerTls(loaded, settings.server.sslConfig) : undefined;
  const store = new SqliteStore({ file: join(settings.server.dataDirectory, 'tocsin.db'), durability: settings.actions.durability });
  const startedAt = Date.now();
  const actions = new ActionTable();
  // Until the scheduler is up (it needs the port for tokens), requests get a 503.
  let aci: AciRequestHandler = (_req, res) => res.writeHead(503).end();
  const handler: AciRequestHandler = (req, res) => aci(req, res);
  // Node's default 16 KB header limit would refuse long GET URLs before MaxInputString is checked.
  const serverOptions = { maxHeaderSize: settings.server.maxInputString * 3 + 8192 };
  const http = tls ? createHttpsServer({ ...serverOptions, ...tls }, handler) : createHttpServer(serverOptions, handler);
  let port: number;
  try {
    port = await listen(http, options.port ?? settings.server.port, settings.server.host);
  } catch (e) {
    await store.close();
    throw e;
  }
  const scheduler = new Scheduler({
    store,
    actions: registeredActions(settings, code),
    tokenHost: tokenHost(settings.server.host),
    tokenPort: port,
    node: `${hostname()}:${port}:${process.pid}`,
    log,
    params: (pairs) => new AciParams(pairs),
    pollMs: settings.actions.pollIntervalMs,
  });
  actions
    .add(getVersionAction({ startedAt, dataDirectory: settings.server.dataDirectory }))
    .add(getStatusAction({ scheduler, store, startedAt, port, dataDirectory: settings.server.dataDirectory, datastore: settings.actions.datastoreType }))
    .add(queueInfoAction({ scheduler, store, clock: Date.now }));
  aci = createAciHandler({
    actions,
    scheduler,
    authorize: createAuthorizer(settings.roles),
    limits: { maxInputString: settings.server.maxInputString, maxBodyBytes: settings.server.maxRequestSize, maxFileUploadSize: settings.server.maxFileUploadSize },
    log,
  });
  await scheduler.start();
  const purger = new RetentionPurger(store, scheduler.queueNames(), settings.actions.finishedActionRetentionMs, log);
  purger.start();
  const host = settings.server.host.includes(':') ? `[${settings.server.host}]` : settings.server.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  log.info('Tocsin listening', { url, queues: scheduler.queueNames(), dataDirectory: settings.server.dataDirectory });
  return {
    settings,
    port,
    url,
    scheduler,
    store,
    log,
    async close() {
      purger.stop();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await scheduler.close(settings.server.shutdownGraceMs);
      http.closeAllConnections();
      await closed;
      await store.close();
    },
  };
}

/**
 * The typed, frozen settings object: IDOL section and key names map one to one onto fields.
 * Defaults are those of decisions.md unless a comment says otherwise.
 */
import type { EventType } from '../events/handler.js';
import type { HttpTimeoutSettings } from './read-http-timeouts.js';
import type { RequestLimitSettings } from './read-request-limits.js';
import type { LoggingSettings } from './read-logging.js';

export interface ServerSettings extends HttpTimeoutSettings, RequestLimitSettings {
  /** `[Server] Port`, default 9000. */
  readonly port: number;
  /** `[Server] Host`, default 127.0.0.1. */
  readonly host: string;
  /** `[Server] DataDirectory`, default ./data (relative to the config file). */
  readonly dataDirectory: string;
  /** `[Server] LogLevel`: debug, info (default), warn, error. */
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** `[Server] SSLConfig`: a section with TLS settings for serving the ACI port over HTTPS. */
  readonly sslConfig?: string;
  /** `[Server] ShutdownGrace`: how long running actions get to end at shutdown, default 5s. */
  readonly shutdownGraceMs: number;
  /**
   * `[Server] NodeName`: this node's stable name in a shared store (decisions.md "Many machines"),
   * at most 255 characters. Undefined when not set: the default, host name and the port the server
   * listens on, is known only once it listens (`Port=0`, `--port`); `nodeName()` in node-name.ts
   * gives the name either way.
   */
  readonly nodeName?: string;
}

/** Handler section names per event (comma lists; decisions.md "Events"). */
export type EventWiring = Readonly<Record<EventType, readonly string[]>>;

export interface QueueEventThresholds {
  /** `QueueFillingThreshold`, share of MaximumQueueSize, default 0.7 (the documented example). */
  readonly filling: number;
  /** `QueueEmptyingThreshold`, default 0.5 (IDOL CFS default). Must be below `filling`. */
  readonly emptying: number;
}

export interface ActionQueueSettings {
  /** Canonical action name, also the queue name. */
  readonly name: string;
  /** `MaximumThreads`, default 1. */
  readonly maximumThreads: number;
  /** `MaximumQueueSize`, default 10000. */
  readonly maximumQueueSize: number;
  /** `MaxStoredParametersSize`: bytes (UTF-8) of the names and values one action stores, default 1 MiB. */
  readonly maxStoredParametersSize: number;
  readonly events: EventWiring;
  readonly thresholds: QueueEventThresholds;
}

export interface CommandActionSettings {
  readonly name: string;
  /** `Command`: a program path (never run through a shell). */
  readonly command: string;
  /** `Arguments`: a comma list; `%Param%` is replaced by the request's parameter. */
  readonly arguments: readonly string[];
  /** `Timeout`, default 1h. */
  readonly timeoutMs: number;
  /** `WorkingDirectory`, default the config file's directory. */
  readonly workingDirectory: string;
  /** `OutputTail`: bytes of stdout/stderr kept in the result, default 4096. */
  readonly outputTailBytes: number;
}

export type DatastoreType = 'sqlite' | 'postgres';

export interface ActionsSettings {
  /** `Durability`: process (default) or power (fsync per commit batch). */
  readonly durability: 'process' | 'power';
  /** `FinishedActionRetention`, default 7d. */
  readonly finishedActionRetentionMs: number;
  /** `EnableTestActions`: enables `Sleep`, default false. */
  readonly enableTestActions: boolean;
  /** `DatastoreType`, default sqlite. */
  readonly datastoreType: DatastoreType;
  /** `ConnectionString` for postgres. */
  readonly connectionString?: string;
  /** `PollInterval`: idle workers look for work at least this often, default 1s. */
  readonly pollIntervalMs: number;
  /**
   * `NodeLeaseTimeout`: a node that has not heartbeaten into a shared store for this long is dead
   * (its running actions are re-queued, its deliveries taken over), default 15s, 1s to 1h.
   */
  readonly nodeLeaseTimeoutMs: number;
  /** Per asynchronous action (defaults from `[Actions]`, overridden in `[ActionName]`). */
  readonly queues: ReadonlyMap<string, ActionQueueSettings>;
  /** Command actions (`[Name] Type=Command`). */
  readonly commands: readonly CommandActionSettings[];
}

export interface RoleSettings {
  readonly name: string;
  /** Lower-case standard roles: admin, query, index, servicecontrol, servicestatus, or `*`. */
  readonly standardRoles: ReadonlySet<string>;
  /** Lower-case action names granted explicitly. */
  readonly actions: ReadonlySet<string>;
  /** Client address patterns (`*` wildcards). */
  readonly clients: readonly string[];
}

export interface HandlerSectionSettings {
  readonly name: string;
  readonly libraryName: string;
}

export interface Settings {
  /** Absolute path of the main config file. */
  readonly file: string;
  readonly server: ServerSettings;
  /** `[Logging]`: LogLevel (over `[Server] LogLevel`) and LogFile. */
  readonly logging: LoggingSettings;
  readonly actions: ActionsSettings;
  /** `[AuthorizationRoles]`; empty means the IDOL defaults (idol-reference.md §9.4). */
  readonly roles: readonly RoleSettings[];
  /** Every handler section referenced by an On* parameter. */
  readonly handlers: ReadonlyMap<string, HandlerSectionSettings>;
}

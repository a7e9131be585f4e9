/**
 * Config file → validated Settings. Every problem goes to the sink with file:line; the caller
 * decides whether errors stop the start (serve) or are just printed (check-config).
 */
import { dirname, resolve } from 'node:path';
import { EVENT_TYPES, type EventType } from '../events/handler.js';
import { readConfigDocument } from './parse.js';
import { createProblemSink } from './problems.js';
import { createSectionReader, type TrackingSectionReader } from './section-reader.js';
import type { ConfigDocument, ProblemSink, SectionReader } from './types.js';
import type {
  ActionQueueSettings,
  ActionsSettings,
  CommandActionSettings,
  EventWiring,
  HandlerSectionSettings,
  QueueEventThresholds,
  RoleSettings,
  ServerSettings,
  Settings,
} from './settings.js';
import { readRoles } from './read-roles.js';
import { readHttpTimeouts } from './read-http-timeouts.js';
import { readRequestLimits } from './read-request-limits.js';
import { readLogging } from './read-logging.js';

export interface LoadOptions {
  /** Asynchronous actions defined in code (library API and built-ins other than Sleep). */
  readonly codeActions?: readonly string[];
}

export interface LoadedConfig {
  readonly settings: Settings;
  readonly doc: ConfigDocument;
  readonly sink: ProblemSink;
  /** Opens a reader on a section, remembering it as used (for the unused-section warning). */
  readonly section: (name: string) => TrackingSectionReader;
  /** Warn about sections nothing read. Call after every section has been read. */
  readonly reportUnusedSections: () => void;
}

export const SLEEP_ACTION = 'Sleep';

export function loadSettings(file: string, options: LoadOptions = {}): LoadedConfig {
  const sink = createProblemSink();
  const mainFile = resolve(file);
  const doc = readConfigDocument(mainFile, sink);
  const used = new Set<string>();
  const section = (name: string): TrackingSectionReader => {
    used.add(name.toLowerCase());
    return createSectionReader(doc, name, sink);
  };

  const server = readServer(section('Server'), dirname(mainFile));
  const logging = readLogging(section('Logging'), server.logLevel);
  const actionsReader = section('Actions');
  const defaults = readQueueKeys(actionsReader);
  const commands = findCommandSections(doc).map((name) => readCommand(section(name), dirname(mainFile)));
  const actions = readActions(actionsReader, options, commands, defaults, section);
  const roles = readRoles(section, doc);
  const handlers = readHandlerSections(doc, defaults.events, actions.queues, section);
  canonicaliseHandlerNames(actions.queues as Map<string, ActionQueueSettings>, handlers);

  const settings: Settings = deepFreeze({ file: mainFile, server, logging, actions, roles, handlers });
  const reportUnusedSections = () => {
    for (const s of doc.sections.values()) {
      if (used.has(s.name.toLowerCase())) continue;
      sink.add({ severity: 'warning', code: 'CONFIG_REFERENCE', file: s.file, line: s.line, section: s.name, message: 'this section is not used by any action, handler or setting' });
    }
  };
  return { settings, doc, sink, section, reportUnusedSections };
}

function readServer(r: SectionReader, configDir: string): ServerSettings {
  const sslConfig = r.string('SSLConfig');
  const nodeName = readNodeName(r);
  const server: ServerSettings = {
    port: r.int('Port', { default: 9000, min: 0, max: 65535 })!,
    host: r.string('Host', { default: '127.0.0.1' })!,
    dataDirectory: r.path('DataDirectory') ?? resolve(configDir, 'data'),
    logLevel: r.oneOf('LogLevel', ['debug', 'info', 'warn', 'error'] as const, { default: 'info' })!,
    shutdownGraceMs: r.duration('ShutdownGrace', { bareUnit: 's', default: 5000 })!,
    ...readHttpTimeouts(r),
    ...readRequestLimits(r),
    ...(sslConfig ? { sslConfig } : {}),
    ...(nodeName ? { nodeName } : {}),
  };
  r.finish();
  return server;
}

/** Node names are stored in the database and printed in logs: one line of reasonable length. */
const MAX_NODE_NAME = 255;

function readNodeName(r: SectionReader): string | undefined {
  const name = r.string('NodeName');
  if (name === undefined) return undefined;
  if (name.length > MAX_NODE_NAME || /\p{Cc}/u.test(name)) {
    r.error('NodeName', `must be at most ${MAX_NODE_NAME} characters, with no control characters`);
    return undefined;
  }
  return name;
}

/**
 * `MaxStoredParametersSize` default: 1 MiB of names and values (UTF-8) per action. A request may
 * carry up to MaxRequestSize (20MB) of fields, and a full queue of 10,000 such actions would be
 * 200 GB in the store; 1 MiB is sixteen full MaxInputString values.
 */
const DEFAULT_MAX_STORED_PARAMETERS_SIZE = 1024 * 1024;

interface QueueDefaults {
  readonly maximumThreads: number;
  readonly maximumQueueSize: number;
  readonly maxStoredParametersSize: number;
  readonly events: EventWiring;
  readonly thresholds: QueueEventThresholds;
}

/** The keys `[Actions]` and `[ActionName]` share; `fallback` supplies the `[Actions]` values. */
function readQueueKeys(r: SectionReader, fallback?: QueueDefaults): QueueDefaults {
  const events = Object.fromEntries(
    EVENT_TYPES.map((type) => [type, r.has(type) ? r.list(type) : (fallback?.events[type] ?? [])]),
  ) as Record<EventType, readonly string[]>;
  const thresholds = {
    filling: r.float('QueueFillingThreshold', { default: fallback?.thresholds.filling ?? 0.7, min: 0, max: 1 })!,
    emptying: r.float('QueueEmptyingThreshold', { default: fallback?.thresholds.emptying ?? 0.5, min: 0, max: 1 })!,
  };
  if (thresholds.emptying >= thresholds.filling) {
    r.error('QueueEmptyingThreshold', `must be less than QueueFillingThreshold (${thresholds.emptying} >= ${thresholds.filling})`, 'CONFIG_VALUE');
  }
  return {
    maximumThreads: r.int('MaximumThreads', { default: fallback?.maximumThreads ?? 1, min: 1, max: 1024 })!,
    maximumQueueSize: r.int('MaximumQueueSize', { default: fallback?.maximumQueueSize ?? 10000, min: 1 })!,
    maxStoredParametersSize: r.bytes('MaxStoredParametersSize', {
      default: fallback?.maxStoredParametersSize ?? DEFAULT_MAX_STORED_PARAMETERS_SIZE,
      min: 1024,
      max: 1024 * 1024 * 1024,
    })!,
    events,
    thresholds,
  };
}

function findCommandSections(doc: ConfigDocument): string[] {
  return [...doc.sections.values()].filter((s) => s.entries.get('type')?.value.toLowerCase() === 'command').map((s) => s.name);
}

function readCommand(r: TrackingSectionReader, configDir: string): CommandActionSettings {
  r.markKnown('Type');
  const command: CommandActionSettings = {
    name: r.name,
    command: r.string('Command', { required: true }) ?? '',
    arguments: r.list('Arguments'),
    timeoutMs: r.duration('Timeout', { bareUnit: 's', default: 3_600_000, min: 1 })!,
    workingDirectory: r.path('WorkingDirectory') ?? configDir,
    outputTailBytes: r.bytes('OutputTail', { default: 4096, min: 0, max: 1024 * 1024 })!,
  };
  // The queue keys of the same section are read by readActions; finish() comes after both.
  return command;
}

function readActions(
  r: SectionReader,
  options: LoadOptions,
  commands: readonly CommandActionSettings[],
  defaults: QueueDefaults,
  section: (name: string) => TrackingSectionReader,
): ActionsSettings {
  const enableTestActions = r.bool('EnableTestActions', { default: false })!;
  const names = [...(options.codeActions ?? []), ...(enableTestActions ? [SLEEP_ACTION] : []), ...commands.map((c) => c.name)];
  const queues = new Map<string, ActionQueueSettings>();
  for (const name of names) {
    const own = section(name);
    if (commands.some((c) => c.name === name)) own.markKnown('Type', 'Command', 'Arguments', 'Timeout', 'WorkingDirectory', 'OutputTail');
    const keys = own.exists ? readQueueKeys(own, defaults) : defaults;
    if (own.exists) own.finish();
    queues.set(name.toLowerCase(), { name, ...keys });
  }
  const datastoreType = r.oneOf('DatastoreType', ['sqlite', 'postgres'] as const, { default: 'sqlite' })!;
  const connectionString = r.secret('ConnectionString', { required: datastoreType === 'postgres' });
  // Checked here too (the store checks it again at start), so that check-config reports it; never quoted.
  if (connectionString !== undefined && !isPostgresUrl(connectionString)) {
    r.error('ConnectionString', 'must be a postgres://user:password@host:port/database URL');
  }
  const actions: ActionsSettings = {
    durability: r.oneOf('Durability', ['process', 'power'] as const, { default: 'process' })!,
    finishedActionRetentionMs: r.duration('FinishedActionRetention', { bareUnit: 's', default: 7 * 86_400_000 })!,
    enableTestActions,
    datastoreType,
    pollIntervalMs: r.duration('PollInterval', { bareUnit: 'ms', default: 1000, min: 10, max: 3_600_000 })!,
    // Seconds when bare, like the 15s of decisions.md. At most 1h: a dead node's actions wait this
    // long to run again, and the lease's timers stay far inside Node's 2^31-1 ms.
    nodeLeaseTimeoutMs: r.duration('NodeLeaseTimeout', { bareUnit: 's', default: 15_000, min: 1000, max: 3_600_000 })!,
    queues,
    commands,
    ...(connectionString ? { connectionString } : {}),
  };
  r.finish();
  return actions;
}

/**
 * Handler sections: every section named by an On* parameter (it must exist), and every section
 * with a LibraryName (a LuaHandler may send() to it). Their keys are read when the handlers are
 * created (events/handler-setup.ts).
 */
function readHandlerSections(
  doc: ConfigDocument,
  defaults: EventWiring,
  queues: ReadonlyMap<string, ActionQueueSettings>,
  section: (name: string) => TrackingSectionReader,
): Map<string, HandlerSectionSettings> {
  // Where each On* value is written: [Actions], and the action sections that override it.
  const sources = [{ reader: section('Actions'), events: defaults }];
  for (const q of queues.values()) {
    const own = section(q.name);
    if (own.exists) sources.push({ reader: own, events: q.events });
  }
  const handlers = new Map<string, HandlerSectionSettings>();
  for (const { reader, events } of sources) {
    for (const type of EVENT_TYPES) {
      if (!reader.has(type)) continue;
      for (const name of events[type]) {
        if (handlers.has(name.toLowerCase())) continue;
        const found = doc.sections.get(name.toLowerCase());
        if (!found) {
          // A value that came from ${ENV:} or ${FILE:} is quoted as written, never expanded
          // (found by test/fuzz/config-reader.test.ts: the expansion showed in this message).
          const written = doc.sections.get(reader.name.toLowerCase())?.entries.get(type.toLowerCase())?.written;
          const shown = written === undefined ? `[${name}]` : `[...] (from ${written})`;
          reader.error(type, `names the handler section ${shown}, which does not exist`, 'CONFIG_REFERENCE');
        }
        handlers.set(name.toLowerCase(), { name: found?.name ?? name, libraryName: found?.entries.get('libraryname')?.value ?? '' });
      }
    }
  }
  for (const s of doc.sections.values()) {
    const libraryName = s.entries.get('libraryname')?.value;
    if (libraryName !== undefined && !handlers.has(s.name.toLowerCase())) handlers.set(s.name.toLowerCase(), { name: s.name, libraryName });
  }
  return handlers;
}

/** On* values name sections without regard to case; events carry the section's own spelling. */
function canonicaliseHandlerNames(queues: Map<string, ActionQueueSettings>, handlers: ReadonlyMap<string, HandlerSectionSettings>): void {
  for (const [key, q] of queues) {
    const events = { ...q.events };
    for (const type of EVENT_TYPES) events[type] = q.events[type].map((name) => handlers.get(name.toLowerCase())?.name ?? name);
    queues.set(key, { ...q, events });
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) for (const v of value.values()) deepFreeze(v);
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export type { RoleSettings };

function isPostgresUrl(text: string): boolean {
  try {
    return /^postgres(ql)?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

/**
 * Fixtures for the LuaHandler tests: a temp folder with a real config file and script, read by the
 * real config reader and started by the real factory (real workers, real Lua); event documents
 * shaped as decisions.md "Events" describes them; a HandlerContext whose `send` goes to handlers the
 * test supplies (a real file, a real HTTP POST) and whose log is kept in memory.
 */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from '../../../src/common/logger.js';
import { readConfigDocument } from '../../../src/config/parse.js';
import { createProblemSink, formatProblem } from '../../../src/config/problems.js';
import { createSectionReader } from '../../../src/config/section-reader.js';
import type { ProblemSink } from '../../../src/config/types.js';
import type { EventDelivery, EventType, HandlerContext } from '../../../src/events/handler.js';
import { luaHandlerFactory, type LuaHandler } from '../../../src/events/handlers/lua/index.js';

export type SendTarget = (text: string, event: EventDelivery) => Promise<void>;

export interface LuaFixture {
  readonly dir: string;
  readonly scriptPath: string;
  readonly sink: ProblemSink;
  readonly logLines: string[];
  readonly context: HandlerContext;
  /** The handler, or undefined when create() refused the section. */
  readonly handler: LuaHandler | undefined;
}

export interface FixtureOptions {
  /** Extra `Key=Value` lines for the handler section. */
  readonly keys?: readonly string[];
  /** Handler sections `send` can reach, by name. */
  readonly targets?: Readonly<Record<string, SendTarget>>;
  /** False: create() as check-config calls it. */
  readonly start?: boolean;
  /** File name of the script inside the temp folder. */
  readonly scriptName?: string;
}

export function tempDir(t: TestContext, prefix = 'tocsin-lua-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `script` and a config with section [MyLua], then runs the factory on that section. */
export function luaFixture(t: TestContext, script: string, options: FixtureOptions = {}): LuaFixture {
  const dir = tempDir(t);
  const scriptName = options.scriptName ?? 'handler.lua';
  const scriptPath = join(dir, scriptName);
  writeFileSync(scriptPath, script);
  return fixtureFromConfig(t, dir, scriptPath, ['[MyLua]', 'LibraryName=LuaHandler', `LuaScript=${scriptName}`, ...(options.keys ?? [])], options);
}

/** Like luaFixture, for a script that already exists (the examples). */
export function fixtureFromConfig(t: TestContext, dir: string, scriptPath: string, lines: readonly string[], options: FixtureOptions = {}): LuaFixture {
  const configPath = join(dir, 'tocsin.cfg');
  writeFileSync(configPath, lines.join('\n') + '\n');
  const sink = createProblemSink();
  const doc = readConfigDocument(configPath, sink);
  const reader = createSectionReader(doc, 'MyLua', sink);
  const logger = createMemoryLogger('debug');
  const targets = options.targets ?? {};
  const context: HandlerContext = {
    log: logger,
    dataDirectory: dir,
    readSection: () => undefined,
    send: async (section, text, event) => {
      const target = targets[section];
      if (!target) throw new Error(`no handler section named ${section}`);
      await target(text, event);
    },
  };
  const handler = luaHandlerFactory.create(reader, context, options.start ?? true) as LuaHandler | undefined;
  if (handler) t.after(() => handler.close());
  return { dir, scriptPath, sink, logLines: logger.lines, context, handler };
}

export function problemsText(sink: ProblemSink): string {
  return sink.problems.map(formatProblem).join('\n');
}

/** The handler of a fixture that must have started. */
export function started(fixture: LuaFixture): LuaHandler {
  if (!fixture.handler) throw new Error(`handler did not start:\n${problemsText(fixture.sink)}`);
  return fixture.handler;
}

/** Messages the script logged (log/log_warn/log_error), as `level msg`. */
export function scriptLogs(fixture: LuaFixture): string[] {
  return fixture.logLines
    .map((line) => JSON.parse(line) as { level: string; msg: string; source?: string })
    .filter((entry) => entry.source === 'lua')
    .map((entry) => `${entry.level} ${entry.msg}`);
}

export const TOKEN = 'MTI3LjAuMC4xOjkwMDA6U0xFRVA6MTc2NDQyNTMzMTAwMDox';

const ACTION_RECORDS: Record<Exclude<EventType, 'OnQueueEvent'>, string> = {
  OnStart:
    '<action><token>' + TOKEN + '</token><status>Processing</status><queued_time>2026-Nov-29 14:02:10</queued_time>' +
    '<time_in_queue>1</time_in_queue><process_start_time>2026-Nov-29 14:02:11</process_start_time></action>',
  OnFinish:
    '<action><token>' + TOKEN + '</token><status>Finished</status><queued_time>2026-Nov-29 14:02:10</queued_time>' +
    '<time_in_queue>1</time_in_queue><process_start_time>2026-Nov-29 14:02:11</process_start_time>' +
    '<time_processing>2</time_processing><process_end_time>2026-Nov-29 14:02:13</process_end_time>' +
    '<documentcounts><documentcount errors="0" seen="3" task="MYTASK"/><documentcount errors="1" seen="5" task="OTHER"/></documentcounts>' +
    '<fetchaction>IDENTIFIERS</fetchaction></action>',
  OnError:
    '<action><token>' + TOKEN + '</token><status>Error</status><queued_time>2026-Nov-29 14:02:10</queued_time>' +
    '<time_in_queue>1</time_in_queue><process_start_time>2026-Nov-29 14:02:11</process_start_time>' +
    '<time_processing>0</time_processing><process_end_time>2026-Nov-29 14:02:11</process_end_time>' +
    '<error>command exited with status 3 &amp; wrote &lt;nothing&gt;</error></action>',
  OnErrorReport:
    '<action><token>' + TOKEN + '</token><status>Processing</status><queued_time>2026-Nov-29 14:02:10</queued_time>' +
    '<time_in_queue>1</time_in_queue><process_start_time>2026-Nov-29 14:02:11</process_start_time>' +
    '<error>could not open folder Inbox/Archive</error></action>',
};

/** An event document of decisions.md "Events" for an action event. */
export function actionEventXml(type: Exclude<EventType, 'OnQueueEvent'>, id = `ev-${type}`): string {
  return `<event><type>${type}</type><id>${id}</id><time>2026-Nov-29 14:02:13</time><server>localhost:9000</server>${ACTION_RECORDS[type]}</event>`;
}

/** A queue event document; QueueEmpty carries no queueSize. */
export function queueEventXml(kind: 'QueueFull' | 'QueueFilling' | 'QueueEmptying' | 'QueueEmpty', id = `ev-${kind}`): string {
  const size = kind === 'QueueEmpty' ? '' : `<queueSize>${kind === 'QueueFull' ? 10 : 7}</queueSize>`;
  return (
    `<event><type>OnQueueEvent</type><id>${id}</id><time>2026-Nov-29 14:02:13</time><server>localhost:9000</server>` +
    `<queueevent><queuename>Sleep</queuename><queueEventType>${kind}</queueEventType><maxQueueSize>10</maxQueueSize>${size}</queueevent></event>`
  );
}

/** One delivery of `document`; action events carry the request parameters, queue events none. */
export function delivery(document: string, request: Record<string, string> = {}, overrides: Partial<EventDelivery> = {}): EventDelivery {
  const type = (/<type>(\w+)<\/type>/.exec(document)?.[1] ?? 'OnFinish') as EventType;
  const id = /<id>([^<]+)<\/id>/.exec(document)?.[1] ?? 'ev';
  const base: EventDelivery = { id, type, handler: 'MyLua', queue: 'Sleep', document, request, attempt: 1 };
  return { ...base, ...(type === 'OnQueueEvent' ? {} : { token: TOKEN }), ...overrides };
}

export const NEVER: AbortSignal = new AbortController().signal;

/** Runs one delivery and returns the failure message, or 'delivered'. */
export async function outcome(handler: LuaHandler, event: EventDelivery): Promise<string> {
  try {
    await handler.deliver(event, NEVER);
    return 'delivered';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

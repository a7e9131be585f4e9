/**
 * Helpers for event tests: an in-process server that also takes code-defined handler factories
 * (startServer's `handlers` option), a recording handler library for those, event-document
 * parsing, and EventInfo reads. Real server, real SQLite, real HTTP: nothing is mocked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { createMemoryLogger } from '../../src/common/logger.js';
import { startServer } from '../../src/server.js';
import { AciClient } from '../../src/cli/client.js';
import { DeliveryError, type EventDelivery, type EventHandler, type HandlerFactory } from '../../src/events/handler.js';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import { tempDir, waitFor, withServerDefaults, writeConfig, type TestServer } from './server.js';

export type Json = Record<string, unknown>;

export interface EventServerOptions {
  readonly config: string;
  readonly handlers?: readonly HandlerFactory[];
  readonly actions?: readonly AsyncActionDefinition[];
  readonly dir?: string;
}

/** As startTestServer, with code-defined handler libraries. */
export async function startEventServer(options: EventServerOptions): Promise<TestServer> {
  const dir = options.dir ?? tempDir('tocsin-events-');
  const configFile = writeConfig(dir, withServerDefaults(options.config, dir));
  const log = createMemoryLogger();
  const server = await startServer({
    configFile,
    port: 0,
    logger: log,
    ...(options.handlers ? { handlers: options.handlers } : {}),
    ...(options.actions ? { actions: options.actions } : {}),
  });
  let closed: Promise<void> | undefined;
  return { server, url: server.url, client: new AciClient(server.url), dir, configFile, log, close: () => (closed ??= server.close()) };
}

export async function withEventServer<T>(options: EventServerOptions, fn: (s: TestServer) => Promise<T>): Promise<T> {
  const s = await startEventServer(options);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** What a recording handler does with one delivery before it succeeds. */
export type Behaviour = (event: EventDelivery, signal: AbortSignal) => Promise<void> | void;

/** One delivery a recording handler saw (success or not). */
export interface Seen {
  readonly section: string;
  readonly event: EventDelivery;
  readonly ok: boolean;
}

/**
 * A code-defined handler library `LibraryName=<libraryName>`: every delivery to any of its
 * sections is recorded in `seen` (in the order deliver() was called) and the successful ones in
 * `delivered`. `behaviour[section]` (looked up at delivery time, so a test can change it) may
 * delay, throw or never resolve. Default retry policy: 3 retries, 20 ms apart.
 */
export function recordingLibrary(libraryName = 'RecordingHandler') {
  const seen: Seen[] = [];
  const delivered: Seen[] = [];
  const behaviour: Record<string, Behaviour | undefined> = {};
  const factory: HandlerFactory = {
    libraryName,
    defaultPolicy: { retries: 3, retryIntervalMs: 20 },
    create(section): EventHandler {
      const name = section.name;
      return {
        async deliver(event, signal) {
          try {
            await behaviour[name.toLowerCase()]?.(event, signal);
          } catch (e) {
            seen.push({ section: name, event, ok: false });
            throw e;
          }
          seen.push({ section: name, event, ok: true });
          delivered.push({ section: name, event, ok: true });
        },
        async close() {},
      };
    },
  };
  return {
    factory,
    seen,
    delivered,
    /** Sets what deliveries to `section` do (case-insensitive); undefined = succeed at once. */
    setBehaviour(section: string, b: Behaviour | undefined) {
      behaviour[section.toLowerCase()] = b;
    },
    deliveredTo(section: string, type?: string): EventDelivery[] {
      return delivered.filter((d) => d.section.toLowerCase() === section.toLowerCase() && (type === undefined || d.event.type === type)).map((d) => d.event);
    },
  };
}

/** A behaviour that never resolves (a dead receiver); it ignores the abort signal too. */
export const hangForever: Behaviour = () => new Promise<void>(() => undefined);

/** A behaviour that fails (retryable) the first `n` times it is called, then succeeds. */
export function failTimes(n: number): Behaviour {
  let calls = 0;
  return () => {
    calls++;
    if (calls <= n) throw new DeliveryError(`induced failure ${calls} of ${n}`, { retryable: true });
  };
}

// htmlEntities: fast-xml-parser only decodes numeric character references (`&#10;`, which every XML
// reader must) when it is on.
const documentParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: false, htmlEntities: true });

/** Parses an event document and returns its `<event>` element (asserting it is the only root). */
export function parseEventDocument(xml: string): Json {
  const doc = documentParser.parse(xml) as Json;
  assert.deepEqual(Object.keys(doc), ['event'], `not one <event> document: ${xml.slice(0, 300)}`);
  return doc['event'] as Json;
}

/** Parses an `<action>` element (or any XML fragment) the same way, for comparisons. */
export function parseXml(xml: string): Json {
  return documentParser.parse(xml) as Json;
}

/** `2026-Nov-29 14:02:11` */
export const EVENT_TIME = /^\d{4}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2}$/;

/** A reader can catch a write() in progress; a whole append is done within this. */
const PARTIAL_LINE_SETTLE_MS = 2_000;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * The lines of a text file written by TextFileHandler (no trailing empty line); [] if missing.
 * A file that does not end with a newline is read again for a moment (a server may be appending
 * while a test polls), then it must: each event is one whole line.
 */
export function readLines(path: string): string[] {
  let text = readText(path);
  const deadline = Date.now() + PARTIAL_LINE_SETTLE_MS;
  while (text !== undefined && text.length > 0 && !text.endsWith('\n') && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    text = readText(path);
  }
  if (text === undefined) return [];
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline (each event is a whole line)');
  return lines;
}

/** Every line of a TextFileHandler file parsed as one `<event>`. */
export function readEventFile(path: string): Json[] {
  return readLines(path).map(parseEventDocument);
}

export interface EventInfoRow {
  readonly id: string;
  readonly seq: string;
  readonly type: string;
  readonly handler: string;
  readonly queue: string;
  readonly token?: string;
  readonly state: string;
  readonly attempts: string;
  readonly last_error?: string;
  readonly document?: string;
}

export interface EventInfoAnswer {
  readonly counts: { pending: number; delivered: number; failed: number };
  readonly handlers: Map<string, { pending: number; delivered: number; failed: number }>;
  readonly events: EventInfoRow[];
}

const asArray = (v: unknown): Json[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? (v as Json[]) : [v as Json]);
const stateCounts = (j: Json) => ({ pending: Number(j['pending']), delivered: Number(j['delivered']), failed: Number(j['failed']) });

/** EventInfo (List) through simplejson, with counts as numbers and events as an array. */
export async function eventInfo(client: AciClient, params: Record<string, string> = {}): Promise<EventInfoAnswer> {
  const data = await client.call('EventInfo', params);
  const counts = data['counts'] as Json;
  const handlers = new Map(asArray((counts['handlers'] as Json | undefined)?.['handler']).map((h) => [String(h['name']), stateCounts(h)]));
  const events = asArray((data['events'] as Json | undefined)?.['event']) as unknown as EventInfoRow[];
  return { counts: stateCounts(counts), handlers, events };
}

/** Waits until EventInfo shows no pending event; returns the last answer. */
export function waitNoPending(client: AciClient, timeoutMs = 15_000): Promise<EventInfoAnswer> {
  return waitFor(async () => {
    const info = await eventInfo(client, { MaxResults: '0' });
    return info.counts.pending === 0 ? info : undefined;
  }, timeoutMs, 25);
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

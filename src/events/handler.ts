/**
 * The handler interface and the registry from `LibraryName` to implementation
 * (idol-reference.md §4, decisions.md "Handlers"). HttpHandler, LuaHandler, TextFileHandler and a
 * library user's own handlers all plug in the same way: a factory reads its config section and
 * returns an `EventHandler` whose `deliver` either resolves (delivered) or throws a
 * `DeliveryError` saying whether to retry.
 */
import type { Logger } from '../common/logger.js';
import type { SectionReader } from '../config/types.js';

/** The closed set of event types (decisions.md "Events"). */
export const EVENT_TYPES = ['OnStart', 'OnFinish', 'OnError', 'OnErrorReport', 'OnQueueEvent'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One event, as handed to one handler. */
export interface EventDelivery {
  /** Unique event id, stable across redeliveries (`<id>` of the document). */
  readonly id: string;
  readonly type: EventType;
  /** Name of the handler section this delivery is for. */
  readonly handler: string;
  /** Token of the action; absent for queue events. */
  readonly token?: string;
  readonly queue: string;
  /** The event document (XML, UTF-8) of decisions.md. */
  readonly document: string;
  /** The action's request parameters, names as sent (empty for queue events). LuaHandler's `request`. */
  readonly request: Readonly<Record<string, string>>;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * When the event was stored (epoch ms). An event stored before this server started may have
   * been delivered by the run that stored it (killed before it recorded the delivery). Absent on
   * text a LuaHandler `send()`s.
   */
  readonly createdAt?: number;
}

/** A failed delivery. `retryable: false` marks the event failed at once (e.g. HTTP 404). */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  /** Earliest retry the receiver asked for (HTTP Retry-After), in ms from now. */
  readonly retryAfterMs?: number;
  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export interface EventHandler {
  /**
   * Deliver one event. Resolve on success; throw (preferably a DeliveryError) on failure.
   * `signal` aborts when the server stops or the delivery times out.
   */
  deliver(event: EventDelivery, signal: AbortSignal): Promise<void>;
  /** Release connections, workers and files. */
  close(): Promise<void>;
}

/** What a handler may use from the server. */
export interface HandlerContext {
  /** Logger whose lines carry the handler's section name. */
  readonly log: Logger;
  /** `[Server] DataDirectory`, absolute. */
  readonly dataDirectory: string;
  /**
   * Hand `text` to another configured handler section as a document of the same event
   * (LuaHandler's `send`). Resolves when that handler has accepted it.
   */
  send(section: string, text: string, event: EventDelivery): Promise<void>;
  /**
   * A reader for another section this handler refers to (e.g. HttpHandler's `SSLConfig`), or
   * undefined when the config has no such section. Problems go to the same report.
   */
  readSection(name: string): SectionReader | undefined;
}

/** Settings every handler section has, read by the event engine (decisions.md "Handlers"). */
export interface DeliveryPolicy {
  /** Further attempts after the first failure. */
  readonly retries: number;
  /** Wait between attempts, ms. */
  readonly retryIntervalMs: number;
}

export interface HandlerFactory {
  /** The `LibraryName` value, matched without regard to case. */
  readonly libraryName: string;
  /** Default retry policy for sections of this library (overridden by `Retries`, `RetryInterval`). */
  readonly defaultPolicy: DeliveryPolicy;
  /**
   * Read and validate the section (record problems on the reader; do not throw for bad config)
   * and return a handler, or undefined when the section has errors. Called at start-up and by
   * `check-config`; `start` is false for check-config, so nothing is opened or spawned.
   */
  create(section: SectionReader, context: HandlerContext, start: boolean): EventHandler | undefined;
}

/** Registry of handler libraries by `LibraryName` (case-insensitive). */
export class HandlerRegistry {
  private readonly factories = new Map<string, HandlerFactory>();

  register(factory: HandlerFactory): this {
    this.factories.set(factory.libraryName.toLowerCase(), factory);
    return this;
  }

  get(libraryName: string): HandlerFactory | undefined {
    return this.factories.get(libraryName.toLowerCase());
  }

  names(): string[] {
    return [...this.factories.values()].map((f) => f.libraryName);
  }
}

/**
 * The one error catalogue. Every error Tocsin reports carries a stable `code` from here;
 * code and tests branch on the code, never on message text.
 *
 * Each entry maps to the ACI error shape of idol-reference.md §9.2: `aciCode` becomes
 * `<errorcode>` and `errorId` becomes the numeric part of `<errorid>`.
 */
export interface ErrorSpec {
  /** ACI `errorcode` (IDOL spelling). */
  readonly aciCode: string;
  /** Stable number used to build `errorid` (e.g. TOCSINQUEUEINFO-105). */
  readonly errorId: number;
  /** Short human text, the ACI `errorstring`. */
  readonly summary: string;
}

export const ERROR_CATALOGUE = {
  // ACI request problems
  ACTION_UNKNOWN: { aciCode: 'ERRORNOTIMPLEMENTED', errorId: 100, summary: 'The requested action was not recognised' },
  ACTION_MISSING: { aciCode: 'ERRORNOACTION', errorId: 101, summary: 'No action was given' },
  PARAM_MISSING: { aciCode: 'ERRORMISSINGPARAM', errorId: 102, summary: 'A required parameter is missing' },
  PARAM_INVALID: { aciCode: 'ERRORPARAMINVALID', errorId: 103, summary: 'A parameter has an invalid value' },
  REQUEST_TOO_LARGE: { aciCode: 'ERRORREQUESTTOOLARGE', errorId: 104, summary: 'The request is too large' },
  REQUEST_MALFORMED: { aciCode: 'ERRORBADREQUEST', errorId: 105, summary: 'The request could not be parsed' },
  ACCESS_DENIED: { aciCode: 'ERRORACCESSDENIED', errorId: 106, summary: 'The client may not run this action' },
  ACTION_AMBIGUOUS: { aciCode: 'ERRORMULTIPLEACTIONS', errorId: 107, summary: 'The request names more than one action' },
  PARAM_NOT_UTF8: { aciCode: 'ERRORBADREQUEST', errorId: 108, summary: 'A parameter is not valid UTF-8' },
  TOO_MANY_CONNECTIONS: { aciCode: 'ERRORSERVERBUSY', errorId: 109, summary: 'The server has too many open connections' },
  REQUEST_TIMEOUT: { aciCode: 'ERRORREQUESTTIMEOUT', errorId: 110, summary: 'The request was not received in time' },

  // Queue problems
  QUEUE_FULL: { aciCode: 'ERRORQUEUEFULL', errorId: 200, summary: 'The queue is full' },
  QUEUE_UNKNOWN: { aciCode: 'ERRORQUEUENOTFOUND', errorId: 201, summary: 'No such queue' },
  TOKEN_INVALID: { aciCode: 'ERRORINVALIDTOKEN', errorId: 202, summary: 'The token is malformed' },
  TOKEN_UNKNOWN: { aciCode: 'ERRORTOKENNOTFOUND', errorId: 203, summary: 'No action has this token' },
  ACTION_STATE_CONFLICT: { aciCode: 'ERRORINVALIDSTATE', errorId: 204, summary: 'The action is not in a state that allows this' },
  QUEUE_ACTION_UNKNOWN: { aciCode: 'ERRORPARAMINVALID', errorId: 205, summary: 'Unknown QueueAction' },
  SERVER_STOPPING: { aciCode: 'ERRORSERVERSTOPPING', errorId: 206, summary: 'The server is shutting down' },

  // Action execution
  ACTION_FAILED: { aciCode: 'ERRORACTIONFAILED', errorId: 300, summary: 'The action failed' },
  COMMAND_SPAWN_FAILED: { aciCode: 'ERRORCOMMANDSPAWN', errorId: 301, summary: 'The command could not be started' },
  COMMAND_EXIT_NONZERO: { aciCode: 'ERRORCOMMANDEXIT', errorId: 302, summary: 'The command exited with a non-zero status' },
  COMMAND_TIMEOUT: { aciCode: 'ERRORCOMMANDTIMEOUT', errorId: 303, summary: 'The command ran past its timeout' },
  ACTION_STOPPED: { aciCode: 'ERRORSTOPPED', errorId: 304, summary: 'The action was stopped' },

  // Configuration
  CONFIG_SYNTAX: { aciCode: 'ERRORCONFIG', errorId: 400, summary: 'Configuration syntax error' },
  CONFIG_INCLUDE: { aciCode: 'ERRORCONFIG', errorId: 401, summary: 'Configuration include failed' },
  CONFIG_VALUE: { aciCode: 'ERRORCONFIG', errorId: 402, summary: 'Invalid configuration value' },
  CONFIG_MISSING: { aciCode: 'ERRORCONFIG', errorId: 403, summary: 'Required configuration value missing' },
  CONFIG_UNKNOWN_KEY: { aciCode: 'ERRORCONFIG', errorId: 404, summary: 'Unknown configuration key' },
  CONFIG_REFERENCE: { aciCode: 'ERRORCONFIG', errorId: 405, summary: 'Configuration refers to a missing section' },
  CONFIG_INVALID: { aciCode: 'ERRORCONFIG', errorId: 406, summary: 'The configuration has errors' },
  CONFIG_EXPANSION: { aciCode: 'ERRORCONFIG', errorId: 407, summary: 'A ${ENV:...} or ${FILE:...} in the configuration could not be expanded' },

  // Events and handlers
  EVENT_UNKNOWN: { aciCode: 'ERROREVENTNOTFOUND', errorId: 500, summary: 'No event has this id' },
  HANDLER_FAILED: { aciCode: 'ERRORHANDLER', errorId: 501, summary: 'The event handler failed' },
  HANDLER_UNKNOWN: { aciCode: 'ERRORHANDLERNOTFOUND', errorId: 502, summary: 'No handler section has this name' },

  // Storage
  STORE_FAILED: { aciCode: 'ERRORDATASTORE', errorId: 600, summary: 'The datastore failed' },
  STORE_UNAVAILABLE: { aciCode: 'ERRORSTOREUNAVAILABLE', errorId: 601, summary: 'The datastore cannot be reached; nothing was stored' },
  // tocsin move-store (decisions.md "Many machines")
  MOVE_SOURCE_INVALID: { aciCode: 'ERRORDATASTORE', errorId: 602, summary: 'The source is not a Tocsin SQLite datastore' },
  MOVE_SOURCE_BUSY: { aciCode: 'ERRORDATASTORE', errorId: 603, summary: 'A Tocsin server is using the source datastore' },
  MOVE_TARGET_NOT_EMPTY: { aciCode: 'ERRORDATASTORE', errorId: 604, summary: 'The target datastore already holds actions' },

  // The client library (src/client)
  WAIT_TIMEOUT: { aciCode: 'ERRORWAITTIMEOUT', errorId: 700, summary: 'The action did not end within the time waited' },
  EVENT_SIGNATURE_INVALID: { aciCode: 'ERRORSIGNATURE', errorId: 701, summary: 'The event request is not signed with the shared secret' },

  INTERNAL: { aciCode: 'ERRORINTERNAL', errorId: 900, summary: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error with a stable code. `message` is the detailed description (ACI `errordescription`). */
export class TocsinError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TocsinError';
    this.code = code;
  }
  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }
}

export function isTocsinError(e: unknown, code?: ErrorCode): e is TocsinError {
  return e instanceof TocsinError && (code === undefined || e.code === code);
}

/** Text of any thrown value, for logs and error records. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

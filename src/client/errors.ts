/**
 * Typed errors for ACI error answers: one class per family of `errorcode`, each carrying the
 * code, so an application branches with `instanceof` (or on `code`), never on message text.
 * The families follow the error catalogue (src/common/errors.ts); a code this client does not
 * know (a newer server, an IDOL server) is an AciServerError with its code kept.
 */
export interface AciErrorInfo {
  readonly errorcode: string;
  readonly errordescription: string;
  readonly errorid?: string;
  readonly errorstring?: string;
}

/** Any ACI error answer. `code` is the ACI `errorcode` (e.g. ERRORQUEUEFULL). */
export class AciClientError extends Error {
  readonly code: string;
  constructor(
    readonly action: string,
    readonly info: AciErrorInfo,
  ) {
    super(`${action}: ${info.errordescription} (${info.errorcode})`);
    this.name = 'AciClientError';
    this.code = info.errorcode;
  }
  /** Trying the same request again later may succeed (busy, stopping, queue full, store down). */
  get retryable(): boolean {
    return false;
  }
}

/** The request was wrong: unknown action, missing or invalid parameter, too large, unparseable. */
export class AciRequestError extends AciClientError {
  override readonly name = 'AciRequestError';
}

/** The client may not run this action ([AuthorizationRoles]). */
export class AciAccessDeniedError extends AciClientError {
  override readonly name = 'AciAccessDeniedError';
}

/** No such queue, token, event or handler section (or a malformed token). */
export class AciNotFoundError extends AciClientError {
  override readonly name = 'AciNotFoundError';
}

/** The action is not in a state that allows this (e.g. Cancel of a running action). */
export class AciStateError extends AciClientError {
  override readonly name = 'AciStateError';
}

/** Not now: the server is busy or stopping, the queue is full, the store cannot be reached. */
export class AciUnavailableError extends AciClientError {
  override readonly name = 'AciUnavailableError';
  override get retryable(): boolean {
    return true;
  }
}

/** The server failed (internal error, datastore, configuration), or a code this client does not know. */
export class AciServerError extends AciClientError {
  override readonly name = 'AciServerError';
}

type ErrorClass = new (action: string, info: AciErrorInfo) => AciClientError;

/** errorcode → family. Policy as data: a new code is one line here. */
const FAMILIES: Readonly<Record<string, ErrorClass>> = {
  ERRORNOTIMPLEMENTED: AciRequestError,
  ERRORNOACTION: AciRequestError,
  ERRORMISSINGPARAM: AciRequestError,
  ERRORPARAMINVALID: AciRequestError,
  ERRORREQUESTTOOLARGE: AciRequestError,
  ERRORBADREQUEST: AciRequestError,
  ERRORMULTIPLEACTIONS: AciRequestError,
  ERRORACCESSDENIED: AciAccessDeniedError,
  ERRORQUEUENOTFOUND: AciNotFoundError,
  ERRORINVALIDTOKEN: AciNotFoundError,
  ERRORTOKENNOTFOUND: AciNotFoundError,
  ERROREVENTNOTFOUND: AciNotFoundError,
  ERRORHANDLERNOTFOUND: AciNotFoundError,
  ERRORINVALIDSTATE: AciStateError,
  ERRORQUEUEFULL: AciUnavailableError,
  ERRORSERVERBUSY: AciUnavailableError,
  ERRORSERVERSTOPPING: AciUnavailableError,
  ERRORSTOREUNAVAILABLE: AciUnavailableError,
  ERRORREQUESTTIMEOUT: AciUnavailableError,
};

export function aciErrorFor(action: string, info: AciErrorInfo): AciClientError {
  const Family = FAMILIES[info.errorcode] ?? AciServerError;
  return new Family(action, info);
}

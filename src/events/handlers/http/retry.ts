/**
 * Which failed deliveries are worth retrying, as data (STYLE.md lesson 6, after undici's
 * RetryHandler defaults). The event engine owns the retry loop (`Retries`, `RetryInterval`);
 * this module only labels one failed attempt. decisions.md "Handlers": a refused or broken
 * connection, a timeout, 408, 429 and 5xx are retried; other 4xx fail at once.
 */
import { DeliveryError } from '../../handler.js';

export const RETRY_POLICY = Object.freeze({
  /** Statuses retried besides the 5xx range. */
  retryableStatuses: Object.freeze([408, 429]) as readonly number[],
  retryableStatusRange: Object.freeze({ from: 500, to: 599 }),
  /** Connection, DNS and timeout failures: the receiver may be back later. */
  retryableErrorCodes: Object.freeze([
    'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN',
    'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND',
    'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET',
    'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ABORT_ERR', 'TimeoutError', 'AbortError',
  ]) as readonly string[],
  /**
   * Failures that another attempt with the same settings cannot fix: the server's certificate
   * or TLS version does not satisfy the SSLConfig section.
   */
  permanentErrorCodes: Object.freeze([
    'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED',
    'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'ERR_SSL_NO_SHARED_CIPHER',
  ]) as readonly string[],
  /** An error code in neither list (a new network failure) is retried: the engine bounds the attempts. */
  unknownErrorRetryable: true,
  /** Retry-After beyond this is capped, so a receiver cannot park an event for days. */
  maxRetryAfterMs: 24 * 60 * 60 * 1000,
});

export function isRetryableStatus(status: number): boolean {
  const { from, to } = RETRY_POLICY.retryableStatusRange;
  return RETRY_POLICY.retryableStatuses.includes(status) || (status >= from && status <= to);
}

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3) → ms from now. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, RETRY_POLICY.maxRetryAfterMs);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), RETRY_POLICY.maxRetryAfterMs);
}

/** The error for a non-2xx answer. */
export function statusError(status: number, retryAfter: string | string[] | undefined, what: string): DeliveryError {
  const retryable = isRetryableStatus(status);
  const retryAfterMs = retryable ? parseRetryAfter(retryAfter) : undefined;
  return new DeliveryError(`${what} answered HTTP ${status}`, { retryable, ...(retryAfterMs !== undefined && { retryAfterMs }) });
}

/** The codes an error carries: its own, then its causes' (undici wraps socket errors). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    codes.push(e.name);
  }
  return codes;
}

/**
 * undici reports a proxy refusing the request without a status field: forward mode fails with
 * "Proxy Authentication Required (407)", a tunnel with "Proxy response (407) !== 200 when HTTP
 * Tunneling". The status is only in the text, so it is read from there.
 */
export function proxyStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const m = /Proxy response \((\d{3})\)|Proxy Authentication Required \((\d{3})\)/.exec(error.message);
  return m ? Number(m[1] ?? m[2]) : undefined;
}

/**
 * Failures to open a TCP connection, and what each says about the peer. With a proxy configured,
 * the proxy is the only host Tocsin resolves and connects to (forward mode sends it every request;
 * in a tunnel the proxy connects to the target, and its failure to do so comes back as a CONNECT
 * status), so one of these codes always means the proxy.
 */
const CONNECT_FAILURES: Readonly<Record<string, string>> = Object.freeze({
  ECONNREFUSED: 'refused the connection',
  UND_ERR_CONNECT_TIMEOUT: 'did not accept the connection in time',
  ETIMEDOUT: 'did not accept the connection in time',
  EHOSTUNREACH: 'is unreachable',
  EHOSTDOWN: 'is unreachable',
  ENETUNREACH: 'is unreachable',
  ENETDOWN: 'is unreachable',
  ENOTFOUND: 'could not be resolved',
  EAI_AGAIN: 'could not be resolved',
});

/**
 * A thrown transport error → DeliveryError. `what` names the target (origin, never credentials);
 * `proxy` (host:port) the proxy the request went through, if any.
 */
export function transportError(error: unknown, what: string, proxy?: string): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const proxyStatus = proxyStatusOf(error);
  if (proxyStatus !== undefined) {
    return new DeliveryError(`the proxy refused the request to ${what} with HTTP ${proxyStatus}`, { retryable: isRetryableStatus(proxyStatus), cause: error });
  }
  const codes = errorCodes(error);
  // A permanent code anywhere in the cause chain wins over a generic wrapper such as UND_ERR_SOCKET.
  const permanent = codes.find((c) => RETRY_POLICY.permanentErrorCodes.includes(c));
  const known = permanent ?? codes.find((c) => RETRY_POLICY.retryableErrorCodes.includes(c));
  const retryable = permanent === undefined && (known !== undefined || RETRY_POLICY.unknownErrorRetryable);
  const label = known ?? codes[0] ?? 'unknown error';
  const connectFailure = proxy === undefined || permanent !== undefined ? undefined : codes.find((c) => c in CONNECT_FAILURES);
  if (connectFailure !== undefined) {
    // Not "request to <target> failed: ECONNREFUSED": that sends the reader to the wrong host (issue 18).
    return new DeliveryError(`request to ${what} failed: the proxy ${proxy} ${CONNECT_FAILURES[connectFailure]} (${connectFailure})`, { retryable, cause: error });
  }
  return new DeliveryError(`request to ${what} failed: ${label}`, { retryable, cause: error });
}

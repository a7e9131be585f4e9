/**
 * `[Server] HeaderTimeout` and `RequestTimeout`: how long a client may take to send a request.
 * Node's own defaults (60 s for headers, checked only every 30 s) let a client that sends its
 * headers a byte a second hold a connection for ~90 s (issue 18 measured 87 s before the 408); a
 * production server gives headers a few seconds (Go's guidance and Cloudflare's: 5 s).
 */
import type { SectionReader } from './types.js';

export interface HttpTimeoutSettings {
  /** `[Server] HeaderTimeout`: from a request's first byte to the end of its headers, default 5s. */
  readonly headerTimeoutMs: number;
  /**
   * `[Server] RequestTimeout`: from a request's first byte to the end of its body, default 60s
   * (a 20 MB MaxRequestSize body at ~330 KB/s). The time the action takes to answer is not counted.
   */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_HEADER_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export function readHttpTimeouts(r: SectionReader): HttpTimeoutSettings {
  const headerTimeoutMs = r.duration('HeaderTimeout', { bareUnit: 's', default: DEFAULT_HEADER_TIMEOUT_MS, min: 100, max: 3_600_000 })!;
  const requestTimeoutMs = r.duration('RequestTimeout', { bareUnit: 's', default: DEFAULT_REQUEST_TIMEOUT_MS, min: 100, max: 86_400_000 })!;
  // The headers are part of the request: Node refuses a header limit past the request's.
  if (headerTimeoutMs > requestTimeoutMs) {
    r.error('HeaderTimeout', `must not be longer than RequestTimeout (${headerTimeoutMs} ms > ${requestTimeoutMs} ms)`);
    return { headerTimeoutMs: requestTimeoutMs, requestTimeoutMs };
  }
  return { headerTimeoutMs, requestTimeoutMs };
}

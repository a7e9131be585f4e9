/**
 * `[Server]` limits on what one client may send (issue 16 part 2). Each is refused with an ACI
 * error naming the limit, before anything is stored. The defaults come from IDOL where it has the
 * key and from Node's own http server where it does not:
 * - `MaxInputString` 64000 and `MaxFileUploadSize` 10,000,000: IDOL's (idol-reference.md §9.1).
 * - `MaxParameters` 1000: Node's `querystring.parse` `maxKeys` default. IDOL documents no count.
 * - `MaxHeaderCount` 100: Node's `maxHeadersCount` is 2000 and *drops* headers past it silently;
 *   we refuse instead, at Apache's `LimitRequestFields` figure (ACI clients send about 5).
 * - `MaxConnections` 2048: Node sets no limit. Enough for issue 16's 1,000 concurrent clients twice
 *   over; each open connection may hold up to MaxHeaderSize bytes of request head (~200 KB).
 */
import type { SectionReader } from './types.js';

export interface RequestLimitSettings {
  /** `[Server] MaxInputString`: characters of the query string and of any one parameter, IDOL default 64000. */
  readonly maxInputString: number;
  /** `[Server] MaxFileUploadSize`: bytes of one uploaded file, IDOL default 10,000,000. */
  readonly maxFileUploadSize: number;
  /** `[Server] MaxRequestSize`: bytes of a whole request body, default 20MB. */
  readonly maxRequestSize: number;
  /** `[Server] MaxParameters`: parameters (query, body fields and files together) of one request, default 1000. */
  readonly maxParameters: number;
  /** `[Server] MaxHeaderCount`: HTTP header lines of one request, default 100. */
  readonly maxHeaderCount: number;
  /**
   * `[Server] MaxConnections`: open client connections; a request on one past it is answered with
   * `ERRORSERVERBUSY` and its connection closed, default 2048. Twice as many are dropped unanswered.
   */
  readonly maxConnections: number;
}

export const DEFAULT_MAX_PARAMETERS = 1000;
export const DEFAULT_MAX_HEADER_COUNT = 100;
export const DEFAULT_MAX_CONNECTIONS = 2048;

export function readRequestLimits(r: SectionReader): RequestLimitSettings {
  return {
    maxInputString: r.int('MaxInputString', { default: 64000, min: 1, max: 100_000_000 })!,
    maxFileUploadSize: r.bytes('MaxFileUploadSize', { default: 10_000_000, min: 0 })!,
    maxRequestSize: r.bytes('MaxRequestSize', { default: 20 * 1024 * 1024, min: 1024 })!,
    maxParameters: r.int('MaxParameters', { default: DEFAULT_MAX_PARAMETERS, min: 1, max: 1_000_000 })!,
    maxHeaderCount: r.int('MaxHeaderCount', { default: DEFAULT_MAX_HEADER_COUNT, min: 1, max: 10_000 })!,
    maxConnections: r.int('MaxConnections', { default: DEFAULT_MAX_CONNECTIONS, min: 1, max: 1_000_000 })!,
  };
}

/**
 * Bytes of the request line and headers together (Node's `maxHeaderSize`, whose own 16 KB default
 * would refuse a long GET before MaxInputString is checked): a percent-encoded query takes up to 3
 * bytes per character of MaxInputString, plus 8 KB for the headers.
 */
export function maxHeaderBytes(limits: RequestLimitSettings): number {
  return limits.maxInputString * 3 + 8192;
}

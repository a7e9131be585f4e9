/**
 * The ACI server's request time-outs as node:http server options (`[Server] HeaderTimeout`,
 * `RequestTimeout`; config/read-http-timeouts.ts). A client too slow with its headers or its body
 * gets `408 Request Timeout` and its connection is closed, by Node itself.
 */
import type { ServerOptions } from 'node:http';
import type { HttpTimeoutSettings } from '../config/read-http-timeouts.js';

/**
 * Node checks the time-outs only every `connectionsCheckingInterval` (default 30 s), so a limit can
 * be overrun by that much: check four times per shortest limit, at most once a second and at least
 * every 25 ms (a walk over the open connections, cheap at that rate).
 */
export function httpTimeoutOptions(t: HttpTimeoutSettings): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'> {
  const interval = Math.min(1000, Math.max(25, Math.floor(Math.min(t.headerTimeoutMs, t.requestTimeoutMs) / 4)));
  return { headersTimeout: t.headerTimeoutMs, requestTimeout: t.requestTimeoutMs, connectionsCheckingInterval: interval };
}

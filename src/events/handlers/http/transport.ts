/**
 * The connections of one handler: built once at create() and reused by every delivery, so no
 * event allocates an agent or opens a connection that an earlier one left idle (keep-alive).
 *
 * - `pool`: undici Agent (direct) or ProxyAgent, shared by all plain deliveries.
 * - `singleConnection()`: a dispatcher bound to one TCP connection, for NTLM (see ntlm-handshake.ts).
 */
import { Agent, Client, type Dispatcher } from 'undici';
import type { HttpHandlerOptions } from './options.js';
import { createProxyAgent } from './proxy.js';
import { tlsConnectOptions } from './tls.js';

export interface Transport {
  /** `scheme://host:port` of the URL: safe to show, it never holds credentials. */
  readonly origin: string;
  /** Path and query of the URL. */
  readonly path: string;
  readonly pool: Dispatcher;
  singleConnection(): Dispatcher;
  close(): Promise<void>;
}

export function createTransport(options: HttpHandlerOptions): Transport {
  const url = new URL(options.url);
  const tls = tlsConnectOptions(options.tls);
  const timeoutMs = options.timeoutMs;
  const { proxy } = options;
  const build = (connections?: number): Dispatcher => {
    if (proxy !== undefined) {
      return createProxyAgent(proxy, { tls, tunnel: connections === 1, timeoutMs, ...(connections !== undefined && { connections }) });
    }
    if (connections === 1) return new Client(url.origin, { connect: { ...tls, timeout: timeoutMs }, pipelining: 1 });
    return new Agent({ connect: { ...tls, timeout: timeoutMs } });
  };
  const pool = build();
  const singles = new Set<Dispatcher>();
  return {
    origin: url.origin,
    path: url.pathname + url.search,
    pool,
    singleConnection() {
      const d = build(1);
      singles.add(d);
      return d;
    },
    async close() {
      await Promise.allSettled([pool.close(), ...[...singles].map((d) => d.close())]);
    },
  };
}

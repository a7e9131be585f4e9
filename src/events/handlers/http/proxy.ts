/**
 * The outbound proxy (`ProxyHost`, `ProxyPort`, `ProxyUsername`, `ProxyPassword`).
 *
 * - http URL: forward mode (`proxyTunnel:false`): the proxy sees `POST http://host/path`.
 * - https URL: always a CONNECT tunnel, TLS to the target inside it (`requestTls`).
 * - NTLM: always a tunnel, even for http URLs. NTLM authenticates a TCP connection
 *   (MS-NLMP §3.1.1), and a forwarding proxy is free to send the three messages over different
 *   upstream connections; a tunnel is one connection end to end.
 *
 * Proxy credentials travel as a `token` header value, never inside the proxy URI, so no error text
 * that quotes the URI can carry them.
 */
import { ProxyAgent } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { basicAuthorization } from './basic-auth.js';
import type { ProxyOptions } from './options.js';

/** `host:port`, with brackets for an IPv6 literal: how messages name the proxy. */
export function proxyHostPort(proxy: ProxyOptions): string {
  const host = proxy.host.includes(':') && !proxy.host.startsWith('[') ? `[${proxy.host}]` : proxy.host;
  return `${host}:${proxy.port}`;
}

/** `http://host:port`. */
export function proxyUri(proxy: ProxyOptions): string {
  return `http://${proxyHostPort(proxy)}`;
}

export interface ProxyAgentSettings {
  readonly tls: ConnectionOptions;
  /** Forces CONNECT for http URLs too (NTLM). https URLs are always tunnelled. */
  readonly tunnel: boolean;
  /** 1 gives one connection per origin: the NTLM channel. */
  readonly connections?: number;
  readonly timeoutMs: number;
}

export function createProxyAgent(proxy: ProxyOptions, settings: ProxyAgentSettings): ProxyAgent {
  const token = proxy.username === undefined ? undefined : basicAuthorization(proxy.username, proxy.password ?? '');
  return new ProxyAgent({
    uri: proxyUri(proxy),
    ...(token !== undefined && { token }),
    proxyTunnel: settings.tunnel,
    requestTls: { ...settings.tls, timeout: settings.timeoutMs },
    proxyTls: { timeout: settings.timeoutMs },
    ...(settings.connections !== undefined && { connections: settings.connections }),
  });
}

/**
 * HTTP Basic credentials (RFC 7617), for `BasicUser`/`BasicPassword` and for the proxy's
 * `ProxyUsername`/`ProxyPassword`. The value is built once per handler, not per event, and is
 * only ever placed in a header: never in a message or a log line.
 */

/** `Basic base64(user ":" password)`, UTF-8 as RFC 7617 §2.1 `charset="UTF-8"` specifies. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

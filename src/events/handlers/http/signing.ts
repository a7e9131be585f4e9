/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
 * `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256
 * of "id.timestamp.body">`. The sender side is `signatureHeaders`; receivers (tests, and library
 * users through the public API) call `verifyWebhookSignature`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const WHSEC_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * `whsec_<base64>` → the decoded bytes (the Standard Webhooks form); any other text → its UTF-8
 * bytes. Undefined for an empty secret or a `whsec_` prefix followed by something not base64.
 */
export function decodeSigningSecret(secret: string | Uint8Array): Buffer | undefined {
  if (typeof secret !== 'string') return secret.length > 0 ? Buffer.from(secret) : undefined;
  if (secret.startsWith(WHSEC_PREFIX)) {
    const b64 = secret.slice(WHSEC_PREFIX.length);
    return BASE64.test(b64) ? Buffer.from(b64, 'base64') : undefined;
  }
  return secret.length > 0 ? Buffer.from(secret, 'utf8') : undefined;
}

function sign(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The three headers for one delivery. `nowSeconds` is injectable for tests. */
export function signatureHeaders(key: Buffer, id: string, body: string, nowSeconds: number = Math.floor(Date.now() / 1000)): Record<string, string> {
  const timestamp = String(nowSeconds);
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${sign(key, id, timestamp, body).toString('base64')}`,
  };
}

export type HeaderBag =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const found = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = found === undefined ? undefined : record[found];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

export interface VerifyOptions {
  /** `whsec_<base64>`, raw text, or the key bytes. */
  readonly secret: string | Uint8Array;
  /** Request headers: a node `IncomingHttpHeaders`-like record or a fetch `Headers`. */
  readonly headers: HeaderBag;
  /** The raw request body, exactly as received. */
  readonly body: string | Uint8Array;
  /** Accepted clock difference (default 300 s), against replays. */
  readonly toleranceSeconds?: number;
  /** For tests. */
  readonly nowSeconds?: number;
}

/**
 * True when one of the `v1,` signatures in `webhook-signature` matches and the timestamp is within
 * tolerance. Comparison is constant-time (`timingSafeEqual`) so a receiver does not leak how many
 * leading bytes of a forged signature were right.
 */
export function verifyWebhookSignature(options: VerifyOptions): boolean {
  const key = decodeSigningSecret(options.secret);
  const id = header(options.headers, 'webhook-id');
  const timestamp = header(options.headers, 'webhook-timestamp');
  const signatures = header(options.headers, 'webhook-signature');
  if (key === undefined || id === undefined || timestamp === undefined || signatures === undefined) return false;
  if (!/^\d+$/.test(timestamp)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = sign(key, id, timestamp, options.body);
  let ok = false;
  // Several space-separated signatures are allowed (key rotation); check them all, no early exit.
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

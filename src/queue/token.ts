/**
 * Action tokens (decisions.md "Asynchronous actions"): standard base64 of
 * `host:port:ACTIONNAME:unique`, where unique is epoch ms, `-`, and 96 random bits (24 hex digits).
 * The shape follows the IDOL samples of idol-reference.md §1; clients treat it as opaque.
 */
import { randomBytes } from 'node:crypto';
import { TocsinError } from '../common/errors.js';

export interface TokenParts {
  readonly host: string;
  readonly port: number;
  /** Action name in upper case, as IDOL writes it. */
  readonly action: string;
  readonly createdAt: number;
}

// randomBytes per token costs ~1 µs of syscall; drawing from a pooled buffer makes bulk enqueue cheaper.
let pool = Buffer.alloc(0);
let poolOffset = 0;
function random96(): string {
  if (poolOffset + 12 > pool.length) {
    pool = randomBytes(12 * 1024);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + 12);
  poolOffset += 12;
  return hex;
}

export function createToken(host: string, port: number, action: string, now: number): string {
  return Buffer.from(`${host}:${port}:${action.toUpperCase()}:${now}-${random96()}`).toString('base64');
}

const UNIQUE = /^(\d{10,})-[0-9a-f]{24,}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decode a token, or throw TOKEN_INVALID saying what is wrong with it. */
export function parseToken(token: string): TokenParts {
  const bad = (why: string): never => {
    throw new TocsinError('TOKEN_INVALID', `Token "${token.slice(0, 200)}" is not a Tocsin token: ${why}`);
  };
  if (!BASE64.test(token) || token.length % 4 !== 0) bad('not standard base64');
  const text = Buffer.from(token, 'base64').toString('utf8');
  // The host may be an IPv6 address containing ':', so split from the right.
  const parts = text.split(':');
  if (parts.length < 4) bad('it does not hold host:port:ACTION:unique');
  const unique = parts.pop()!;
  const action = parts.pop()!;
  const port = Number(parts.pop());
  const host = parts.join(':');
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad('its port is not a number');
  if (!/^[A-Z0-9_.-]+$/.test(action)) bad('its action name is malformed');
  const m = UNIQUE.exec(unique);
  if (!m) bad('its unique part is malformed');
  return { host, port, action, createdAt: Number(m![1]) };
}

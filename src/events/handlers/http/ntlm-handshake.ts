/**
 * The NTLM HTTP handshake (MS-NTHT §2, MS-NLMP §3.1.5): NEGOTIATE → 401 with CHALLENGE →
 * AUTHENTICATE with the body. NTLM authenticates the TCP connection, so all three messages must
 * use one connection, and no other request may interleave on it between the challenge and the
 * answer (the server keeps one challenge per connection). Hence `NtlmChannels`: a small pool of
 * single-connection dispatchers, each lent to one delivery at a time.
 */
import { hostname } from 'node:os';
import type { Dispatcher } from 'undici';
import { DeliveryError } from '../../handler.js';
import { createAuthenticateMessage, createNegotiateMessage, parseChallengeMessage } from './ntlm-messages.js';
import type { NtlmOptions } from './options.js';
import { statusError } from './retry.js';

/** Channels per handler: enough for parallel deliveries, few enough not to flood the server. */
export const NTLM_CHANNELS = 4;

/** NetBIOS-style workstation name sent in AUTHENTICATE (informational for the server). */
const WORKSTATION = hostname().split('.')[0]!.toUpperCase().slice(0, 15);

export class NtlmChannels {
  private readonly idle: Dispatcher[] = [];
  private readonly waiting: Array<(d: Dispatcher) => void> = [];
  private created = 0;

  constructor(private readonly create: () => Dispatcher, private readonly max: number = NTLM_CHANNELS) {}

  /** Runs `use` with a channel of its own; waits for one when all are lent. */
  async run<T>(signal: AbortSignal, use: (channel: Dispatcher) => Promise<T>): Promise<T> {
    const channel = await this.acquire(signal);
    try {
      return await use(channel);
    } finally {
      const next = this.waiting.shift();
      if (next) next(channel);
      else this.idle.push(channel);
    }
  }

  private acquire(signal: AbortSignal): Promise<Dispatcher> {
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.created < this.max) {
      this.created++;
      return Promise.resolve(this.create());
    }
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(signal.reason);
      };
      const take = (d: Dispatcher) => {
        signal.removeEventListener('abort', onAbort);
        resolve(d);
      };
      this.waiting.push(take);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export interface NtlmRequest {
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

function challengeOf(headers: Dispatcher.ResponseData['headers']): string | undefined {
  const raw = headers['www-authenticate'];
  for (const value of Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) {
    const m = /^NTLM\s+(\S+)/i.exec(value);
    if (m) return m[1];
  }
  return undefined;
}

function post(channel: Dispatcher, req: NtlmRequest, headers: Record<string, string>, body?: Buffer): Promise<Dispatcher.ResponseData> {
  return channel.request({
    origin: req.origin,
    path: req.path,
    method: 'POST',
    headers,
    ...(body !== undefined && { body }),
    signal: req.signal,
    headersTimeout: req.timeoutMs,
    bodyTimeout: req.timeoutMs,
  });
}

/**
 * Sends `req` with NTLM on `channel`. The NEGOTIATE leg carries no body: the event is sent once,
 * with AUTHENTICATE. Returns the final response (its body unread); 401 there means refused.
 */
export async function ntlmPost(channel: Dispatcher, req: NtlmRequest, ntlm: NtlmOptions): Promise<Dispatcher.ResponseData> {
  const negotiate = `NTLM ${createNegotiateMessage(ntlm.version)}`;
  const first = await post(channel, req, { 'user-agent': req.headers['user-agent'] ?? '', authorization: negotiate, 'content-length': '0' });
  await first.body.dump();
  const challengeText = challengeOf(first.headers);
  if (first.statusCode !== 401 || challengeText === undefined) {
    if (first.statusCode >= 200 && first.statusCode < 300) return post(channel, req, req.headers, req.body);
    if (first.statusCode === 401) throw new DeliveryError(`${req.origin} does not offer NTLM authentication`, { retryable: false });
    throw statusError(first.statusCode, first.headers['retry-after'], req.origin);
  }
  let challenge;
  try {
    challenge = parseChallengeMessage(challengeText);
  } catch (e) {
    throw new DeliveryError(`${req.origin} sent a malformed NTLM challenge`, { retryable: false, cause: e });
  }
  const credentials = { user: ntlm.user, domain: ntlm.domain, password: ntlm.password, workstation: WORKSTATION };
  const authenticate = `NTLM ${createAuthenticateMessage(challenge, { version: ntlm.version, credentials })}`;
  return post(channel, req, { ...req.headers, authorization: authenticate }, req.body);
}

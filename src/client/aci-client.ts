/**
 * The ACI client for applications and the CLI verbs: sends an action (simplejson), reads an
 * action's status, and waits for it to end. Submissions (`submit`, `send`) carry an IdempotencyKey
 * (a random UUID unless the caller gives one) and are sent again with the same key when no answer
 * came (retry-policy.ts), so a retry never queues a second action (decisions.md "Idempotent
 * submission"). An ACI error answer is thrown as its typed error
 * (errors.ts); a server that cannot be reached or does not answer like Tocsin is a TocsinError.
 */
import { randomUUID } from 'node:crypto';
import { TocsinError } from '../common/errors.js';
import { parseToken } from '../queue/token.js';
import { aciErrorFor, type AciErrorInfo } from './errors.js';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './retry-policy.js';
import { waitForEnd, type WaitOptions } from './wait.js';
import type { ActionStatusRecord } from './status-record.js';

type Json = Record<string, unknown>;

/** Reads (GetStatus) go again at once when no answer came: they change nothing. */
const READ_RETRY: RetryPolicy = { attempts: 3, firstDelayMs: 0, factor: 1, maxDelayMs: 0, timeoutMs: 30_000 };

export type { ActionStatusRecord };

export interface CallOptions {
  /** Give up on an answer after this long (a TimeoutError, retryable by submit). Default: wait. */
  readonly timeoutMs?: number;
  /** Abort the call (its reason is thrown). */
  readonly signal?: AbortSignal;
}

export interface SubmitOptions {
  /** The submission's IdempotencyKey (default: a new random UUID; an `IdempotencyKey` in params wins). */
  readonly idempotencyKey?: string;
  /** When to send again; `{ attempts: 1 }` sends once. Default DEFAULT_RETRY_POLICY. */
  readonly retry?: Partial<RetryPolicy>;
}

export interface Submission {
  readonly token: string;
  /** The key was already held: `token` is the action first submitted with it. */
  readonly duplicate: boolean;
  readonly idempotencyKey: string;
}

export class AciClient {
  constructor(readonly baseUrl: string) {}

  /** Run an action once; returns `responsedata` of the simplejson answer. Throws the typed ACI error. */
  async call(action: string, params: Record<string, string> = {}, options: CallOptions = {}): Promise<Json> {
    const body = new URLSearchParams({ action, ...params, ResponseFormat: 'simplejson' });
    const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal && timeout ? AbortSignal.any([options.signal, timeout]) : (options.signal ?? timeout);
    let text: string;
    let status: number;
    try {
      const res = await fetch(this.baseUrl.replace(/\/$/, '') + '/', { method: 'POST', body, ...(signal ? { signal } : {}) });
      status = res.status;
      text = await res.text();
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      const why = timeout?.aborted ? `no answer within ${options.timeoutMs} ms` : String((e as Error).cause ?? (e as Error).message);
      throw new TocsinError('REQUEST_MALFORMED', `Cannot reach the Tocsin server at ${this.baseUrl}: ${why}`, { cause: e });
    }
    let parsed: Json;
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      throw new TocsinError('REQUEST_MALFORMED', `${this.baseUrl} did not answer like a Tocsin server (HTTP ${status})`);
    }
    const response = parsed['autnresponse'] as Json | undefined;
    const data = (response?.['responsedata'] ?? {}) as Json;
    if (response?.['response'] === 'ERROR') throw aciErrorFor(action, data['error'] as unknown as AciErrorInfo);
    return data;
  }

  /**
   * Queue an asynchronous action with an IdempotencyKey, sending it again with the same key while
   * no answer comes (refused or broken connections, time-outs: retry-policy.ts). Resolves with the
   * token: the new action's, or with `duplicate` the one first submitted with the key.
   */
  async submit(action: string, params: Record<string, string> = {}, options: SubmitOptions = {}): Promise<Submission> {
    const given = Object.entries(params).find(([name]) => name.toLowerCase() === 'idempotencykey')?.[1];
    const idempotencyKey = given ?? options.idempotencyKey ?? randomUUID();
    const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const keyed = given === undefined ? { ...params, IdempotencyKey: idempotencyKey } : params;
    const data = await withRetries(policy, () => this.call(action, keyed, { timeoutMs: policy.timeoutMs }));
    return { token: String(data['token']), duplicate: data['duplicate'] === 'true', idempotencyKey };
  }

  /** Queue an asynchronous action (`submit`: with a key, retried); returns its token. */
  async send(action: string, params: Record<string, string> = {}, options: SubmitOptions = {}): Promise<string> {
    return (await this.submit(action, params, options)).token;
  }

  /** The `<action>` record of a token (QueueInfo GetStatus). */
  async status(token: string, signal?: AbortSignal): Promise<ActionStatusRecord> {
    // A read is safe to send again: a keep-alive socket the server closed while this client was
    // busy ("other side closed") must not end a wait.
    const params = { QueueName: parseToken(token).action, QueueAction: 'GetStatus', Token: token };
    const data = await withRetries(READ_RETRY, () => this.call('QueueInfo', params, signal ? { signal } : {}));
    const actions = (data['actions'] as Json | undefined)?.['action'];
    const list = Array.isArray(actions) ? actions : actions ? [actions] : [];
    if (list.length === 0) throw aciErrorFor('QueueInfo', { errorcode: 'ERRORTOKENNOTFOUND', errordescription: `No action has token ${token}` });
    return list[0] as ActionStatusRecord;
  }

  /**
   * Resolves with the final record once the action ends (Finished, Error, Cancelled, Stopped),
   * whatever that status; polls GetStatus with back-off (wait.ts). Throws WAIT_TIMEOUT after
   * `timeoutMs`, the signal's reason when aborted, and the typed ACI error of a failed read.
   */
  wait(token: string, options: WaitOptions = {}): Promise<ActionStatusRecord> {
    return waitForEnd((signal) => this.status(token, signal), options);
  }
}

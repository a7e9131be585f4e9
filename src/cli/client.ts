/**
 * A small ACI client for the CLI verbs and for library users: sends an action, reads the
 * simplejson answer, and turns an ACI error into a thrown error with its errorcode.
 *
 * Submissions (`submit`, `send`) carry an IdempotencyKey (a random UUID unless the caller gives
 * one) and are sent again with the same key when no answer came (retry-policy.ts), so a retry
 * never queues a second action (decisions.md "Idempotent submission").
 */
import { randomUUID } from 'node:crypto';
import { TocsinError } from '../common/errors.js';
import { parseToken } from '../queue/token.js';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './retry-policy.js';

export interface AciErrorInfo {
  readonly errorcode: string;
  readonly errordescription: string;
}

export class AciClientError extends Error {
  constructor(
    readonly action: string,
    readonly info: AciErrorInfo,
  ) {
    super(`${action}: ${info.errordescription} (${info.errorcode})`);
    this.name = 'AciClientError';
  }
}

type Json = Record<string, unknown>;

export interface CallOptions {
  /** Give up on an answer after this long (a TimeoutError, retryable). Default: wait. */
  readonly timeoutMs?: number;
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

  /** Run an action once; returns `responsedata` of the simplejson answer. */
  async call(action: string, params: Record<string, string> = {}, options: CallOptions = {}): Promise<Json> {
    const body = new URLSearchParams({ action, ...params, ResponseFormat: 'simplejson' });
    const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    let text: string;
    let status: number;
    try {
      const res = await fetch(this.baseUrl.replace(/\/$/, '') + '/', { method: 'POST', body, ...(signal ? { signal } : {}) });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : String((e as Error).cause ?? (e as Error).message);
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
    if (response?.['response'] === 'ERROR') throw new AciClientError(action, data['error'] as unknown as AciErrorInfo);
    return data;
  }

  /**
   * Queue an asynchronous action with an IdempotencyKey, sending it again with the same key while
   * no answer comes (refused or broken connections, time-outs). Resolves with the token: the new
   * action's, or with `duplicate` the one first submitted with the key.
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
  async status(token: string): Promise<Json> {
    const data = await this.call('QueueInfo', { QueueName: parseToken(token).action, QueueAction: 'GetStatus', Token: token });
    const actions = (data['actions'] as Json | undefined)?.['action'];
    const list = Array.isArray(actions) ? actions : actions ? [actions] : [];
    if (list.length === 0) throw new TocsinError('TOKEN_UNKNOWN', `No action has token ${token}`);
    return list[0] as Json;
  }
}

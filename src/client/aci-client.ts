/**
 * The ACI client for applications and the CLI verbs: sends an action (simplejson), reads an
 * action's status, and waits for it to end. An ACI error answer is thrown as its typed error
 * (errors.ts); a server that cannot be reached or does not answer like Tocsin is a TocsinError.
 */
import { TocsinError } from '../common/errors.js';
import { parseToken } from '../queue/token.js';
import { aciErrorFor, type AciErrorInfo } from './errors.js';
import { waitForEnd, type WaitOptions } from './wait.js';
import type { ActionStatusRecord } from './status-record.js';

type Json = Record<string, unknown>;

export type { ActionStatusRecord };

export class AciClient {
  constructor(readonly baseUrl: string) {}

  /** Run an action; returns `responsedata` of the simplejson answer. Throws the typed ACI error. */
  async call(action: string, params: Record<string, string> = {}, signal?: AbortSignal): Promise<Json> {
    const body = new URLSearchParams({ action, ...params, ResponseFormat: 'simplejson' });
    let res: Response;
    try {
      res = await fetch(this.baseUrl.replace(/\/$/, '') + '/', { method: 'POST', body, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw new TocsinError('REQUEST_MALFORMED', `Cannot reach the Tocsin server at ${this.baseUrl}: ${(e as Error).cause ?? (e as Error).message}`);
    }
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      throw new TocsinError('REQUEST_MALFORMED', `${this.baseUrl} did not answer like a Tocsin server (HTTP ${res.status})`);
    }
    const response = parsed['autnresponse'] as Json | undefined;
    const data = (response?.['responsedata'] ?? {}) as Json;
    if (response?.['response'] === 'ERROR') throw aciErrorFor(action, data['error'] as unknown as AciErrorInfo);
    return data;
  }

  /** Queue an asynchronous action; returns its token. */
  async send(action: string, params: Record<string, string> = {}): Promise<string> {
    const data = await this.call(action, params);
    return String(data['token']);
  }

  /** The `<action>` record of a token (QueueInfo GetStatus). */
  async status(token: string, signal?: AbortSignal): Promise<ActionStatusRecord> {
    const data = await this.call('QueueInfo', { QueueName: parseToken(token).action, QueueAction: 'GetStatus', Token: token }, signal);
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

/**
 * A small ACI client for the CLI verbs and for library users: sends an action, reads the
 * simplejson answer, and turns an ACI error into a thrown error with its errorcode.
 */
import { TocsinError } from '../common/errors.js';
import { parseToken } from '../queue/token.js';

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

export class AciClient {
  constructor(readonly baseUrl: string) {}

  /** Run an action; returns `responsedata` of the simplejson answer. */
  async call(action: string, params: Record<string, string> = {}): Promise<Json> {
    const body = new URLSearchParams({ action, ...params, ResponseFormat: 'simplejson' });
    let res: Response;
    try {
      res = await fetch(this.baseUrl.replace(/\/$/, '') + '/', { method: 'POST', body });
    } catch (e) {
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
    if (response?.['response'] === 'ERROR') throw new AciClientError(action, data['error'] as unknown as AciErrorInfo);
    return data;
  }

  /** Queue an asynchronous action; returns its token. */
  async send(action: string, params: Record<string, string> = {}): Promise<string> {
    const data = await this.call(action, params);
    return String(data['token']);
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

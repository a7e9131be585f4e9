/**
 * Small ACI helpers over real HTTP: raw GETs parsed from XML, simplejson calls through the CLI's
 * AciClient, ACI error capture, and polling of action statuses.
 */
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { AciClientError, type AciClient, type AciErrorInfo } from '../../src/cli/client.js';
import { waitFor } from './server.js';

export type Json = Record<string, unknown>;

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: false });

/** Parses an ACI XML answer and returns its `autnresponse` element. */
export function parseAciXml(text: string): Json {
  const doc = xmlParser.parse(text) as Json;
  const response = doc['autnresponse'] as Json | undefined;
  assert.ok(response, `not an ACI response: ${text.slice(0, 300)}`);
  return response;
}

/** GET `url + path` (path like `/action=GetVersion`), returning status, content type and body. */
export async function httpGet(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url + path);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** GET an ACI URL path and parse the XML answer (`autnresponse`). */
export async function getXml(url: string, path: string): Promise<Json> {
  const res = await httpGet(url, path);
  assert.equal(res.status, 200, `HTTP ${res.status} for ${path}`);
  return parseAciXml(res.body);
}

/** The `<error>` block of a parsed XML error answer. */
export function xmlError(response: Json): Json {
  assert.equal(response['response'], 'ERROR', `expected an ERROR answer, got ${JSON.stringify(response).slice(0, 400)}`);
  return (response['responsedata'] as Json)['error'] as Json;
}

/** Awaits a call that must fail with an ACI error; returns the error (errorcode, errordescription). */
export async function aciError(call: Promise<unknown>): Promise<AciErrorInfo> {
  try {
    const value = await call;
    assert.fail(`expected an ACI error, got ${JSON.stringify(value).slice(0, 400)}`);
  } catch (e) {
    if (e instanceof AciClientError) return e.info;
    throw e;
  }
}

/** QueueInfo through simplejson; returns responsedata. */
export function queueInfo(client: AciClient, queue: string, queueAction: string, params: Record<string, string> = {}): Promise<Json> {
  return client.call('QueueInfo', { QueueName: queue, QueueAction: queueAction, ...params });
}

/** The `<action>` records of a GetStatus / GetActionParameters answer, always as an array. */
export function actionList(data: Json): Json[] {
  const actions = data['actions'];
  if (actions === undefined || actions === '') return [];
  const list = (actions as Json)['action'];
  if (list === undefined) return [];
  return Array.isArray(list) ? (list as Json[]) : [list as Json];
}

/** The records of a queue's GetStatus, with optional filter parameters. */
export async function listStatus(client: AciClient, queue: string, params: Record<string, string> = {}): Promise<Json[]> {
  return actionList(await queueInfo(client, queue, 'GetStatus', params));
}

/** Polls a token's record until its status is one of `statuses`; returns the record. */
export function waitForStatus(client: AciClient, token: string, statuses: string | readonly string[], timeoutMs = 15_000): Promise<Json> {
  const wanted = typeof statuses === 'string' ? [statuses] : statuses;
  return waitFor(async () => {
    const record = await client.status(token);
    return wanted.includes(String(record['status'])) ? record : undefined;
  }, timeoutMs);
}

/** Decodes a token: base64 of host:port:ACTION:unique. */
export function decodeToken(token: string): { host: string; port: number; action: string; unique: string } {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const parts = text.split(':');
  const unique = parts.pop()!;
  const action = parts.pop()!;
  const port = Number(parts.pop());
  return { host: parts.join(':'), port, action, unique };
}

/** `2026-Nov-29 14:02:11`, the date format of QueueInfo records. */
export const ACTION_TIME = /^\d{4}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2}$/;

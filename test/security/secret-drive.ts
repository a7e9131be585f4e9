/**
 * Drives every ACI, console and metrics path of a running server that can answer with stored
 * events, action records, errors or settings, recording each answer body in a Transcript.
 */
import type { Transcript } from './secret-scan.js';

export interface Drive {
  get(path: string, init?: RequestInit): Promise<string>;
  json(path: string): Promise<Record<string, unknown>>;
}

export function driver(url: string, transcript: Transcript): Drive {
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(url + path, init);
    return transcript.add(`${init?.method ?? 'GET'} ${path} → ${res.status}`, await res.text());
  };
  return {
    get,
    json: async (path) => (JSON.parse(await get(path)) as { autnresponse: Record<string, unknown> }).autnresponse,
  };
}

/** The first Server-Sent Event of the console's live feed, then the stream is dropped. */
export async function firstFeedEvent(url: string, transcript: Transcript): Promise<void> {
  const abort = new AbortController();
  const res = await fetch(`${url}/console/api/stream`, { signal: abort.signal });
  const reader = res.body!.getReader();
  let text = '';
  // The feed opens with `retry:`; the first snapshot is the first `data:` block.
  while (!/data:[^]*\n\n/.test(text)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += Buffer.from(chunk.value).toString('utf8');
  }
  abort.abort();
  transcript.add('GET /console/api/stream (first event)', text);
}

/** Every read and command path, once the server has actions and events (some failed). */
export async function driveReads(url: string, d: Drive, transcript: Transcript, tokens: readonly string[], handlers: readonly string[]): Promise<void> {
  const token = encodeURIComponent(tokens[0]!);
  for (const format of ['xml', 'json', 'simplejson']) {
    await d.get(`/action=EventInfo&MaxResults=1000&ShowDocument=true&ResponseFormat=${format}`);
    await d.get(`/action=EventInfo&State=failed&MaxResults=1000&ShowDocument=true&ResponseFormat=${format}`);
    await d.get(`/action=QueueInfo&QueueName=Sleep&QueueAction=GetStatus&ResponseFormat=${format}`);
    await d.get(`/action=QueueInfo&QueueName=Sleep&QueueAction=GetActionParameters&ResponseFormat=${format}`);
    await d.get(`/action=GetStatus&ResponseFormat=${format}`);
  }
  for (const handler of handlers) await d.get(`/action=EventInfo&Handler=${handler}&ShowDocument=true&MaxResults=100`);
  await d.get(`/action=QueueInfo&QueueName=Sleep&QueueAction=QueueStatus`);
  await d.get(`/action=QueueInfo&QueueName=Sleep&QueueAction=Progress&Token=${token}`);
  await d.get(`/action=QueueInfo&QueueName=Sleep&QueueAction=GetStatus&Token=not-a-token`);
  await d.get(`/action=GetVersion`);
  await d.get(`/action=NoSuchAction`);
  await d.get(`/action=EventInfo&State=nonsense`);
  await d.get(`/action=EventInfo&EventAction=Redeliver&Handler=NoSuchHandler`);
  await d.get('/console');
  await d.get('/console/api/actions?QueueName=Sleep');
  await d.get(`/console/api/action?Token=${token}`);
  for (const handler of handlers) await d.get(`/console/api/events?Handler=${handler}&State=failed`);
  await d.get('/console/api/events');
  await firstFeedEvent(url, transcript);
  await d.get('/metrics');
}

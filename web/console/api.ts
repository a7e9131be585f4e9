/** The console's JSON API (src/console/console-server.ts): reads by GET, commands by POST. */

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(text || `HTTP ${res.status}`, `HTTP_${res.status}`);
  }
  const error = (body as { error?: { code: string; message: string } }).error;
  if (!res.ok || error) throw new ApiError(error?.message ?? `HTTP ${res.status}`, error?.code ?? `HTTP_${res.status}`);
  return body as T;
}

export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(`/console/api/${path}`, { headers: { Accept: 'application/json' } }));
}

/** Fired on window after a command succeeded: the page re-reads at once, before the live feed says so. */
export const CHANGED_EVENT = 'tocsin:changed';

export async function post(path: 'queue' | 'redeliver', body: Record<string, string | number | undefined>): Promise<unknown> {
  const res = await fetch(`/console/api/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const result = await answer<unknown>(res);
  window.dispatchEvent(new Event(CHANGED_EVENT));
  return result;
}

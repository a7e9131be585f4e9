/**
 * What one handler received, in arrival order, judged against the store: every stored event
 * arrived at least once, the events of one action arrived in order (every OnStart before the
 * action's final event), each action has one final event, and how many arrivals were repeats.
 */
import { parseEventDocument, type Json } from '../helpers/events-server.js';

export interface Arrival {
  readonly id: string;
  readonly type: string;
  readonly token: string;
}

export function arrivalOf(document: string): Arrival {
  const e = parseEventDocument(document);
  const action = e['action'] as Json | undefined;
  return { id: String(e['id']), type: String(e['type']), token: action ? String(action['token']) : '' };
}

export interface LedgerReport {
  readonly handler: string;
  readonly arrivals: number;
  readonly distinct: number;
  readonly duplicates: number;
  /** Stored event ids that never arrived. */
  readonly missing: string[];
  /** Tokens whose events arrived out of order, or with other than one final event. */
  readonly disorder: string[];
}

const FINAL = new Set(['OnFinish', 'OnError']);

/** `stored`: the ids EventInfo lists for this handler. */
export function judge(handler: string, arrivals: readonly Arrival[], stored: readonly string[]): LedgerReport {
  const firstAt = new Map<string, number>();
  arrivals.forEach((a, i) => {
    if (!firstAt.has(a.id)) firstAt.set(a.id, i);
  });
  const byToken = new Map<string, Arrival[]>();
  for (const a of arrivals) if (a.token) byToken.set(a.token, [...(byToken.get(a.token) ?? []), a]);
  const disorder: string[] = [];
  for (const [token, list] of byToken) {
    const finals = new Set(list.filter((a) => FINAL.has(a.type)).map((a) => a.id));
    const starts = new Set(list.filter((a) => a.type === 'OnStart').map((a) => a.id));
    if (finals.size !== 1 || starts.size === 0) {
      disorder.push(`${token}: ${starts.size} OnStart and ${finals.size} final events`);
      continue;
    }
    const finalAt = firstAt.get([...finals][0]!)!;
    const lastStartAt = Math.max(...[...starts].map((id) => firstAt.get(id)!));
    if (lastStartAt > finalAt) disorder.push(`${token}: an OnStart arrived after the final event`);
  }
  return {
    handler,
    arrivals: arrivals.length,
    distinct: firstAt.size,
    duplicates: arrivals.length - firstAt.size,
    missing: stored.filter((id) => !firstAt.has(id)),
    disorder,
  };
}

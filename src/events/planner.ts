/**
 * The EventPlanner of the running server: which handler sections get which event, from the
 * wiring in `[Actions]` / `[ActionName]` (a per-action parameter replaces the global one), and
 * the documents they get. Runs inside the store transaction of the status change.
 */
import { randomUUID } from 'node:crypto';
import type { ActionQueueSettings } from '../config/settings.js';
import type { ActionRecord } from '../queue/record.js';
import type { EventPlanner, NewEvent, QueueEventType } from '../store/store.js';
import { actionEventDocument, queueEventDocument } from './document.js';
import type { EventType } from './handler.js';
import { nextQueueEvent } from './queue-state.js';

export function createEventPlanner(queues: ReadonlyMap<string, ActionQueueSettings>, server: string): EventPlanner {
  const settingsOf = (queue: string) => queues.get(queue.toLowerCase());
  // LuaHandler's `request`: the request's parameters, `action` included (idol-reference.md §4.2).
  // Without parameters it is the same text for every action of a queue: made once per queue.
  const noParams = new Map<string, string>();
  function requestOf(record: ActionRecord): string {
    if (record.params.length > 0) return JSON.stringify({ action: record.queue, ...Object.fromEntries(record.params) });
    let request = noParams.get(record.queue);
    if (request === undefined) noParams.set(record.queue, (request = JSON.stringify({ action: record.queue })));
    return request;
  }

  function events(type: EventType, queue: string, handlers: readonly string[], document: (id: string) => string, token: string | undefined, request: string, now: number): NewEvent[] {
    if (handlers.length === 0) return [];
    const eventId = randomUUID();
    const doc = document(eventId);
    return handlers.map((handler) => ({ eventId, type, handler, queue, token, document: doc, request, createdAt: now }));
  }

  return {
    forAction(type, record: ActionRecord, now) {
      const handlers = settingsOf(record.queue)?.events[type] ?? [];
      if (handlers.length === 0) return [];
      return events(type, record.queue, handlers, (id) => actionEventDocument(type, id, now, server, record), record.token, requestOf(record), now);
    },
    queueRule(queue) {
      const settings = settingsOf(queue);
      return settings ? { max: settings.maximumQueueSize, ...settings.thresholds } : undefined;
    },
    forQueueSize(queue, size, last: QueueEventType, now) {
      const settings = settingsOf(queue);
      if (!settings) return undefined;
      const type = nextQueueEvent(size, settings.maximumQueueSize, last, settings.thresholds);
      if (!type) return undefined;
      const data = { queue: settings.name, type, maxQueueSize: settings.maximumQueueSize, size };
      return { type, events: events('OnQueueEvent', settings.name, settings.events.OnQueueEvent, (id) => queueEventDocument(id, now, server, data), undefined, '{}', now) };
    },
  };
}

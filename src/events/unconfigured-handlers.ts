/**
 * At start: events stored for a handler section that the config no longer has stay pending (or
 * failed) until a section of that name is configured again, since nothing else may deliver them
 * (decisions.md "Events": an event is never dropped). Say so once, with the counts, instead of
 * letting them sit unnoticed; EventInfo lists them (`Handler=`).
 */
import type { Logger } from '../common/logger.js';
import type { EventCount, EventState } from '../store/store.js';

export async function warnOfUnconfiguredHandlers(
  store: { eventCounts(): Promise<EventCount[]> },
  configured: Iterable<string>,
  log: Logger,
): Promise<void> {
  const known = new Set([...configured].map((name) => name.toLowerCase()));
  const waiting = new Map<string, Partial<Record<EventState, number>>>();
  for (const c of await store.eventCounts()) {
    if (c.state === 'delivered' || known.has(c.handler.toLowerCase())) continue;
    waiting.set(c.handler, { ...waiting.get(c.handler), [c.state]: c.count });
  }
  for (const [handler, counts] of waiting) {
    log.warn('events wait for a handler section that is not in the config; they stay until it is configured again', {
      handler,
      pending: counts.pending ?? 0,
      failed: counts.failed ?? 0,
    });
  }
}

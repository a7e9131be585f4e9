/**
 * The queue-event state machine of idol-reference.md §3.3, checked after every change of a
 * queue's size:
 * - size == max → QueueFull (unless the last event was QueueFull)
 * - size == 0 → QueueEmpty (unless the last event was QueueEmpty)
 * - size > filling×max, last event QueueEmpty or QueueEmptying → QueueFilling
 * - size < emptying×max, last event QueueFull or QueueFilling → QueueEmptying
 * Full and Empty are checked first: they are the stronger statements about the same size.
 */
import type { QueueEventThresholds } from '../config/settings.js';
import type { QueueEventType } from '../store/store.js';

export function nextQueueEvent(size: number, max: number, last: QueueEventType, t: QueueEventThresholds): QueueEventType | undefined {
  if (size >= max) return last === 'QueueFull' ? undefined : 'QueueFull';
  if (size === 0) return last === 'QueueEmpty' ? undefined : 'QueueEmpty';
  if (size > t.filling * max && (last === 'QueueEmpty' || last === 'QueueEmptying')) return 'QueueFilling';
  if (size < t.emptying * max && (last === 'QueueFull' || last === 'QueueFilling')) return 'QueueEmptying';
  return undefined;
}

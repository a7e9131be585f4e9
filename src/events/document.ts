/**
 * The event document (decisions.md "Events"): the same XML for every handler type.
 * `<action>` is exactly the QueueInfo GetStatus record at the moment of the change.
 */
import { formatActionTime } from '../common/dates.js';
import { el, parent, type XElement } from '../common/xnode.js';
import { renderXml } from '../aci/xml.js';
import type { ActionRecord } from '../queue/record.js';
import { actionRecordElement } from '../queue/record-xml.js';
import type { QueueEventType } from '../store/store.js';
import type { EventType } from './handler.js';

function eventDocument(type: EventType, id: string, now: number, server: string, body: XElement): string {
  return renderXml(parent('event', [el('type', type), el('id', id), el('time', formatActionTime(now)), el('server', server), body]));
}

export function actionEventDocument(type: EventType, id: string, now: number, server: string, record: ActionRecord): string {
  const { repeats: _repeats, ...action } = actionRecordElement(record, now);
  return eventDocument(type, id, now, server, action);
}

export interface QueueEventData {
  readonly queue: string;
  readonly type: QueueEventType;
  readonly maxQueueSize: number;
  readonly size: number;
}

export function queueEventDocument(id: string, now: number, server: string, data: QueueEventData): string {
  const children = [el('queuename', data.queue), el('queueEventType', data.type), el('maxQueueSize', data.maxQueueSize)];
  // idol-reference.md §3.3: queueSize is not present for QueueEmpty.
  if (data.type !== 'QueueEmpty') children.push(el('queueSize', data.size));
  return eventDocument('OnQueueEvent', id, now, server, parent('queueevent', children));
}

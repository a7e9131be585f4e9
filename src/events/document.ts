/**
 * The event document (decisions.md "Events"): the same XML for every handler type.
 * `<action>` is exactly the QueueInfo GetStatus record at the moment of the change.
 */
import { formatActionTime } from '../common/dates.js';
import { el, parent } from '../common/xnode.js';
import { renderPlainElement, renderTextElement, renderXml } from '../common/xml-writer.js';
import type { ActionRecord } from '../queue/record.js';
import { actionRecordXml } from '../queue/record-xml.js';
import type { QueueEventType } from '../store/store.js';
import type { EventType } from './handler.js';

/**
 * One line whatever the text: renderXml puts no whitespace between elements, so a CR or LF can only
 * be inside text (e.g. a multi-line `<error>`); as a character reference it reads back the same, and
 * TextFileHandler's "document and a newline" stays one event per line.
 */
const ONE_LINE = { oneLine: true } as const;

/** `<event>` with its header and `body` (already XML text), written straight to a string. */
function eventDocument(type: EventType, id: string, now: number, server: string, body: string): string {
  return (
    '<event>' +
    renderPlainElement('type', type) +
    renderTextElement('id', id, ONE_LINE) +
    renderPlainElement('time', formatActionTime(now)) +
    renderTextElement('server', server, ONE_LINE) +
    body +
    '</event>'
  );
}

export function actionEventDocument(type: EventType, id: string, now: number, server: string, record: ActionRecord): string {
  return eventDocument(type, id, now, server, actionRecordXml(record, now, ONE_LINE));
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
  return eventDocument('OnQueueEvent', id, now, server, renderXml(parent('queueevent', children), ONE_LINE));
}

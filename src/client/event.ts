/**
 * Typed events as a receiver gets them: the event document of decisions.md "Events" read into
 * an object. `type` tells which shape: an action event carries the action's GetStatus record,
 * OnQueueEvent the queue's state.
 */
import { XMLParser } from 'fast-xml-parser';
import { TocsinError } from '../common/errors.js';
import { EVENT_TYPES, type EventType } from '../events/handler.js';
import type { QueueEventType } from '../store/store.js';
import type { ActionStatusRecord } from './status-record.js';

interface EventHeader {
  /** Stable across redeliveries: drop an id seen before. */
  readonly id: string;
  /** `2026-Nov-29 14:02:11`, as in the document. */
  readonly time: string;
  /** `host:port` of the server that stored the event. */
  readonly server: string;
  /** The document as received. */
  readonly document: string;
}

export interface ActionEvent extends EventHeader {
  readonly type: Exclude<EventType, 'OnQueueEvent'>;
  /** The action's record at the moment of the change (QueueInfo GetStatus). */
  readonly action: ActionStatusRecord;
}

export interface QueueEvent extends EventHeader {
  readonly type: 'OnQueueEvent';
  readonly queueEvent: {
    readonly queueName: string;
    readonly type: QueueEventType;
    readonly maxQueueSize: number;
    /** Absent for QueueEmpty (idol-reference.md §3.3). */
    readonly queueSize?: number;
  };
}

export type TocsinEvent = ActionEvent | QueueEvent;

// Values stay text (a token or stage that looks like a number stays as sent); numeric character
// references (`&#13;`) are decoded, as every XML reader must.
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, htmlEntities: true });

type Json = Record<string, unknown>;

function malformed(why: string): TocsinError {
  return new TocsinError('REQUEST_MALFORMED', `Not a Tocsin event document: ${why}`);
}

export function parseEventDocument(document: string): TocsinEvent {
  let root: Json;
  try {
    root = parser.parse(document) as Json;
  } catch (e) {
    throw malformed((e as Error).message);
  }
  const event = root['event'] as Json | undefined;
  if (typeof event !== 'object' || event === null) throw malformed('no <event> element');
  const type = event['type'];
  const id = event['id'];
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) throw malformed(`unknown event type ${JSON.stringify(type)}`);
  if (typeof id !== 'string' || id === '') throw malformed('no <id>');
  const header = { id, time: String(event['time'] ?? ''), server: String(event['server'] ?? ''), document };
  if (type === 'OnQueueEvent') {
    const q = event['queueevent'] as Json | undefined;
    if (typeof q !== 'object' || q === null) throw malformed('OnQueueEvent without <queueevent>');
    const size = q['queueSize'];
    return {
      ...header,
      type,
      queueEvent: {
        queueName: String(q['queuename'] ?? ''),
        type: String(q['queueEventType']) as QueueEventType,
        maxQueueSize: Number(q['maxQueueSize']),
        ...(size !== undefined ? { queueSize: Number(size) } : {}),
      },
    };
  }
  const action = event['action'] as Json | undefined;
  if (typeof action !== 'object' || action === null || typeof action['token'] !== 'string') throw malformed(`${type} without an <action> record`);
  return { ...header, type: type as ActionEvent['type'], action: action as ActionStatusRecord };
}

/**
 * The `<action>` record of QueueInfo GetStatus (idol-reference.md §5), also the `<action>` inside
 * every event document (decisions.md "Events"): one walk over the record (writeActionRecord), so
 * both always agree. GetStatus takes it as an element tree (any output format); event documents
 * take it as XML text written straight to a string, with no tree in between (one per event).
 */
import { formatActionTime } from '../common/dates.js';
import { el, parent, type XElement } from '../common/xnode.js';
import { renderPlainElement, renderTextElement, renderXml, type RenderOptions } from '../common/xml-writer.js';
import type { ActionRecord } from './record.js';

const seconds = (ms: number): string => String(Math.max(0, Math.floor(ms / 1000)));

/** Receives the children of `<action>` in order. */
interface RecordSink {
  text(name: string, value: string): void;
  /** Text made by code that holds nothing XML must escape: digits, times, status names. */
  plain(name: string, value: string): void;
  element(node: XElement): void;
}

/** The record as seen at `now` (durations of unfinished phases run up to `now`). */
function writeActionRecord(record: ActionRecord, now: number, sink: RecordSink): void {
  sink.text('token', record.token);
  sink.plain('status', record.status);
  sink.plain('queued_time', formatActionTime(record.queuedAt));
  const waitedUntil = record.startedAt ?? record.endedAt ?? now;
  sink.plain('time_in_queue', seconds(waitedUntil - record.queuedAt));
  if (record.startedAt !== undefined) {
    sink.plain('process_start_time', formatActionTime(record.startedAt));
    sink.plain('time_processing', seconds((record.endedAt ?? now) - record.startedAt));
  }
  if (record.endedAt !== undefined) sink.plain('process_end_time', formatActionTime(record.endedAt));
  sink.plain('priority', String(record.priority));
  sink.plain('attempts', String(record.attempts));
  if (record.progress) sink.element(progressElement(record.progress.fraction, record.progress.stage));
  if (record.reports.length > 0) {
    sink.element(
      parent(
        'errorreports',
        record.reports.map((r) => ({ name: 'errorreport', attrs: { time: formatActionTime(r.time) }, text: r.message, repeats: true })),
      ),
    );
  }
  if (record.error !== undefined) sink.text('error', record.error);
  if (record.result) for (const node of record.result) sink.element(node);
}

class TreeSink implements RecordSink {
  readonly children: XElement[] = [];
  text(name: string, value: string): void {
    this.children.push(el(name, value));
  }
  plain(name: string, value: string): void {
    this.children.push(el(name, value));
  }
  element(node: XElement): void {
    this.children.push(node);
  }
}

class TextSink implements RecordSink {
  out = '<action>';
  constructor(private readonly options: RenderOptions) {}
  text(name: string, value: string): void {
    this.out += renderTextElement(name, value, this.options);
  }
  plain(name: string, value: string): void {
    this.out += renderPlainElement(name, value);
  }
  element(node: XElement): void {
    this.out += renderXml(node, this.options);
  }
}

/** The record as an element tree, for responses in any format. */
export function actionRecordElement(record: ActionRecord, now: number): XElement {
  const sink = new TreeSink();
  writeActionRecord(record, now, sink);
  return { name: 'action', children: sink.children, repeats: true };
}

/** The record as XML text: exactly `renderXml(actionRecordElement(record, now), options)`. */
export function actionRecordXml(record: ActionRecord, now: number, options: RenderOptions = {}): string {
  const sink = new TextSink(options);
  writeActionRecord(record, now, sink);
  return sink.out + '</action>';
}

export function progressElement(fraction: number, stage?: string): XElement {
  const children = [el('percent', Math.round(fraction * 1000) / 10)];
  if (stage !== undefined) children.push(el('stage', stage));
  return parent('progress', children);
}

/**
 * The `<action>` record of QueueInfo GetStatus (idol-reference.md §5), also the `<action>` inside
 * every event document (decisions.md "Events"): one function, so both always agree.
 */
import { formatActionTime } from '../common/dates.js';
import { el, parent, type XElement } from '../common/xnode.js';
import type { ActionRecord } from './record.js';

const seconds = (ms: number): number => Math.max(0, Math.floor(ms / 1000));

/** The record as seen at `now` (durations of unfinished phases run up to `now`). */
export function actionRecordElement(record: ActionRecord, now: number): XElement {
  const children: XElement[] = [el('token', record.token), el('status', record.status), el('queued_time', formatActionTime(record.queuedAt))];
  const waitedUntil = record.startedAt ?? record.endedAt ?? now;
  children.push(el('time_in_queue', seconds(waitedUntil - record.queuedAt)));
  if (record.startedAt !== undefined) {
    children.push(el('process_start_time', formatActionTime(record.startedAt)));
    children.push(el('time_processing', seconds((record.endedAt ?? now) - record.startedAt)));
  }
  if (record.endedAt !== undefined) children.push(el('process_end_time', formatActionTime(record.endedAt)));
  children.push(el('priority', record.priority), el('attempts', record.attempts));
  if (record.progress) children.push(progressElement(record.progress.fraction, record.progress.stage));
  if (record.reports.length > 0) {
    children.push(
      parent(
        'errorreports',
        record.reports.map((r) => ({ name: 'errorreport', attrs: { time: formatActionTime(r.time) }, text: r.message, repeats: true })),
      ),
    );
  }
  if (record.error !== undefined) children.push(el('error', record.error));
  if (record.result) children.push(...record.result);
  return { name: 'action', children, repeats: true };
}

export function progressElement(fraction: number, stage?: string): XElement {
  const children = [el('percent', Math.round(fraction * 1000) / 10)];
  if (stage !== undefined) children.push(el('stage', stage));
  return parent('progress', children);
}

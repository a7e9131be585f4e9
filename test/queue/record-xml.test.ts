/**
 * The `<action>` record written straight to text (event documents) must be exactly the element
 * tree that QueueInfo GetStatus renders: every optional part, awkward text, both newline modes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { el, parent } from '../../src/common/xnode.js';
import { renderXml } from '../../src/common/xml-writer.js';
import { actionRecordElement, actionRecordXml } from '../../src/queue/record-xml.js';
import type { ActionRecord } from '../../src/queue/record.js';

const T0 = Date.UTC(2026, 10, 29, 6, 30, 0);

const base: ActionRecord = {
  id: 7,
  token: 'MTI3LjAuMC4xOjkwMDA6Tk9PUDo3',
  queue: 'Noop',
  status: 'Queued',
  priority: 0,
  params: [],
  queuedAt: T0,
  attempts: 0,
  reports: [],
};

const records: Record<string, ActionRecord> = {
  queued: base,
  processing: { ...base, status: 'Processing', startedAt: T0 + 1_500, attempts: 1 },
  finished: { ...base, status: 'Finished', startedAt: T0 + 1_500, endedAt: T0 + 9_999, attempts: 2, priority: -3 },
  'cancelled before start': { ...base, status: 'Cancelled', endedAt: T0 + 4_000 },
  'with progress': { ...base, status: 'Processing', startedAt: T0, attempts: 1, progress: { fraction: 0.4567, stage: 'Copy <b> & "c"' } },
  'progress without stage': { ...base, status: 'Paused', startedAt: T0, attempts: 1, progress: { fraction: 1 } },
  'error on two lines': { ...base, status: 'Error', startedAt: T0, endedAt: T0 + 1, attempts: 1, error: 'line one\r\nline <two> & \u0007bell' },
  'empty error': { ...base, status: 'Error', startedAt: T0, endedAt: T0 + 1, attempts: 1, error: '' },
  'error reports': {
    ...base,
    status: 'Processing',
    startedAt: T0,
    attempts: 1,
    reports: [
      { time: T0 + 10, message: 'first' },
      { time: T0 + 20, message: 'second\nwith "quotes" and \'apostrophes\'' },
    ],
  },
  result: {
    ...base,
    status: 'Finished',
    startedAt: T0,
    endedAt: T0 + 5,
    attempts: 1,
    result: [el('count', 3), parent('files', [el('file', 'a\nb.txt'), { name: 'file', attrs: { size: '1\t2' }, text: '' }])],
  },
};

describe('actionRecordXml', () => {
  for (const [name, record] of Object.entries(records)) {
    for (const oneLine of [false, true]) {
      test(`${name}, oneLine=${oneLine}: the same text as the GetStatus element tree`, () => {
        const now = T0 + 12_345;
        const expected = renderXml(actionRecordElement(record, now), { oneLine });
        assert.equal(actionRecordXml(record, now, { oneLine }), expected);
        if (oneLine) assert.doesNotMatch(expected, /[\r\n]/);
      });
    }
  }

  test('the text reads back as the record (durations up to now for unfinished phases)', () => {
    const parsed = new XMLParser({ parseTagValue: false }).parse(actionRecordXml(records.processing!, T0 + 61_600)) as {
      action: Record<string, string>;
    };
    assert.equal(parsed.action.token, base.token);
    assert.equal(parsed.action.status, 'Processing');
    assert.equal(parsed.action.time_in_queue, '1');
    assert.equal(parsed.action.time_processing, '60');
    assert.equal(parsed.action.attempts, '1');
    assert.equal(parsed.action.process_end_time, undefined);
  });
});

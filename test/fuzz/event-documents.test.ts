/**
 * Fuzzing the event documents and ACI renderings of action records (decisions.md "Events"): every
 * text a client or an action can put in a record (token, error, error reports, progress stage,
 * result elements and attributes) holding `]]>`, markup, control characters, lone surrogates and
 * line breaks. Every document must parse with a strict XML parser, stay on one line, and give back
 * each text exactly, less only what XML 1.0 cannot carry; the ACI renderings (xml, json,
 * simplejson) of the same record must parse too and agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { actionEventDocument, queueEventDocument } from '../../src/events/document.js';
import { actionRecordElement, actionRecordXml } from '../../src/queue/record-xml.js';
import { renderSuccess } from '../../src/aci/render.js';
import { renderXml } from '../../src/common/xml-writer.js';
import type { XElement } from '../../src/common/xnode.js';
import { ACTION_STATUSES, type ActionRecord } from '../../src/queue/record.js';
import { EVENT_TYPES } from '../../src/events/handler.js';
import { fuzz, fuzzRuns, hostileText, xmlCarriable } from '../helpers/fuzz.js';
import { child, parseStrictXml, type XmlNode } from '../helpers/strict-xml.js';

const NOW = Date.UTC(2026, 10, 29, 14, 2, 11);

/** Element names come from code, never from input: a fixed set, with the names results use. */
const resultName = fc.constantFrom('output', 'exit_code', 'slept_seconds', 'detail', 'item');

const resultElement: fc.Arbitrary<XElement> = fc.letrec<{ node: XElement }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ name: resultName, text: hostileText() }),
    fc.record({ name: resultName, text: hostileText(), attrs: fc.dictionary(fc.constantFrom('kind', 'path', 'note'), hostileText(6), { maxKeys: 2 }) }),
    fc.record({ name: resultName, children: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
  ),
})).node;

const record: fc.Arbitrary<ActionRecord> = fc
  .record({
    token: hostileText(4),
    status: fc.constantFrom(...ACTION_STATUSES),
    priority: fc.integer({ min: -1_000_000, max: 1_000_000 }),
    params: fc.array(fc.tuple(hostileText(3), hostileText()), { maxLength: 4 }),
    started: fc.boolean(),
    ended: fc.boolean(),
    attempts: fc.integer({ min: 0, max: 1000 }),
    result: fc.option(fc.array(resultElement, { maxLength: 3 }), { nil: undefined }),
    error: fc.option(hostileText(), { nil: undefined }),
    reports: fc.array(hostileText(), { maxLength: 3 }),
    progress: fc.option(fc.record({ fraction: fc.double({ min: 0, max: 1, noNaN: true }), stage: fc.option(hostileText(), { nil: undefined }) }), { nil: undefined }),
  })
  .map((r) => ({
    id: 1,
    token: r.token,
    queue: 'Fuzz',
    status: r.status,
    priority: r.priority,
    params: r.params,
    queuedAt: NOW - 5000,
    ...(r.started ? { startedAt: NOW - 3000 } : {}),
    ...(r.started && r.ended ? { endedAt: NOW - 1000 } : {}),
    attempts: r.attempts,
    ...(r.result ? { result: r.result } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    reports: r.reports.map((message, i) => ({ time: NOW - i, message })),
    ...(r.progress ? { progress: r.progress.stage === undefined ? { fraction: r.progress.fraction } : r.progress } : {}),
  }));

/** The parsed element must hold exactly what the written element held, less what XML cannot carry. */
function assertSame(parsed: XmlNode, written: XElement, where: string): void {
  assert.equal(parsed.name, written.name, where);
  for (const [k, v] of Object.entries(written.attrs ?? {})) assert.equal(parsed.attrs[k], xmlCarriable(v), `${where}/@${k}`);
  const children = written.children ?? [];
  assert.equal(parsed.children.length, children.length, `${where}: children`);
  children.forEach((c, i) => assertSame(parsed.children[i]!, c, `${where}/${c.name}[${i}]`));
  if (children.length === 0) assert.equal(parsed.text, xmlCarriable(written.text ?? ''), `${where}: text`);
}

test('event documents of fuzzed action records parse strictly, stay on one line and keep every carriable character', async (t) => {
  const type = fc.constantFrom(...EVENT_TYPES.filter((e) => e !== 'OnQueueEvent'));
  await fuzz(
    t,
    'action event documents',
    fuzzRuns(2000),
    fc.property(type, hostileText(4), hostileText(4), record, (eventType, id, server, r) => {
      const doc = actionEventDocument(eventType, id, NOW, server, r);
      assert.ok(!/[\r\n]/.test(doc), 'one line: TextFileHandler writes a document and a newline');
      const root = parseStrictXml(doc);
      assert.equal(root.name, 'event');
      assert.equal(child(root, 'type').text, eventType);
      assert.equal(child(root, 'id').text, xmlCarriable(id));
      assert.equal(child(root, 'server').text, xmlCarriable(server));
      // <action> is exactly the GetStatus record, written through the element tree.
      const element = actionRecordElement(r, NOW);
      assertSame(child(root, 'action'), element, 'event/action');
      assert.equal(actionRecordXml(r, NOW, { oneLine: true }), renderXml(element, { oneLine: true }));
    }),
  );
});

test('queue event documents with fuzzed queue names and servers parse strictly', async (t) => {
  const queueType = fc.constantFrom('QueueFull', 'QueueFilling', 'QueueEmptying', 'QueueEmpty' as const);
  await fuzz(
    t,
    'queue event documents',
    fuzzRuns(500, 20_000),
    fc.property(hostileText(), hostileText(4), queueType, fc.nat(), fc.nat(), (queue, server, qt, max, size) => {
      const doc = queueEventDocument('id-1', NOW, server, { queue, type: qt, maxQueueSize: max, size });
      assert.ok(!/[\r\n]/.test(doc));
      const q = child(parseStrictXml(doc), 'queueevent');
      assert.equal(child(q, 'queuename').text, xmlCarriable(queue));
      assert.equal(child(q, 'queueEventType').text, qt);
      assert.equal(q.children.some((c) => c.name === 'queueSize'), qt !== 'QueueEmpty');
    }),
  );
});

test('ACI responses (xml, json, simplejson) of fuzzed records parse, and xml keeps every carriable character, line breaks included', async (t) => {
  await fuzz(
    t,
    'ACI record responses',
    fuzzRuns(1500),
    fc.property(record, (r) => {
      const element = actionRecordElement(r, NOW);
      const xml = renderSuccess('QueueInfo', [element], 'xml');
      const root = parseStrictXml(xml.body);
      // Not one-line here: a CR must still read back as CR, not as the LF a parser makes of a raw one.
      assertSame(child(child(root, 'responsedata'), 'action'), element, 'autnresponse/responsedata/action');
      for (const format of ['json', 'simplejson'] as const) {
        const body = renderSuccess('QueueInfo', [element], format).body;
        const parsed = JSON.parse(body) as { autnresponse: { action: unknown } };
        assert.ok(parsed.autnresponse, format);
        // JSON carries every code unit (lone surrogates as \u escapes): no byte a UTF-8 decoder would replace.
        assert.ok(Buffer.from(body, 'utf8').toString('utf8') === body, `${format}: well-formed UTF-16 in, lossless UTF-8 out`);
      }
    }),
  );
});

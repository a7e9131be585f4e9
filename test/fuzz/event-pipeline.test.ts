/**
 * Fuzzed parameters through the whole event path: submitted (over HTTP, and through the library
 * API, which lets lone surrogates in), stored, run by an action that copies them into its result,
 * attribute, error, error report and progress stage, and written by a TextFileHandler. Every line
 * of the events file must be one document a strict XML parser reads, holding the action's text
 * exactly, less what XML 1.0 cannot carry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { el } from '../../src/common/xnode.js';
import { ActionFailure, type AsyncActionDefinition } from '../../src/queue/action-definition.js';
import { FULL, fuzz, fuzzRuns, hostileText, xmlCarriable } from '../helpers/fuzz.js';
import { startTestServer } from '../helpers/server.js';
import { child, parseStrictXml, type XmlNode } from '../helpers/strict-xml.js';

interface Seen {
  readonly text: string;
  readonly attr: string;
  readonly error: string;
  readonly report: string;
}

/** What the action read from its parameters, by token: the oracle for the documents. */
const seen = new Map<string, Seen>();

const mirror: AsyncActionDefinition = {
  name: 'Mirror',
  async run(ctx) {
    const get = (n: string) => ctx.params.get(n) ?? '';
    const s = { text: get('Text'), attr: get('Attr'), error: get('Error'), report: get('Report') };
    seen.set(ctx.token, s);
    ctx.progress(0.5, s.text);
    if (s.report !== '') ctx.reportError(s.report);
    const result = [el('detail', s.text), { name: 'item', attrs: { note: s.attr }, text: s.attr }];
    if (get('Fail') === 'yes') throw new ActionFailure(s.error, result);
    return { result };
  },
};

const CONFIG = `
[Actions]
PollInterval=50
MaximumThreads=4
OnFinish=Log
OnError=Log
OnErrorReport=Log

[Log]
LibraryName=TextFileHandler
FilePath=events.log
`;

/**
 * Reads the events file as it grows (from where it last stopped, so a long run stays linear), parsing
 * every line strictly, and keeps each token's final event (OnFinish or OnError).
 */
class EventsFile {
  /** Bytes read so far that end in a complete line (a write may be caught half done). */
  private offset = 0;
  private readonly finals = new Map<string, XmlNode>();
  constructor(private readonly file: string) {}

  finalEvent(token: string): XmlNode | undefined {
    if (!this.finals.has(token) && existsSync(this.file)) this.readMore();
    return this.finals.get(token);
  }

  private readMore(): void {
    const fd = openSync(this.file, 'r');
    let data: Buffer;
    try {
      data = Buffer.alloc(Math.max(0, fstatSync(fd).size - this.offset));
      readSync(fd, data, 0, data.length, this.offset);
    } finally {
      closeSync(fd);
    }
    const end = data.lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    const lines = data.subarray(0, end).toString('utf8').split('\n');
    this.offset += end;
    for (const line of lines) {
      if (line === '') continue;
      const doc = parseStrictXml(line);
      const type = child(doc, 'type').text;
      if (type === 'OnFinish' || type === 'OnError') this.finals.set(child(child(doc, 'action'), 'token').text, doc);
    }
  }
}

test('fuzzed parameters reach every handler document intact through store, action and TextFileHandler', { timeout: FULL ? 3_600_000 : 120_000 }, async (t) => {
  const s = await startTestServer({ config: CONFIG, actions: [mirror] });
  const events = new EventsFile(join(s.dir, 'events.log'));
  try {
    await fuzz(
      t,
      'event pipeline',
      fuzzRuns(100, 5000),
      fc.asyncProperty(hostileText(), hostileText(), hostileText(), hostileText(), fc.boolean(), fc.boolean(), async (text, attr, error, report, fail, viaHttp) => {
        const params: [string, string][] = [['Text', text], ['Attr', attr], ['Error', error], ['Report', report], ['Fail', fail ? 'yes' : 'no']];
        // HTTP carries only well-formed text; the library API takes any JavaScript string.
        const token = viaHttp
          ? await s.client.send('Mirror', Object.fromEntries(params.map(([n, v]) => [n, v.replace(/[\uD800-\uDFFF]/g, '?')])))
          : (await s.server.scheduler.submit('Mirror', params)).token;
        const deadline = Date.now() + 15_000;
        let doc: XmlNode | undefined;
        while (!(doc = events.finalEvent(token))) {
          if (Date.now() > deadline) assert.fail(`no final event for ${token}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        const got = seen.get(token)!;
        const action = child(doc, 'action');
        assert.equal(child(doc, 'type').text, fail ? 'OnError' : 'OnFinish');
        assert.equal(child(action, 'detail').text, xmlCarriable(got.text));
        assert.equal(child(action, 'item').attrs['note'], xmlCarriable(got.attr));
        assert.equal(child(action, 'item').text, xmlCarriable(got.attr));
        if (fail) assert.equal(child(action, 'error').text, xmlCarriable(got.error));
        if (got.report !== '') assert.equal(child(child(action, 'errorreports'), 'errorreport').text, xmlCarriable(got.report));
      }),
    );
  } finally {
    await s.close();
  }
});

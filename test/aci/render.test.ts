/**
 * Rendering in xml, json and simplejson, read back over real HTTP on loopback with the parsers a
 * client would use (fast-xml-parser, JSON.parse), by the element paths IDOL clients use.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { TocsinError } from '../../src/common/errors.js';
import { el, parent, repeating, type XElement } from '../../src/common/xnode.js';
import { parseAciRequest } from '../../src/aci/request.js';
import { parseResponseFormat, renderError, renderSuccess, type ResponseFormat } from '../../src/aci/render.js';
import { escapeXml, renderXml } from '../../src/common/xml-writer.js';

const TOKEN = 'MTAuMi4xMDUuMzQ6MTIzNDpGRVRDSDoxNzUyNTc4MDc0';
const NASTY = `a & b < c > d " e ' f\u0007g`;

/** Canned response data per action (lower-cased name). */
const DATA: Record<string, readonly XElement[]> = {
  fetch: [el('token', TOKEN)],
  queueinfo: [
    parent('actions', [
      repeating(
        parent('action', [
          el('status', 'Finished'),
          el('time_in_queue', 1),
          parent('documentcounts', [repeating({ name: 'documentcount', attrs: { errors: '0', seen: '3', task: 'MYTASK' } })]),
          el('token', TOKEN),
        ]),
      ),
    ]),
  ],
  siblings: [el('item', 'one'), el('item', 'two'), { name: 'note', attrs: { lang: 'en' }, text: 'hi' }, el('empty', '')],
  escape: [{ name: 'text', attrs: { value: NASTY, multi: 'line1\nline2' }, text: NASTY }],
};

function startServer(): http.Server {
  return http.createServer((req, res) => {
    void answer(req).then(({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body));
  });
}

/** The thin server shape: parse → pick the format → look up → render; errors are ACI errors. */
async function answer(req: http.IncomingMessage) {
  let action = '';
  let format: ResponseFormat = 'xml';
  try {
    const r = await parseAciRequest(req, { maxInputString: 64000, maxBodyBytes: 1e6, maxFileUploadSize: 1e6 });
    action = r.action;
    format = parseResponseFormat(r.params.get('responseformat'));
    if (action.toLowerCase() === 'fail') throw new TocsinError('PARAM_INVALID', 'Token parameter is not a token');
    const data = DATA[action.toLowerCase()];
    if (!data) throw new TocsinError('ACTION_UNKNOWN', `Unknown action ${action}`);
    return renderSuccess(action, data, format);
  } catch (e) {
    return renderError(action, e instanceof TocsinError ? e : new TocsinError('INTERNAL', String(e)), format);
  }
}

let server: http.Server;
let base: string;
before(async () => {
  server = startServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

async function call(path: string): Promise<{ type: string; body: string }> {
  const res = await fetch(base + path);
  assert.equal(res.status, 200);
  return { type: res.headers.get('content-type') ?? '', body: await res.text() };
}

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: false });
/** Responses are read back by path, as a client would, so they stay untyped. */
type Any = any;
const xml = async (path: string): Promise<Any> => (xmlParser.parse((await call(path)).body) as Any).autnresponse;
const json = async (path: string): Promise<Any> => (JSON.parse((await call(path)).body) as Any).autnresponse;

const ERROR_TIME = /^\d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2}$/;

describe('xml', () => {
  test('success envelope is exactly IDOL shape', async () => {
    const { type, body } = await call('/action=fetch');
    assert.equal(type, 'application/xml; charset=UTF-8');
    assert.equal(
      body,
      '<?xml version="1.0" encoding="UTF-8"?><autnresponse xmlns:autn="http://schemas.autonomy.com/aci/">' +
        `<action>FETCH</action><response>SUCCESS</response><responsedata><token>${TOKEN}</token></responsedata></autnresponse>`,
    );
  });
  test('nested data reads back by path', async () => {
    const r = await xml('/action=QueueInfo');
    assert.equal(r.action, 'QUEUEINFO');
    assert.equal(r.responsedata.actions.action.status, 'Finished');
    assert.equal(r.responsedata.actions.action.documentcounts.documentcount['@seen'], '3');
  });
  test('error block', async () => {
    const r = await xml('/action=Fail');
    assert.equal(r.response, 'ERROR');
    const e = r.responsedata.error;
    assert.equal(e.errorid, 'TOCSINFAIL-103');
    assert.equal(e.rawerrorid, '0x67');
    assert.equal(e.errorstring, 'A parameter has an invalid value');
    assert.equal(e.errordescription, 'Token parameter is not a token');
    assert.equal(e.errorcode, 'ERRORPARAMINVALID');
    assert.match(e.errortime, ERROR_TIME);
  });
  test('unknown action keeps IDOL sample wording', async () => {
    const e = (await xml('/action=NoSuchThing')).responsedata.error;
    assert.equal(e.errorstring, 'ERROR');
    assert.match(e.errordescription, /^The requested action was not recognised.*NoSuchThing/);
    assert.equal(e.errorcode, 'ERRORNOTIMPLEMENTED');
    assert.equal(e.errorid, 'TOCSINNOSUCHTHING-100');
  });
  test('& < > " \' are escaped in text and attributes; U+0007 is removed', async () => {
    const { body } = await call('/action=Escape');
    assert.ok(!body.includes('\u0007'));
    assert.ok(body.includes('a &amp; b &lt; c &gt; d &quot; e &apos; fg'));
    const t = (xmlParser.parse(body) as Any).autnresponse.responsedata.text;
    assert.equal(t['#text'], NASTY.replace('\u0007', ''));
    assert.equal(t['@value'], NASTY.replace('\u0007', ''));
  });
});

describe('json', () => {
  test('text nodes are {"$":...}; a lone element is an object', async () => {
    const { type, body } = await call('/action=Fetch&ResponseFormat=json');
    assert.equal(type, 'application/json; charset=UTF-8');
    const r = (JSON.parse(body) as Any).autnresponse;
    assert.equal(r.action.$, 'FETCH');
    assert.equal(r.response.$, 'SUCCESS');
    assert.equal(r.responsedata.token.$, TOKEN);
  });
  test('repeating elements are arrays: action[0].status.$', async () => {
    const r = await json('/action=QueueInfo&responseformat=JSON');
    assert.equal(r.responsedata.actions.action[0].status.$, 'Finished');
    assert.equal(r.responsedata.actions.action[0].time_in_queue.$, '1');
    assert.deepEqual(r.responsedata.actions.action[0].documentcounts.documentcount, [{ '@errors': '0', '@seen': '3', '@task': 'MYTASK' }]);
  });
  test('same-named siblings become one array; attributes beside $', async () => {
    const r = await json('/action=Siblings&ResponseFormat=json');
    assert.deepEqual(r.responsedata, {
      item: [{ $: 'one' }, { $: 'two' }],
      note: { '@lang': 'en', $: 'hi' },
      empty: { $: '' },
    });
  });
  test('error block', async () => {
    const r = await json('/action=Fail&ResponseFormat=json');
    assert.equal(r.response.$, 'ERROR');
    assert.equal(r.responsedata.error.errorcode.$, 'ERRORPARAMINVALID');
    assert.equal(r.responsedata.error.errorid.$, 'TOCSINFAIL-103');
    assert.match(r.responsedata.error.errortime.$, ERROR_TIME);
  });
});

describe('simplejson', () => {
  test('matches IDOL sample exactly', async () => {
    const { type, body } = await call('/action=Fetch&ResponseFormat=simplejson');
    assert.equal(type, 'application/json; charset=UTF-8');
    assert.equal(body, `{"autnresponse":{"action":"FETCH","response":"SUCCESS","responsedata":{"token":"${TOKEN}"}}}`);
  });
  test('repeating elements are arrays even when single; attributes are @name', async () => {
    const r = await json('/action=QueueInfo&ResponseFormat=SimpleJSON');
    assert.equal(r.responsedata.actions.action[0].status, 'Finished');
    assert.deepEqual(r.responsedata.actions.action[0].documentcounts.documentcount, [{ '@errors': '0', '@seen': '3', '@task': 'MYTASK' }]);
  });
  test('same-named siblings are an array; text with attributes goes under $', async () => {
    const r = await json('/action=Siblings&ResponseFormat=simplejson');
    assert.deepEqual(r.responsedata, { item: ['one', 'two'], note: { '@lang': 'en', $: 'hi' }, empty: '' });
  });
  test('error block', async () => {
    const r = await json('/action=Fail&ResponseFormat=simplejson');
    assert.equal(r.response, 'ERROR');
    assert.equal(r.responsedata.error.errorcode, 'ERRORPARAMINVALID');
    assert.equal(r.responsedata.error.errordescription, 'Token parameter is not a token');
  });
  test('escaping survives the JSON round trip, U+0007 included', async () => {
    const r = await json('/action=Escape&ResponseFormat=simplejson');
    assert.equal(r.responsedata.text.$, NASTY);
  });
});

describe('ResponseFormat', () => {
  test('matched without regard to case, default xml', () => {
    assert.equal(parseResponseFormat(undefined), 'xml');
    assert.equal(parseResponseFormat(''), 'xml');
    assert.equal(parseResponseFormat('XML'), 'xml');
    assert.equal(parseResponseFormat('Json'), 'json');
    assert.equal(parseResponseFormat('SIMPLEJSON'), 'simplejson');
  });
  test('unknown value is PARAM_INVALID naming ResponseFormat, answered in xml', async () => {
    assert.throws(() => parseResponseFormat('yaml'), (e: unknown) => e instanceof TocsinError && e.code === 'PARAM_INVALID' && /ResponseFormat/.test(e.message));
    const r = await xml('/action=Fetch&ResponseFormat=yaml');
    assert.equal(r.responsedata.error.errorcode, 'ERRORPARAMINVALID');
    assert.match(r.responsedata.error.errordescription, /ResponseFormat=yaml/);
  });
});

describe('pieces', () => {
  test('errortime is dd MMM yy HH:mm:ss in local time', () => {
    const body = renderError('GetQueryTagValues', new TocsinError('PARAM_INVALID', 'x'), 'xml', new Date(2008, 6, 9, 15, 48, 22)).body;
    assert.ok(body.includes('<errortime>09 Jul 08 15:48:22</errortime>'));
    assert.ok(body.includes('<errorid>TOCSINGETQUERYTAGVALUES-103</errorid>'));
  });
  test('escapeXml: five entities and CR as a reference (a raw CR reads back as LF), forbidden characters removed, others kept', () => {
    assert.equal(escapeXml(`&<>"'`), '&amp;&lt;&gt;&quot;&apos;');
    assert.equal(escapeXml('bell\u0007 nul\u0000 ok\t\n\r'), 'bell nul ok\t\n&#13;');
    assert.equal(escapeXml('a\r\nb'), 'a&#13;\nb');
    assert.equal(escapeXml('lone \uD800 pair \u{1F514} \uFFFE'), 'lone  pair \u{1F514} ');
    assert.equal(escapeXml('plain'), 'plain');
  });
  test('renderXml: compact, empty elements self-close, attributes escaped', () => {
    const node = parent('a', [el('b', ''), { name: 'c', attrs: { q: '"<&>\'', nl: 'x\ny' } }], { id: '1' });
    assert.equal(renderXml(node), '<a id="1"><b/><c q="&quot;&lt;&amp;&gt;&apos;" nl="x&#10;y"/></a>');
  });
});

/**
 * Fuzzing ACI request parsing on a real server over raw sockets (src/aci/request.ts, http-guards.ts):
 * - well-formed requests in every form (path, query, both, urlencoded and multipart POST; escapes
 *   upper, lower, `+`, every byte escaped, raw UTF-8 in a form) with duplicate and empty
 *   parameters and hostile text: the action sees exactly the parameters sent, in order;
 * - hostile bytes (bad and cut percent-escapes, non-UTF-8, bytes HTTP forbids, odd content types,
 *   broken multipart bodies): always an answer, HTTP 200/400/431, an ACI document that a strict XML
 *   parser reads, SUCCESS or a catalogued error code, never an internal error;
 * - stored parameters read back through GetActionParameters (xml and json) as sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TocsinError, ERROR_CATALOGUE } from '../../src/common/errors.js';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';
import { FULL, fuzz, fuzzRuns, HOSTILE_PIECES, hostileText, xmlCarriable } from '../helpers/fuzz.js';
import { RawHttpConnection, rawGet, rawPost, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { child, parseStrictXml } from '../helpers/strict-xml.js';

type Pair = [string, string];

/** Probe's validate() records what the server parsed, then refuses, so nothing is stored. */
let probed: Pair[] | undefined;
const probe: AsyncActionDefinition = {
  name: 'Probe',
  validate(params) {
    probed = params.entries().map(([n, v]) => [n, v]);
    throw new TocsinError('PARAM_INVALID', 'probed');
  },
  run: async () => {},
};
/** Keep's queue is paused: its actions wait, so GetActionParameters shows what was stored. */
const keep: AsyncActionDefinition = { name: 'Keep', run: async () => {} };

const CONFIG = `
[Server]
HeaderTimeout=2s
RequestTimeout=4s

[Actions]
MaximumQueueSize=1000000
`;

const TIMEOUT = FULL ? 3_600_000 : 180_000;

/** Lone surrogates cannot be sent as UTF-8: the client side of a request holds well-formed text. */
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
const RESERVED = new Set(['action', 'a', 'responseformat', 'actionid', 'priority']);
const paramName = hostileText(3)
  .map(wellFormed)
  .filter((n) => n !== '' && !RESERVED.has(n.toLowerCase()));
const paramValue = hostileText().map(wellFormed);
const pairs = fc.array(fc.tuple(paramName, paramValue), { maxLength: 12 });

type Escape = 'standard' | 'lower' | 'every-byte' | 'plus';
const escape = fc.constantFrom<Escape>('standard', 'lower', 'every-byte', 'plus');

function encode(text: string, how: Escape): string {
  switch (how) {
    case 'standard':
      return encodeURIComponent(text);
    case 'lower':
      return encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    case 'plus':
      return encodeURIComponent(text).replaceAll('%20', '+');
    case 'every-byte':
      return [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

/** Pairs as `a=b&c=d`, with the action pair at `at` and stray `&` where `gaps` says. */
function pairText(list: readonly Pair[], how: Escape, action: string | undefined, at: number, gaps: boolean): string {
  const pieces = list.map(([n, v]) => `${encode(n, how)}=${encode(v, how)}`);
  if (action !== undefined) pieces.splice(Math.min(at, pieces.length), 0, action);
  return pieces.join(gaps ? '&&' : '&');
}

type Form = 'path' | 'query' | 'path+query' | 'form' | 'form-raw' | 'multipart';

interface WellFormed {
  readonly form: Form;
  readonly query: Pair[];
  readonly body: Pair[];
  readonly how: Escape;
  readonly at: number;
  readonly gaps: boolean;
  readonly actionWord: string;
}

const wellFormedRequest: fc.Arbitrary<WellFormed> = fc.record({
  form: fc.constantFrom<Form>('path', 'query', 'path+query', 'form', 'form-raw', 'multipart'),
  query: pairs,
  body: pairs,
  how: escape,
  at: fc.nat(12),
  gaps: fc.boolean(),
  actionWord: fc.constantFrom('action=Probe', 'a=probe', 'ACTION=PROBE', 'action=Probe&a=probe'),
});

/** Multipart field names travel in a quoted header parameter: plain names only there. */
const multipartName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,11}$/).filter((n) => !RESERVED.has(n.toLowerCase()));

function multipartBody(fields: readonly Pair[], boundary: string): Buffer {
  const parts = fields.map(([n, v]) => Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n`), Buffer.from(v, 'utf8'), Buffer.from('\r\n')]));
  return Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
}

/** The request bytes and the parameters the action must see (query ones first, then the body's). */
function build(w: WellFormed): { bytes: Buffer; expected: Pair[] } {
  const query = pairText(w.query, w.how, undefined, 0, w.gaps);
  switch (w.form) {
    case 'path':
      return { bytes: rawGet(`/${pairText(w.query, w.how, w.actionWord, w.at, w.gaps)}`), expected: w.query };
    case 'query':
      return { bytes: rawGet(`/?${pairText(w.query, w.how, w.actionWord, w.at, w.gaps)}`), expected: w.query };
    case 'path+query':
      return { bytes: rawGet(`/${w.actionWord}?${query}`), expected: w.query };
    case 'form': {
      const body = pairText(w.body, w.how, w.actionWord, w.at, w.gaps);
      return { bytes: rawPost(body, 'application/x-www-form-urlencoded', `/?${query}`), expected: [...w.query, ...w.body] };
    }
    case 'form-raw': {
      // curl -d style: non-ASCII as raw UTF-8 bytes, only the form's own delimiters escaped.
      const raw = (s: string) => s.replace(/[%&=+\u0000-\u0020]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
      const body = [w.actionWord, ...w.body.map(([n, v]) => `${raw(n)}=${raw(v)}`)].join('&');
      return { bytes: rawPost(body, 'application/x-www-form-urlencoded'), expected: w.body };
    }
    case 'multipart': {
      const boundary = `fuzz${w.at}x${w.query.length}boundaryQ7`;
      const fields: Pair[] = [['action', 'Probe'], ...w.body];
      return { bytes: rawPost(multipartBody(fields, boundary), `multipart/form-data; boundary=${boundary}`, `/?${query}`), expected: [...w.query, ...w.body] };
    }
  }
}

const BAD_CODES = new Set(['ERRORINTERNAL', 'ERRORDATASTORE', 'ERRORSTOREUNAVAILABLE']);
const KNOWN_CODES = new Set<string>(Object.values(ERROR_CATALOGUE).map((e) => e.aciCode));

/** Checks an answer is a well-formed ACI document; returns its response and errorcode. */
function checkAnswer(r: RawResponse, what: string): { response: string; code: string; description: string } {
  assert.ok([200, 400, 431].includes(r.status), `HTTP ${r.status} for ${what}`);
  if (/^application\/json/.test(r.headers['content-type'] ?? '')) return checkJsonAnswer(r.body, what);
  assert.match(r.headers['content-type'] ?? '', /^application\/xml/);
  let doc;
  try {
    doc = parseStrictXml(r.body);
  } catch (e) {
    assert.fail(`not well-formed XML (${(e as Error).message}) for ${what}: ${r.body.slice(0, 500)}`);
  }
  assert.equal(doc.name, 'autnresponse');
  const response = child(doc, 'response').text;
  assert.ok(response === 'SUCCESS' || response === 'ERROR');
  if (response === 'SUCCESS') return { response, code: '', description: '' };
  const error = child(child(doc, 'responsedata'), 'error');
  const code = child(error, 'errorcode').text;
  const description = child(error, 'errordescription').text;
  assert.ok(KNOWN_CODES.has(code) && !BAD_CODES.has(code), `errorcode ${code} (${description}) for ${what}`);
  assert.ok(description.length > 0);
  return { response, code, description };
}

/** ResponseFormat=json or simplejson: the same checks on the JSON shape (json wraps text as {"$": ...}). */
function checkJsonAnswer(body: string, what: string): { response: string; code: string; description: string } {
  const text = (v: unknown): string => (typeof v === 'object' && v !== null && '$' in v ? String((v as { $: unknown }).$) : String(v));
  const root = (JSON.parse(body) as { autnresponse: Record<string, unknown> }).autnresponse;
  const response = text(root['response']);
  assert.ok(response === 'SUCCESS' || response === 'ERROR', `${response} for ${what}`);
  if (response === 'SUCCESS') return { response, code: '', description: '' };
  const error = (root['responsedata'] as Record<string, Record<string, unknown>>)['error']!;
  const code = text(error['errorcode']);
  const description = text(error['errordescription']);
  assert.ok(KNOWN_CODES.has(code) && !BAD_CODES.has(code), `errorcode ${code} (${description}) for ${what}`);
  return { response, code, description };
}

async function withFuzzServer(fn: (s: TestServer, c: RawHttpConnection) => Promise<void>): Promise<void> {
  const s = await startTestServer({ config: CONFIG, actions: [probe, keep] });
  const c = new RawHttpConnection(s.server.port);
  try {
    await s.client.call('QueueInfo', { QueueName: 'Keep', QueueAction: 'Pause' });
    await fn(s, c);
    // Nothing the fuzzer sent made the server log a failure of its own, and it still answers.
    const failures = s.log.lines.filter((l) => /"level":"error"/.test(l));
    assert.deepEqual(failures.slice(0, 5), []);
    await s.client.call('GetVersion');
  } finally {
    c.close();
    await s.close();
  }
}

test('well-formed requests in every form reach the action with exactly the parameters sent', { timeout: TIMEOUT }, (t) =>
  withFuzzServer(async (_s, c) => {
    await fuzz(
      t,
      'ACI well-formed requests',
      fuzzRuns(1200),
      fc.asyncProperty(wellFormedRequest, multipartName, async (w0, mpName) => {
        // Multipart names are plain (see multipartName); values stay hostile.
        const w = w0.form === 'multipart' ? { ...w0, body: w0.body.map(([, v], i): Pair => [`${mpName}${i}`, v]) } : w0;
        const { bytes, expected } = build(w);
        probed = undefined;
        const answer = checkAnswer(await c.exchange(bytes), `${w.form} ${bytes.toString('latin1').slice(0, 200)}`);
        assert.equal(answer.code, 'ERRORPARAMINVALID', answer.description);
        assert.equal(answer.description, 'probed');
        assert.deepEqual(probed, expected);
      }),
    );
  }));

/** Pieces of a hostile request target: escapes good, bad and cut, non-UTF-8, bytes HTTP forbids. */
const targetPiece = fc.oneof(
  fc.constantFrom('%', '%G1', '%FF', '%E2%82', '%C3', '%80', '%c3%a9', '%ED%A0%80', '%F4%90%80%80', '&', '=', '+', '/', '?', '#', ';'),
  fc.constantFrom('action=Probe', 'a=GetVersion', 'action=QueueInfo', 'action=EventInfo', 'action=GetStatus', 'action=Nope', 'A=', 'action=', 'a=Keep'),
  fc.constantFrom('QueueName=Keep', 'QueueName=Probe', 'QueueAction=GetStatus', 'QueueAction=Stop', 'Token=', 'Token=%00', 'State=x', 'ResponseFormat=json', 'ResponseFormat=simplejson', 'ResponseFormat=x', 'MaxResults=-1', 'Sort-By=priority'),
  fc.string({ unit: 'binary-ascii', maxLength: 6 }).map((s) => s.replace(/[\r\n]/g, '')),
  fc.integer({ min: 0x80, max: 0xff }).map((b) => String.fromCharCode(b)),
  fc.constantFrom('\u0000', '\u0001', '\u007f', ' ', '\t'),
);

const hostileTarget = fc.array(targetPiece, { maxLength: 16 }).map((pieces) => Buffer.from(`/${pieces.join('')}`, 'latin1'));

const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=latin1',
  'multipart/form-data; boundary=B0undary',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'text/plain',
  'application/json',
  '',
  ';;;',
  'multipart/form-data; boundary="B0undary"; charset=utf-16',
);

/** A multipart body for boundary B0undary, then cut, doubled or sprinkled with random bytes. */
const multipartish = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom('action', 'a', 'Text', '', 'x"y', 'ñ'), fc.constantFrom(...HOSTILE_PIECES, 'Probe', 'GetVersion')), { maxLength: 4 }),
    fc.boolean(),
    fc.nat(400),
    fc.uint8Array({ maxLength: 20 }),
  )
  .map(([fields, file, cut, junk]) => {
    const parts = fields.map(([n, v]) =>
      file
        ? `--B0undary\r\nContent-Disposition: form-data; name="${n}"; filename="${v}"\r\nContent-Type: application/octet-stream\r\n\r\n${v}\r\n`
        : `--B0undary\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`,
    );
    const whole = Buffer.from(`${parts.join('')}--B0undary--\r\n`, 'utf8');
    return Buffer.concat([whole.subarray(0, Math.min(cut, whole.length) || whole.length), Buffer.from(junk)]);
  });

const hostileBody = fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), hostileTarget.map((t) => t.subarray(1)), multipartish);

const hostileRequest = fc.oneof(
  hostileTarget.map((target) => ({ kind: 'GET', bytes: rawGet(target) })),
  fc.tuple(hostileTarget, contentType, hostileBody).map(([target, type, body]) => ({ kind: `POST ${type}`, bytes: rawPost(body, type, target.toString('latin1')) })),
);

test('hostile request bytes always get an ACI document (HTTP 200, 400 or 431) and a catalogued code, never an internal error', { timeout: TIMEOUT }, (t) =>
  withFuzzServer(async (_s, c) => {
    await fuzz(
      t,
      'ACI hostile requests',
      fuzzRuns(1200),
      fc.asyncProperty(hostileRequest, async (r) => {
        checkAnswer(await c.exchange(r.bytes), `${r.kind}: ${JSON.stringify(r.bytes.toString('latin1').slice(0, 300))}`);
      }),
    );
  }));

test('parameters stored with an action read back through GetActionParameters as sent (json exactly, xml less what XML cannot carry)', { timeout: TIMEOUT }, (t) =>
  withFuzzServer(async (s, c) => {
    await fuzz(
      t,
      'ACI stored parameters',
      fuzzRuns(150, 5000),
      fc.asyncProperty(pairs, escape, async (list, how) => {
        const submitted = checkAnswer(await c.exchange(rawPost(pairText(list, how, 'action=Keep&ResponseFormat=xml', 0, false), 'application/x-www-form-urlencoded')), 'Keep');
        assert.equal(submitted.response, 'SUCCESS', submitted.description);
        const token = /<token>([^<]+)<\/token>/.exec((await c.exchange(rawGet('/action=QueueInfo&QueueName=Keep&QueueAction=GetStatus&MaxResults=1&Sort-By=queue-time&Sort-Order=descending'))).body)?.[1];
        assert.ok(token);
        const xml = await c.exchange(rawGet(`/action=QueueInfo&QueueName=Keep&QueueAction=GetActionParameters&Token=${encodeURIComponent(token)}`));
        checkAnswer(xml, 'GetActionParameters');
        const parameters = child(child(child(child(parseStrictXml(xml.body), 'responsedata'), 'actions'), 'action'), 'parameters');
        assert.deepEqual(
          parameters.children.map((p) => [p.attrs['name'], p.text]),
          list.map(([n, v]) => [xmlCarriable(n), xmlCarriable(v)]),
        );
        const json = await s.client.call('QueueInfo', { QueueName: 'Keep', QueueAction: 'GetActionParameters', Token: token, ResponseFormat: 'json' });
        const raw = JSON.stringify(json);
        for (const [n, v] of list) assert.ok(raw.includes(JSON.stringify(n).slice(1, -1)) && raw.includes(JSON.stringify(v).slice(1, -1)), `json holds ${JSON.stringify([n, v])}`);
        await s.client.call('QueueInfo', { QueueName: 'Keep', QueueAction: 'Cancel', Token: token });
      }),
    );
  }));

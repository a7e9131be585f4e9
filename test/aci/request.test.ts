/**
 * parseAciRequest over real HTTP on loopback: a node:http server parses each request and echoes
 * what it understood as an ACI response, which the test reads back with fast-xml-parser.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { TocsinError } from '../../src/common/errors.js';
import { parent, repeating, type XElement } from '../../src/common/xnode.js';
import { AciParams } from '../../src/aci/params.js';
import { parseAciRequest, type AciLimits, type AciRequest } from '../../src/aci/request.js';
import { renderError, renderSuccess } from '../../src/aci/render.js';

const LIMITS: AciLimits = { maxInputString: 200, maxBodyBytes: 2000, maxFileUploadSize: 500 };

/** What the server understood: method, every pair as sent, and the files. */
function echo(r: AciRequest): XElement[] {
  return [
    { name: 'method', text: r.method },
    { name: 'sent', text: r.action },
    parent('params', r.params.entries().map(([name, value]) => repeating({ name: 'param', attrs: { name }, text: value }))),
    parent(
      'files',
      r.files.map((f) => repeating({ name: 'file', attrs: { field: f.field, filename: f.filename }, text: f.data.toString('utf8') })),
    ),
  ];
}

function startServer(): http.Server {
  return http.createServer((req, res) => {
    parseAciRequest(req, LIMITS).then(
      (r) => send(res, renderSuccess(r.action, echo(r), 'xml').body),
      (e: unknown) => {
        const error = e instanceof TocsinError ? e : new TocsinError('INTERNAL', String(e));
        send(res, renderError('', error, 'xml').body);
      },
    );
  });
}

function send(res: http.ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml; charset=UTF-8' }).end(body);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === 'param' || name === 'file',
});

interface Echo {
  action: string;
  response: string;
  responsedata: {
    method: string;
    sent: string;
    params: '' | { param: { '@name': string; '#text'?: string }[] };
    files: '' | { file: { '@field': string; '@filename': string; '#text'?: string }[] };
    error: { errorcode: string; errordescription: string };
  };
}

function parseEcho(body: string): Echo {
  return (parser.parse(body) as { autnresponse: Echo }).autnresponse;
}

const pairsOf = (e: Echo): [string, string][] =>
  e.responsedata.params === '' ? [] : e.responsedata.params.param.map((p) => [p['@name'], p['#text'] ?? '']);

let server: http.Server;
let base: string;
/** One socket only, kept alive: a request after an error must travel on the same connection. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  server = startServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  agent.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function get(path: string): Promise<Echo> {
  const res = await fetch(base + path);
  return parseEcho(await res.text());
}

/** Raw http.request on the shared keep-alive agent; reports whether the socket was reused. */
function raw(method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: string | Buffer) {
  return new Promise<{ echo: Echo; reused: boolean }>((resolve, reject) => {
    const req = http.request(base + path, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ echo: parseEcho(Buffer.concat(chunks).toString('utf8')), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertError(e: Echo, code: string, ...mentions: string[]): void {
  assert.equal(e.response, 'ERROR');
  assert.equal(e.responsedata.error.errorcode, code);
  for (const m of mentions) assert.match(e.responsedata.error.errordescription, new RegExp(m));
}

describe('GET forms', () => {
  test('path form /action=Name&P=v', async () => {
    const e = await get('/action=GetStatus&QueueName=fetch');
    assert.equal(e.action, 'GETSTATUS');
    assert.equal(e.responsedata.sent, 'GetStatus');
    assert.equal(e.responsedata.method, 'GET');
    assert.deepEqual(pairsOf(e), [['QueueName', 'fetch']]);
  });
  test('query form /?action=Name', async () => {
    const e = await get('/?action=QueueInfo&QueueAction=GetStatus');
    assert.equal(e.responsedata.sent, 'QueueInfo');
    assert.deepEqual(pairsOf(e), [['QueueAction', 'GetStatus']]);
  });
  test('a= shorthand in path and query form', async () => {
    assert.equal((await get('/a=queueInfo&queueAction=stop')).responsedata.sent, 'queueInfo');
    assert.equal((await get('/?a=getversion')).responsedata.sent, 'getversion');
  });
  test('action name matched case-insensitively and anywhere in the pairs', async () => {
    const e = await get('/?Token=abc&ACTION=QueueInfo&Foo=1');
    assert.equal(e.responsedata.sent, 'QueueInfo');
    assert.deepEqual(pairsOf(e), [['Token', 'abc'], ['Foo', '1']]);
    assert.equal((await get('/A=Fetch')).responsedata.sent, 'Fetch');
  });
  test('parameter names keep the case sent, in the order sent, repeats included', async () => {
    const e = await get('/action=X&queueName=a&QUEUENAME=b&Flag&&=skip');
    assert.deepEqual(pairsOf(e), [['queueName', 'a'], ['QUEUENAME', 'b'], ['Flag', '']]);
  });
  test('path form followed by a query string takes both', async () => {
    const e = await get('/action=X&P=1?ResponseFormat=xml');
    assert.deepEqual(pairsOf(e), [['P', '1'], ['ResponseFormat', 'xml']]);
  });
  test('+ is a space and %-escapes are decoded, UTF-8 included', async () => {
    const e = await get('/action=X&Text=hello+world%21%20%E2%82%AC&Plus=a%2Bb&Na%6De=v&Eq=a%3Db');
    assert.deepEqual(pairsOf(e), [['Text', 'hello world! €'], ['Plus', 'a+b'], ['Name', 'v'], ['Eq', 'a=b']]);
  });
});

describe('POST', () => {
  test('form-urlencoded body is merged with the query and wins', async () => {
    const res = await fetch(`${base}/?action=Fetch&P=query&Q=1`, { method: 'POST', body: new URLSearchParams({ P: 'body', R: 'a b&c' }) });
    const e = parseEcho(await res.text());
    assert.equal(e.responsedata.method, 'POST');
    assert.equal(e.responsedata.sent, 'Fetch');
    assert.deepEqual(pairsOf(e), [['P', 'query'], ['Q', '1'], ['P', 'body'], ['R', 'a b&c']]);
  });
  test('action may come in the body alone', async () => {
    const res = await fetch(`${base}/`, { method: 'POST', body: new URLSearchParams({ action: 'Sleep', Seconds: '2' }) });
    const e = parseEcho(await res.text());
    assert.equal(e.responsedata.sent, 'Sleep');
    assert.deepEqual(pairsOf(e), [['Seconds', '2']]);
  });
  test('multipart/form-data: fields become parameters, files are collected', async () => {
    const form = new FormData();
    form.append('action', 'Ingest');
    form.append('Title', 'Grüße & more');
    form.append('Data', new Blob(['file body ✓']), 'notes é.txt');
    const e = parseEcho(await (await fetch(`${base}/?Q=1`, { method: 'POST', body: form })).text());
    assert.equal(e.responsedata.sent, 'Ingest');
    assert.deepEqual(pairsOf(e), [['Q', '1'], ['Title', 'Grüße & more']]);
    assert.ok(e.responsedata.files !== '');
    const [file] = e.responsedata.files.file;
    assert.deepEqual(file, { '@field': 'Data', '@filename': 'notes é.txt', '#text': 'file body ✓' });
  });
  test('a file of exactly MaxFileUploadSize bytes is accepted', async () => {
    const form = new FormData();
    form.append('action', 'Ingest');
    form.append('Data', new Blob(['x'.repeat(LIMITS.maxFileUploadSize)]), 'f.txt');
    const e = parseEcho(await (await fetch(`${base}/`, { method: 'POST', body: form })).text());
    assert.equal(e.response, 'SUCCESS');
  });
});

describe('limits', () => {
  test('query longer than MaxInputString is refused, and the connection still serves', async () => {
    const long = await raw('GET', `/action=X&Text=${'a'.repeat(LIMITS.maxInputString)}`);
    assertError(long.echo, 'ERRORREQUESTTOOLARGE', 'MaxInputString', String(LIMITS.maxInputString));
    const next = await raw('GET', '/action=Next');
    assert.equal(next.echo.responsedata.sent, 'Next');
    assert.ok(next.reused, 'the next request used the same connection');
  });
  test('body over maxBodyBytes (declared length) is refused, and the connection still serves', async () => {
    const body = `action=X&Text=${'b'.repeat(LIMITS.maxBodyBytes)}`;
    const big = await raw('POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, body);
    assertError(big.echo, 'ERRORREQUESTTOOLARGE', String(LIMITS.maxBodyBytes));
    const next = await raw('GET', '/action=Next');
    assert.equal(next.echo.responsedata.sent, 'Next');
    assert.ok(next.reused);
  });
  test('chunked body over maxBodyBytes is refused while streaming', async () => {
    const body = `action=X&Text=${'c'.repeat(LIMITS.maxBodyBytes * 20)}`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' };
    const big = await raw('POST', '/', headers, body);
    assertError(big.echo, 'ERRORREQUESTTOOLARGE', String(LIMITS.maxBodyBytes));
    const next = await raw('GET', '/action=Next');
    assert.equal(next.echo.responsedata.sent, 'Next');
    assert.ok(next.reused);
  });
  test('file over MaxFileUploadSize is refused, and the connection still serves', async () => {
    const boundary = 'XyZzY';
    const body = [
      `--${boundary}\r\nContent-Disposition: form-data; name="action"\r\n\r\nIngest\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="Data"; filename="big.bin"\r\n\r\n`,
      `${'d'.repeat(LIMITS.maxFileUploadSize + 1)}\r\n--${boundary}--\r\n`,
    ].join('');
    const big = await raw('POST', '/', { 'content-type': `multipart/form-data; boundary=${boundary}` }, body);
    assertError(big.echo, 'ERRORREQUESTTOOLARGE', 'MaxFileUploadSize', 'big.bin', 'Data');
    const next = await raw('GET', '/action=Next');
    assert.equal(next.echo.responsedata.sent, 'Next');
    assert.ok(next.reused);
  });
  test('multipart body over maxBodyBytes is refused', async () => {
    const form = new FormData();
    form.append('action', 'Ingest');
    for (let i = 0; i < 20; i++) form.append(`F${i}`, 'v'.repeat(150));
    const e = parseEcho(await (await fetch(`${base}/`, { method: 'POST', body: form })).text());
    assertError(e, 'ERRORREQUESTTOOLARGE', String(LIMITS.maxBodyBytes));
  });
  test('multipart field longer than MaxInputString is refused, naming the field', async () => {
    const form = new FormData();
    form.append('action', 'Ingest');
    form.append('Text', 't'.repeat(LIMITS.maxInputString + 1));
    const e = parseEcho(await (await fetch(`${base}/`, { method: 'POST', body: form })).text());
    assertError(e, 'ERRORREQUESTTOOLARGE', 'Text', 'MaxInputString');
  });
});

describe('bad requests', () => {
  test('multipart parts without a name are skipped, and do not end the process (found by fuzzing)', async () => {
    const body = Buffer.from(
      '--B\r\nContent-Disposition: form-data; name="action"\r\n\r\nIngest\r\n' +
        '--B\r\nContent-Disposition: form-data\r\n\r\nno name\r\n' +
        '--B\r\nContent-Disposition: form-data; filename="f.txt"\r\n\r\nno field\r\n' +
        '--B\r\nContent-Disposition: form-data; name="Kept"\r\n\r\nyes\r\n--B--\r\n',
    );
    const answer = await raw('POST', '/', { 'content-type': 'multipart/form-data; boundary=B' }, body);
    assert.deepEqual(pairsOf(answer.echo), [['Kept', 'yes']]);
    // The same form cut inside the nameless file part: an error answer, not an uncaught stream error.
    const cut = body.subarray(0, body.indexOf('no field') + 4);
    const cutAnswer = await raw('POST', '/', { 'content-type': 'multipart/form-data; boundary=B' }, cut);
    assertError(cutAnswer.echo, 'ERRORBADREQUEST', 'Unexpected end of form');
  });
  test('malformed %-escape names the parameter', async () => {
    assertError(await get('/action=X&Text=100%zz'), 'ERRORBADREQUEST', 'Text', 'percent-escape');
    assertError(await get('/action=X&Cut=%E2%82'), 'ERRORBADREQUEST', 'Cut');
  });
  test('good escapes of bytes that are not UTF-8 are reported as not UTF-8, naming the parameter', async () => {
    for (const path of ['/action=X&Text=caf%E9', '/action=X&Cut=%E2%82', '/action=X&Bad%FFName=1']) {
      const e = await get(path);
      assertError(e, 'ERRORBADREQUEST', 'is not valid UTF-8');
      assert.doesNotMatch(e.responsedata.error.errordescription, /malformed/, path);
    }
    assertError(await get('/action=X&Text=caf%E9'), 'ERRORBADREQUEST', '^Parameter Text ');
  });
  test('raw bytes in a form body: UTF-8 is decoded, other bytes are reported as not UTF-8', async () => {
    const type = { 'content-type': 'application/x-www-form-urlencoded' };
    const good = await raw('POST', '/', type, Buffer.from('action=X&Title=Grüße+€&Q=%41', 'utf8'));
    assert.deepEqual(pairsOf(good.echo), [['Title', 'Grüße €'], ['Q', 'A']]);
    const latin1 = await raw('POST', '/', type, Buffer.from('action=X&Title=Grüße', 'latin1'));
    assertError(latin1.echo, 'ERRORBADREQUEST', '^Parameter Title is not valid UTF-8');
  });
  test('two different action names are refused, naming both and where each was sent', async () => {
    const twice = await get('/action=GetVersion&a=GetStatus');
    assertError(twice, 'ERRORMULTIPLEACTIONS', 'GetVersion \\(action= in the query\\)', 'GetStatus \\(a= in the query\\)');
    const res = await fetch(`${base}/?action=GetVersion`, { method: 'POST', body: new URLSearchParams({ ACTION: 'GetStatus', P: '1' }) });
    assertError(parseEcho(await res.text()), 'ERRORMULTIPLEACTIONS', 'GetVersion \\(action= in the query\\)', 'GetStatus \\(ACTION= in the body\\)');
    const form = new FormData();
    form.append('a', 'QueueInfo');
    const multipart = parseEcho(await (await fetch(`${base}/?a=Sleep`, { method: 'POST', body: form })).text());
    assertError(multipart, 'ERRORMULTIPLEACTIONS', 'Sleep', 'QueueInfo');
  });
  test('the same action name sent twice, in any case, is one action', async () => {
    assert.equal((await get('/action=GetVersion&A=getversion')).response, 'SUCCESS');
    const res = await fetch(`${base}/?action=Fetch`, { method: 'POST', body: new URLSearchParams({ action: 'FETCH', P: '1' }) });
    const e = parseEcho(await res.text());
    assert.equal(e.response, 'SUCCESS');
    assert.deepEqual(pairsOf(e), [['P', '1']]);
  });
  test('no action', async () => {
    assertError(await get('/'), 'ERRORNOACTION', 'action=');
    assertError(await get('/?QueueName=fetch'), 'ERRORNOACTION');
    assertError(await get('/action=&P=1'), 'ERRORNOACTION');
  });
  test('unsupported content type, and the connection still serves', async () => {
    const bad = await raw('POST', '/?action=X', { 'content-type': 'application/json' }, '{"a":1}');
    assertError(bad.echo, 'ERRORBADREQUEST', 'application/json');
    const next = await raw('GET', '/action=Next');
    assert.equal(next.echo.responsedata.sent, 'Next');
  });
  test('multipart without a boundary', async () => {
    const bad = await raw('POST', '/?action=X', { 'content-type': 'multipart/form-data' }, 'x');
    assertError(bad.echo, 'ERRORBADREQUEST', 'multipart');
  });
  test('methods other than GET and POST', async () => {
    assertError((await raw('PUT', '/action=X')).echo, 'ERRORBADREQUEST', 'PUT');
  });
});

describe('AciParams', () => {
  const p = new AciParams([
    ['QueueName', 'a'],
    ['Token', 't'],
    ['QUEUENAME', 'b'],
  ]);
  test('get and has ignore case; the last value wins', () => {
    assert.equal(p.get('queuename'), 'b');
    assert.equal(p.has('TOKEN'), true);
    assert.equal(p.has('Missing'), false);
    assert.equal(p.get('Missing'), undefined);
    assert.equal(p.size, 2);
    assert.deepEqual(p.getAll('queueName'), ['a', 'b']);
  });
  test('entries keep every pair as sent', () => {
    assert.deepEqual(p.entries(), [['QueueName', 'a'], ['Token', 't'], ['QUEUENAME', 'b']]);
  });
  test('toRecord has one key per parameter, spelled as the winning pair', () => {
    assert.deepEqual(p.toRecord(), { QUEUENAME: 'b', Token: 't' });
  });
  test('a parameter called __proto__ is an ordinary key', () => {
    const r = new AciParams([['__proto__', 'x']]).toRecord();
    assert.equal(Object.getPrototypeOf(r), Object.prototype);
    assert.deepEqual(Object.entries(r), [['__proto__', 'x']]);
  });
});

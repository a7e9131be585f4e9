import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readConfigDocument } from '../../src/config/parse.js';
import { createProblemSink, formatProblem } from '../../src/config/problems.js';
import { createSectionReader } from '../../src/config/section-reader.js';
import { nearestName } from '../../src/config/suggest.js';
import type { ProblemSink } from '../../src/config/types.js';

/** Writes `files` (the first is the main file) into a temp folder and opens one section of it. */
function open(t: TestContext, files: Record<string, string>, section: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-reader-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const sink = createProblemSink();
  const main = join(dir, Object.keys(files)[0] ?? 'main.cfg');
  const doc = readConfigDocument(main, sink);
  return { dir, main, sink, reader: createSectionReader(doc, section, sink) };
}

function only(sink: ProblemSink) {
  assert.equal(sink.problems.length, 1, sink.problems.map(formatProblem).join('\n'));
  const p = sink.problems[0];
  assert.ok(p);
  return p;
}

test('typed getters read values, matching key names without regard to case', (t) => {
  const { reader, sink } = open(t, {
    'main.cfg': [
      '[Actions]', 'MAXIMUMTHREADS=4', 'Ratio=0.7', 'Enabled=on', 'Retention=7d', 'Limit=64MB',
      'Handlers=a, "b,c"', 'Method=tlsv1.3', 'Name=x', 'Password=p;w',
    ].join('\n'),
  }, 'actions');
  assert.equal(reader.exists, true);
  assert.equal(reader.name, 'Actions');
  assert.equal(reader.int('MaximumThreads'), 4);
  assert.equal(reader.float('ratio'), 0.7);
  assert.equal(reader.bool('Enabled'), true);
  assert.equal(reader.duration('Retention', { bareUnit: 's' }), 604_800_000);
  assert.equal(reader.bytes('Limit'), 64 * 1024 * 1024);
  assert.deepEqual(reader.list('Handlers'), ['a', 'b,c']);
  assert.equal(reader.oneOf('Method', ['Negotiate', 'TLSV1.2', 'TLSV1.3'] as const), 'TLSV1.3');
  assert.equal(reader.string('Name'), 'x');
  assert.equal(reader.secret('Password'), 'p;w');
  reader.finish();
  assert.deepEqual(sink.problems, []);
});

test('an absent or empty key gives the default without a problem', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '[A]\nEmpty=\n' }, 'A');
  assert.equal(reader.int('Empty', { default: 3 }), 3);
  assert.equal(reader.has('Empty'), false);
  assert.equal(reader.int('Absent'), undefined);
  assert.equal(reader.bool('Absent', { default: true }), true);
  assert.deepEqual(reader.list('Absent'), []);
  assert.deepEqual(reader.list('Absent', { default: ['x'] }), ['x']);
  reader.finish();
  assert.deepEqual(sink.problems, []);
});

test('a required absent key is CONFIG_MISSING at the section heading', (t) => {
  const { reader, sink, main } = open(t, { 'main.cfg': '// c\n[Handler]\nURL=\n' }, 'Handler');
  assert.equal(reader.string('URL', { required: true }), undefined);
  const p = only(sink);
  assert.deepEqual([p.severity, p.code, p.file, p.line, p.section, p.key], ['error', 'CONFIG_MISSING', main, 2, 'Handler', 'URL']);
});

test('a required key of a missing section is reported at the main file, line 0, saying the section is missing', (t) => {
  const { reader, sink, main } = open(t, { 'main.cfg': '[Other]\n' }, 'AppSSL');
  assert.equal(reader.exists, false);
  assert.deepEqual(reader.location, { file: main, line: 0 });
  assert.equal(reader.path('SSLCertificate', { required: true }), undefined);
  const p = only(sink);
  assert.deepEqual([p.code, p.file, p.line], ['CONFIG_MISSING', main, 0]);
  assert.match(p.message, /section \[AppSSL\] is missing/);
});

test('a bad value is CONFIG_VALUE at the key file:line, quoting the value, and the default is returned', (t) => {
  const { reader, sink, main } = open(t, { 'main.cfg': '[Actions]\n\nMaximumThreads=abc\n' }, 'Actions');
  assert.equal(reader.int('MaximumThreads', { default: 1 }), 1);
  const p = only(sink);
  assert.equal(p.line, 3);
  assert.equal(p.file, main);
  assert.equal(p.code, 'CONFIG_VALUE');
  assert.equal(p.message, '"abc" is not an integer');
  assert.match(formatProblem(p), /:3: error: \[Actions\] MaximumThreads: "abc" is not an integer \(CONFIG_VALUE\)$/);
});

test('min and max are checked for numbers and byte sizes', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '[A]\nPort=70000\nThreads=0\nRatio=1.5\nMem=2GB\n' }, 'A');
  assert.equal(reader.int('Port', { min: 1, max: 65535 }), undefined);
  assert.equal(reader.int('Threads', { min: 1, default: 1 }), 1);
  assert.equal(reader.float('Ratio', { max: 1 }), undefined);
  assert.equal(reader.bytes('Mem', { max: 1024 ** 3 }), undefined);
  assert.deepEqual(sink.problems.map((p) => [p.key, p.line, p.message]), [
    ['Port', 2, '"70000" is more than the maximum 65535'],
    ['Threads', 3, '"0" is less than the minimum 1'],
    ['Ratio', 4, '"1.5" is more than the maximum 1'],
    ['Mem', 5, '"2GB" is more than the maximum 1073741824'],
  ]);
});

test('oneOf names the allowed values when the value is not one of them', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '[SSL]\nSSLMethod=SSLv3\n' }, 'SSL');
  assert.equal(reader.oneOf('SSLMethod', ['Negotiate', 'TLSV1.2', 'TLSV1.3'], { default: 'Negotiate' }), 'Negotiate');
  assert.equal(only(sink).message, '"SSLv3" is not one of Negotiate, TLSV1.2, TLSV1.3');
});

test('bad booleans, durations and lists are reported with their reasons', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '[A]\nFlag=maybe\nWait=soon\nItems=a,"b\n' }, 'A');
  assert.equal(reader.bool('Flag'), undefined);
  assert.equal(reader.duration('Wait', { bareUnit: 'ms', default: 5 }), 5);
  assert.deepEqual(reader.list('Items'), []);
  assert.deepEqual(sink.problems.map((p) => p.line), [2, 3, 4]);
  assert.match(sink.problems[2]?.message ?? '', /unterminated quote/);
});

test('a secret value never appears in any problem', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '[H]\nSigningSecret=s3cr3t-value\nPasswrd=hunter2\n' }, 'H');
  assert.equal(reader.secret('SigningSecret'), 's3cr3t-value');
  assert.equal(reader.secret('Password', { required: true }), undefined);
  // A later typed read of a secret key still must not quote it.
  assert.equal(reader.int('SigningSecret'), undefined);
  reader.error('SigningSecret', 'is too short');
  reader.finish();
  const text = sink.problems.map(formatProblem).join('\n');
  assert.doesNotMatch(text, /s3cr3t|hunter2/);
  assert.match(text, /SigningSecret: the value is not an integer/);
  assert.match(text, /Passwrd: unknown key; did you mean Password\?/);
});

test('finish() warns about every unread key, suggesting the nearest known key', (t) => {
  const { reader, sink, main } = open(t, { 'main.cfg': '[Actions]\nMaximumThread=4\nColour=red\nOnStart=x\n' }, 'Actions');
  reader.int('MaximumThreads');
  reader.string('OnStart');
  reader.finish();
  reader.finish(); // a second call adds nothing
  assert.deepEqual(sink.problems.map((p) => [p.severity, p.code, p.file, p.line, p.key, p.message]), [
    ['warning', 'CONFIG_UNKNOWN_KEY', main, 2, 'MaximumThread', 'unknown key; did you mean MaximumThreads?'],
    ['warning', 'CONFIG_UNKNOWN_KEY', main, 3, 'Colour', 'unknown key'],
  ]);
  assert.equal(sink.hasErrors, false);
});

test('markKnown and has() count as reading a key, so finish() stays quiet about it', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '[Roles]\n0=AdminRole\n1=QueryRole\nLegacy=1\n' }, 'Roles');
  reader.markKnown('0', '1');
  assert.equal(reader.has('legacy'), true);
  reader.finish();
  assert.deepEqual(sink.problems, []);
});

test('path() resolves against the folder of the file where the key was written', (t) => {
  const { reader, dir } = open(t, {
    'main.cfg': '[Lua] < "handlers/shared.cfg" [Lua]\nLogFile=logs/lua.log\n',
    'handlers/shared.cfg': '[Lua]\nLuaScript=./scripts/h.lua\nAbsolute=/opt/x.lua\n',
  }, 'Lua');
  assert.equal(reader.path('LuaScript'), join(dir, 'handlers', 'scripts', 'h.lua'));
  assert.equal(reader.path('LogFile'), join(dir, 'logs', 'lua.log'));
  assert.equal(reader.path('Absolute'), '/opt/x.lua');
  assert.equal(reader.path('Missing', { default: 'data' }), join(dir, 'data'));
  assert.equal(reader.baseDir, dir);
});

test('error() and warning() point at the key, or at the section when the key is absent', (t) => {
  const { reader, sink } = open(t, { 'main.cfg': '\n[Proxy]\nProxyPort=8080\n' }, 'proxy');
  reader.error('ProxyPort', 'ProxyPort is set without ProxyHost', 'CONFIG_MISSING');
  reader.warning('ProxyHost', 'not used');
  assert.deepEqual(sink.problems.map((p) => [p.severity, p.code, p.line, p.section, p.key]), [
    ['error', 'CONFIG_MISSING', 3, 'Proxy', 'ProxyPort'],
    ['warning', 'CONFIG_VALUE', 2, 'Proxy', 'ProxyHost'],
  ]);
  assert.deepEqual(reader.locate('proxyport').line, 3);
});

test('a value error from an included file points at the included file', (t) => {
  const { reader, sink, dir } = open(t, {
    'main.cfg': '[Mine]\n< "shared.cfg" [Shared] Retries\n',
    'shared.cfg': '[Shared]\n\nRetries=lots\n',
  }, 'Mine');
  assert.equal(reader.int('Retries', { default: 3 }), 3);
  const p = only(sink);
  assert.deepEqual([p.file, p.line], [join(dir, 'shared.cfg'), 3]);
});

test('nearestName ignores case, counts a swap as one edit and refuses distant names', () => {
  const keys = ['MaximumThreads', 'MaximumQueueSize', 'OnStart'];
  assert.equal(nearestName('maximumthread', keys), 'MaximumThreads');
  assert.equal(nearestName('MaixmumThreads', keys), 'MaximumThreads');
  assert.equal(nearestName('OnStrat', keys), 'OnStart');
  assert.equal(nearestName('Colour', keys), undefined);
  assert.equal(nearestName('x', []), undefined);
});

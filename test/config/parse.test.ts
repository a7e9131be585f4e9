import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readConfigDocument } from '../../src/config/parse.js';
import { createProblemSink, formatProblem } from '../../src/config/problems.js';
import type { ConfigDocument, ConfigProblem } from '../../src/config/types.js';

/** A temp folder, removed after the test, with a helper writing files (folders created as needed). */
function workspace(t: TestContext): { dir: string; write: (name: string, text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
  };
}

function load(file: string): { doc: ConfigDocument; problems: readonly ConfigProblem[] } {
  const sink = createProblemSink();
  const doc = readConfigDocument(file, sink);
  return { doc, problems: sink.problems };
}

function entry(doc: ConfigDocument, section: string, key: string) {
  return doc.sections.get(section.toLowerCase())?.entries.get(key.toLowerCase());
}

test('sections and Key=Value entries are read with the file and line they were written on', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[Server]\nPort = 9000 \n\n[Actions]\nMaximumThreads=4\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.equal(doc.mainFile, main);
  assert.deepEqual(entry(doc, 'Server', 'Port'), { key: 'Port', value: '9000', file: main, line: 2 });
  assert.deepEqual(entry(doc, 'actions', 'maximumthreads'), { key: 'MaximumThreads', value: '4', file: main, line: 5 });
  assert.equal(doc.sections.get('actions')?.line, 4);
});

test('values keep ;, // and # and any further = signs', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[A]\nURL=http://x.example/a;b#c\nCiphers=HIGH:!aNULL;//x\nExpr=a=b\n');
  const { doc } = load(main);
  assert.equal(entry(doc, 'A', 'URL')?.value, 'http://x.example/a;b#c');
  assert.equal(entry(doc, 'A', 'Ciphers')?.value, 'HIGH:!aNULL;//x');
  assert.equal(entry(doc, 'A', 'Expr')?.value, 'a=b');
});

test('comment lines starting with // or ; (after whitespace) and blank lines are ignored', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '// top\n[A]\n  //SSLIdentities=\n ; Port=1\n\n\t\nKey=v\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.deepEqual([...(doc.sections.get('a')?.entries.keys() ?? [])], ['key']);
});

test('CRLF line endings and a UTF-8 BOM are accepted, keeping line numbers', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '\uFEFF[Server]\r\nPort=7000\r\n\r\nHost=héllo\r\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.equal(doc.sections.get('server')?.name, 'Server');
  assert.equal(entry(doc, 'Server', 'Port')?.value, '7000');
  assert.equal(entry(doc, 'Server', 'Host')?.line, 4);
  assert.equal(entry(doc, 'Server', 'Host')?.value, 'héllo');
});

test('a section written twice is merged: first spelling and place kept, later keys win', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[Actions]\nA=1\nB=1\n[Other]\n[ACTIONS]\nb=2\nC=3\n');
  const { doc } = load(main);
  const actions = doc.sections.get('actions');
  assert.equal(actions?.name, 'Actions');
  assert.equal(actions?.line, 1);
  assert.equal(entry(doc, 'actions', 'A')?.value, '1');
  assert.deepEqual(entry(doc, 'actions', 'B'), { key: 'b', value: '2', file: main, line: 6 });
  assert.equal(entry(doc, 'actions', 'C')?.value, '3');
  assert.deepEqual([...doc.sections.keys()], ['actions', 'other']);
});

test('a line without = is a CONFIG_SYNTAX error at its file:line that does not quote the line', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[A]\nGood=1\nPassword: hunter2\nAlso=2\n');
  const { doc, problems } = load(main);
  assert.equal(problems.length, 1);
  assert.deepEqual({ ...problems[0], message: undefined }, {
    severity: 'error',
    code: 'CONFIG_SYNTAX',
    file: main,
    line: 3,
    message: undefined,
  });
  assert.doesNotMatch(problems[0]?.message ?? '', /hunter2/);
  assert.equal(entry(doc, 'A', 'Also')?.value, '2');
});

test('a Key=Value before any section is an error; so are bad headings', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', 'Port=1\n[Open\n[]\n[A] junk\n=x\n[B]\n');
  const { problems } = load(main);
  assert.deepEqual(problems.map((p) => [p.code, p.line]), [
    ['CONFIG_SYNTAX', 1],
    ['CONFIG_SYNTAX', 2],
    ['CONFIG_SYNTAX', 3],
    ['CONFIG_SYNTAX', 4],
    ['CONFIG_SYNTAX', 5],
  ]);
  assert.match(problems[0]?.message ?? '', /before any \[Section\]/);
});

test('a whole-file include brings every section, and nested includes resolve against their own file', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[Server]\nPort=1\n< "conf/handlers.cfg"\n');
  const handlers = ws.write('conf/handlers.cfg', '[Events]\nLibraryName=TextFileHandler\n< sub/more.cfg\n');
  const more = ws.write('conf/sub/more.cfg', '[More]\nX=1\n[Server]\nHost=h\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.deepEqual(entry(doc, 'Events', 'LibraryName'), { key: 'LibraryName', value: 'TextFileHandler', file: handlers, line: 2 });
  assert.deepEqual(entry(doc, 'More', 'X'), { key: 'X', value: '1', file: more, line: 2 });
  assert.equal(entry(doc, 'Server', 'Port')?.file, main);
  assert.equal(entry(doc, 'Server', 'Host')?.file, more);
  assert.equal(doc.sections.get('events')?.file, handlers);
});

test('a one-section include pastes that section with its heading, and later keys go into it', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[Server]\nPort=1\n< "shared.cfg" [SSL]\nExtra=2\n');
  const shared = ws.write('shared.cfg', '[Other]\nY=1\n[SSL]\nSSLMethod=TLSV1.3\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.deepEqual([...doc.sections.keys()], ['server', 'ssl']);
  assert.deepEqual(entry(doc, 'SSL', 'SSLMethod'), { key: 'SSLMethod', value: 'TLSV1.3', file: shared, line: 4 });
  assert.equal(entry(doc, 'SSL', 'Extra')?.line, 4);
  assert.equal(entry(doc, 'Server', 'Extra'), undefined);
});

test('[Mine] < "file" [Shared] merges that section under my name; my later keys override', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[AppSSL] < "lib/shared.cfg" [Shared]\nSSLCheckCommonName=false\n');
  const shared = ws.write('lib/shared.cfg', '[Shared]\nSSLMethod=TLSV1.2\nSSLCheckCommonName=true\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.deepEqual([...doc.sections.keys()], ['appssl']);
  assert.equal(doc.sections.get('appssl')?.file, main);
  assert.deepEqual(entry(doc, 'AppSSL', 'SSLMethod'), { key: 'SSLMethod', value: 'TLSV1.2', file: shared, line: 2 });
  assert.deepEqual(entry(doc, 'AppSSL', 'SSLCheckCommonName'), { key: 'SSLCheckCommonName', value: 'false', file: main, line: 2 });
});

test('a parameter include copies one key, and its default applies only when the key is absent', (t) => {
  const ws = workspace(t);
  const main = ws.write(
    'main.cfg',
    '[Mine]\n< "shared.cfg" [Shared] Port\n< "shared.cfg" [Shared] Host=fallback\n< shared.cfg [Shared] Retries=9\n',
  );
  const shared = ws.write('shared.cfg', '[Shared]\nPort=8080\nRetries=3\nOther=x\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.deepEqual(entry(doc, 'Mine', 'Port'), { key: 'Port', value: '8080', file: shared, line: 2 });
  assert.deepEqual(entry(doc, 'Mine', 'Host'), { key: 'Host', value: 'fallback', file: main, line: 3 });
  assert.equal(entry(doc, 'Mine', 'Retries')?.value, '3');
  assert.equal(entry(doc, 'Mine', 'Other'), undefined);
});

test('a wildcard parameter include copies every matching key, ignoring case', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[Mine]\n< "ssl.cfg" [Base] ssl*\n');
  ws.write('ssl.cfg', '[Base]\nSSLMethod=Negotiate\nSSLCertificate=c.pem\nURL=x\n');
  const { doc } = load(main);
  assert.deepEqual([...(doc.sections.get('mine')?.entries.keys() ?? [])].sort(), ['sslcertificate', 'sslmethod']);
});

test('a parameter include outside any section is a syntax error', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '< "shared.cfg" [Shared] Port\n');
  ws.write('shared.cfg', '[Shared]\nPort=1\n');
  const { problems } = load(main);
  assert.deepEqual(problems.map((p) => [p.code, p.line]), [['CONFIG_SYNTAX', 1]]);
});

test('an include cycle is a CONFIG_INCLUDE error naming the chain at the closing include line', (t) => {
  const ws = workspace(t);
  const a = ws.write('a.cfg', '[A]\nX=1\n< "b.cfg"\n');
  const b = ws.write('b.cfg', '// b\n[B]\nY=1\n< a.cfg\n');
  const { doc, problems } = load(a);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.code, 'CONFIG_INCLUDE');
  assert.equal(problems[0]?.file, b);
  assert.equal(problems[0]?.line, 4);
  assert.match(problems[0]?.message ?? '', /a\.cfg -> b\.cfg -> a\.cfg/);
  assert.equal(entry(doc, 'B', 'Y')?.value, '1');
});

test('a section include of the file itself is a cycle too', (t) => {
  const ws = workspace(t);
  const a = ws.write('a.cfg', '[A]\nX=1\n[B] < "a.cfg" [A]\n');
  const { problems } = load(a);
  assert.deepEqual(problems.map((p) => [p.code, p.line, p.message]), [['CONFIG_INCLUDE', 3, 'include cycle: a.cfg -> a.cfg']]);
});

test('the same file included twice without a cycle is fine and read once', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[A] < "c.cfg" [C]\n[B] < "c.cfg" [C]\n< "broken.cfg" [D]\n< "broken.cfg" [D]\n');
  ws.write('c.cfg', '[C]\nX=1\n');
  ws.write('broken.cfg', 'oops\n[D]\n');
  const { doc, problems } = load(main);
  assert.equal(entry(doc, 'A', 'X')?.value, '1');
  assert.equal(entry(doc, 'B', 'X')?.value, '1');
  assert.equal(problems.length, 1, 'the syntax error in broken.cfg is reported once');
});

test('a missing include file or section is a CONFIG_INCLUDE error at the include line', (t) => {
  const ws = workspace(t);
  const main = ws.write('main.cfg', '[A]\n< "nowhere.cfg"\n< "shared.cfg" [Nope]\n[B] < shared.cfg [Missing]\n');
  ws.write('shared.cfg', '[Shared]\n');
  const { doc, problems } = load(main);
  assert.deepEqual(problems.map((p) => [p.code, p.file, p.line]), [
    ['CONFIG_INCLUDE', main, 2],
    ['CONFIG_INCLUDE', main, 3],
    ['CONFIG_INCLUDE', main, 4],
  ]);
  assert.match(problems[0]?.message ?? '', /nowhere\.cfg: file not found/);
  assert.match(problems[1]?.message ?? '', /shared\.cfg has no section \[Nope\]/);
  assert.ok(doc.sections.has('b'));
});

test('include paths may be absolute or file:// URLs, quoted when they contain spaces', (t) => {
  const ws = workspace(t);
  const spaced = ws.write('with space/x.cfg', '[X]\nK=1\n');
  const other = ws.write('y.cfg', '[Y]\nK=2\n');
  const main = ws.write('dir/main.cfg', `< "${spaced}"\n< ${pathToFileURL(other).href}\n`);
  const { doc, problems } = load(main);
  assert.deepEqual(problems, []);
  assert.equal(entry(doc, 'X', 'K')?.value, '1');
  assert.equal(entry(doc, 'Y', 'K')?.value, '2');
});

test('a missing main file is one CONFIG_INCLUDE error at line 0 and an empty document', (t) => {
  const ws = workspace(t);
  const missing = join(ws.dir, 'absent.cfg');
  const { doc, problems } = load(missing);
  assert.equal(doc.sections.size, 0);
  assert.deepEqual(problems.map((p) => [p.code, p.file, p.line]), [['CONFIG_INCLUDE', missing, 0]]);
});

test('formatProblem prints file:line, severity, [Section] Key and code; paths relative to cwd', () => {
  const base = { code: 'CONFIG_VALUE', section: 'Actions', key: 'MaximumThreads' } as const;
  const file = join(process.cwd(), 'config', 'tocsin.cfg');
  assert.equal(
    formatProblem({ ...base, severity: 'error', file, line: 12, message: '"abc" is not an integer' }),
    'config/tocsin.cfg:12: error: [Actions] MaximumThreads: "abc" is not an integer (CONFIG_VALUE)',
  );
  assert.equal(
    formatProblem({ severity: 'warning', code: 'CONFIG_INCLUDE', file: '/elsewhere/x.cfg', line: 0, message: 'm' }),
    '/elsewhere/x.cfg: warning: m (CONFIG_INCLUDE)',
  );
});

test('the problem sink has errors only once an error (not a warning) is added', () => {
  const sink = createProblemSink();
  sink.add({ severity: 'warning', code: 'CONFIG_UNKNOWN_KEY', file: 'f', line: 1, message: 'w' });
  assert.equal(sink.hasErrors, false);
  sink.add({ severity: 'error', code: 'CONFIG_VALUE', file: 'f', line: 2, message: 'e' });
  assert.equal(sink.hasErrors, true);
  assert.equal(sink.problems.length, 2);
});

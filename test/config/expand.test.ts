import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expandReferences } from '../../src/config/expand.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { readConfigDocument } from '../../src/config/parse.js';
import { createProblemSink, formatProblem } from '../../src/config/problems.js';
import { createSectionReader } from '../../src/config/section-reader.js';

/** Writes `files` into a temp folder; the first one is the main config file. */
function folder(t: TestContext, files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-expand-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return { dir, main: join(dir, Object.keys(files)[0] ?? 'main.cfg') };
}

/** Sets environment variables for one test. */
function env(t: TestContext, vars: Record<string, string>): void {
  for (const [name, value] of Object.entries(vars)) {
    process.env[name] = value;
    t.after(() => delete process.env[name]);
  }
}

const expanded = (text: string, vars: NodeJS.ProcessEnv, baseDir = '/nowhere') => {
  const result = expandReferences(text, baseDir, vars);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.value;
};

const failure = (text: string, vars: NodeJS.ProcessEnv, baseDir = '/nowhere') => {
  const result = expandReferences(text, baseDir, vars);
  assert.equal(result.ok, false, `"${text}" expanded`);
  return result.ok ? '' : result.reason;
};

test('${ENV:NAME} is replaced by the variable, anywhere in the value, any number of times', () => {
  const vars = { DB_USER: 'app', DB_PW: 'p@ss;w0rd', EMPTY: '' };
  assert.equal(expanded('postgres://${ENV:DB_USER}:${ENV:DB_PW}@db/tocsin', vars), 'postgres://app:p@ss;w0rd@db/tocsin');
  assert.equal(expanded('${ENV:DB_PW}', vars), 'p@ss;w0rd');
  assert.equal(expanded('[${ENV:EMPTY}]', vars), '[]');
  assert.equal(expanded('${env:DB_USER}', vars), 'app', 'ENV matches without regard to case, like every name in the config');
});

test('${FILE:path} is replaced by the file without one trailing newline; a relative path is from baseDir', (t) => {
  const { dir } = folder(t, { 'secrets/pw': 'hunter2\n', 'crlf': 'a\r\n', 'two': 'b\n\n', 'pem': 'line 1\nline 2\n' });
  assert.equal(expanded('${FILE:secrets/pw}', {}, dir), 'hunter2');
  assert.equal(expanded(`\${FILE:${join(dir, 'secrets/pw')}}`, {}), 'hunter2', 'absolute path');
  assert.equal(expanded('${FILE:crlf}', {}, dir), 'a');
  assert.equal(expanded('${FILE:two}', {}, dir), 'b\n', 'only one newline goes');
  assert.equal(expanded('${FILE:pem}', {}, dir), 'line 1\nline 2');
  assert.equal(expanded('x=${file:secrets/pw}!', {}, dir), 'x=hunter2!');
});

test('$${ENV:...} is the literal text; other ${...} and expanded text are left as they are', () => {
  const vars = { A: '${ENV:B}', B: 'never' };
  assert.equal(expanded('$${ENV:A} and $${FILE:/x}', vars), '${ENV:A} and ${FILE:/x}');
  assert.equal(expanded('${HOME} ${OTHER:x} $5 %Text%', vars), '${HOME} ${OTHER:x} $5 %Text%');
  assert.equal(expanded('${ENV:A}', vars), '${ENV:B}', 'expanded text is not expanded again');
});

test('an unset variable, a bad name, a missing "}", or an unreadable file fail, naming the reference', (t) => {
  const { dir } = folder(t, { 'present': 'x' });
  assert.equal(failure('a${ENV:NOPE}b', {}), '${ENV:NOPE} names an environment variable that is not set');
  assert.match(failure('${ENV:1X}', {}), /^\$\{ENV:1X\} is not an environment variable name/);
  assert.match(failure('${ENV:A B}', { 'A B': 'x' }), /is not an environment variable name/);
  assert.equal(failure('${ENV:A', { A: 'x' }), '${ENV:A has no closing "}"');
  assert.equal(failure('${FILE:absent}', {}, dir), `\${FILE:absent} cannot be read: file not found (${join(dir, 'absent')})`);
  assert.match(failure(`\${FILE:${dir}}`, {}), /cannot be read: is a directory/);
  assert.equal(failure('${FILE: }', {}, dir), '${FILE: } names no file');
  // The first failure is the one reported.
  assert.match(failure('${FILE:present}${ENV:NOPE}${FILE:absent}', {}, dir), /^\$\{ENV:NOPE\}/);
});

test('every key of every section is expanded, in included files too, with FILE relative to the file the line is in', (t) => {
  env(t, { TOCSIN_T_LIBRARY: 'TextFileHandler', TOCSIN_T_THREADS: '3' });
  const { main } = folder(t, {
    'tocsin.cfg': [
      '[Actions]', 'EnableTestActions=true', 'MaximumThreads=${ENV:TOCSIN_T_THREADS}', 'OnFinish=Log',
      '< "conf/handlers.cfg"',
      '[Sleep]', '< "conf/shared.cfg" [Shared] MaximumThreads=${ENV:TOCSIN_T_THREADS}0',
    ].join('\n'),
    'conf/handlers.cfg': '[Log]\nLibraryName=${ENV:TOCSIN_T_LIBRARY}\nFilePath=${FILE:path.txt}\n',
    'conf/path.txt': '/var/log/tocsin-events.log\n',
    'conf/shared.cfg': '[Shared]\nOther=1\n',
  });
  const { settings, sink, section } = loadSettings(main);
  assert.deepEqual(sink.problems.map(formatProblem), []);
  assert.equal(settings.actions.queues.get('sleep')?.maximumThreads, 30, 'an include default is expanded too');
  // LibraryName is read straight from the document, not through a getter.
  assert.equal(settings.handlers.get('log')?.libraryName, 'TextFileHandler');
  assert.equal(section('Log').string('FilePath'), '/var/log/tocsin-events.log');
});

test('a failed expansion is one CONFIG_EXPANSION error at file:line naming the section and key', (t) => {
  const { main } = folder(t, {
    'tocsin.cfg': '[Actions]\nDatastoreType=postgres\nConnectionString=${ENV:TOCSIN_T_UNSET}\n[Server]\nHost=${FILE:nope.txt}\n',
  });
  const { sink } = loadSettings(main);
  assert.deepEqual(sink.problems.map(formatProblem), [
    `${main}:3: error: [Actions] ConnectionString: \${ENV:TOCSIN_T_UNSET} names an environment variable that is not set (CONFIG_EXPANSION)`,
    `${main}:5: error: [Server] Host: \${FILE:nope.txt} cannot be read: file not found (${join(dirname(main), 'nope.txt')}) (CONFIG_EXPANSION)`,
  ]);
});

test('messages never show expanded text: a bad value is quoted as written, a secret not at all', (t) => {
  const { main } = folder(t, {
    'tocsin.cfg': '[Server]\nPort=${FILE:secret.txt}\n[Hook]\nURL=https://${ENV:TOCSIN_T_TOKEN} x\nPassword=${FILE:secret.txt}\nTries=${ENV:TOCSIN_T_TOKEN}\n',
    'secret.txt': 'hunter2\n',
  });
  env(t, { TOCSIN_T_TOKEN: 'tok-s3cr3t' });
  const { sink, section } = loadSettings(main);
  const hook = section('Hook');
  assert.equal(hook.secret('Password'), 'hunter2');
  hook.int('Tries');
  assert.equal(hook.quoted('URL'), '"https://${ENV:TOCSIN_T_TOKEN} x" once expanded');
  assert.equal(hook.quoted('Password'), 'the value');
  const messages = sink.problems.map(formatProblem);
  assert.equal(messages.length, 2, messages.join('\n'));
  assert.match(messages[0]!, /:2: error: \[Server\] Port: "\$\{FILE:secret\.txt\}" once expanded is not an integer \(CONFIG_VALUE\)$/);
  assert.match(messages[1]!, /:6: error: \[Hook\] Tries: "\$\{ENV:TOCSIN_T_TOKEN\}" once expanded is not an integer/);
  for (const text of [...messages, hook.quoted('URL')]) {
    assert.doesNotMatch(text, /hunter2|tok-s3cr3t/);
  }
});

test('a required key whose expansion failed is not also reported as missing', (t) => {
  const { main } = folder(t, { 'main.cfg': '[A]\nKey=${ENV:TOCSIN_T_UNSET}\n' });
  const sink = createProblemSink();
  const reader = createSectionReader(readConfigDocument(main, sink), 'A', sink);
  assert.equal(reader.secret('Key', { required: true }), undefined);
  assert.equal(reader.has('Key'), false);
  assert.deepEqual(sink.problems.map((p) => p.code), ['CONFIG_EXPANSION']);
});

test('section names that came from ${ENV:...} are not shown expanded when the section is missing (found by fuzzing)', (t) => {
  env(t, { TOCSIN_T_ROLE: 'RoleFromSecretPlace', TOCSIN_T_HANDLER: 'HandlerFromSecretPlace' });
  const { main } = folder(t, {
    'main.cfg': '[AuthorizationRoles]\n0=${ENV:TOCSIN_T_ROLE}\n[Actions]\nEnableTestActions=true\nOnFinish=${ENV:TOCSIN_T_HANDLER}\n[AdminRole]\nStandardRoles=${ENV:TOCSIN_T_ROLE}\n',
  });
  const { sink } = loadSettings(main);
  const shown = sink.problems.map(formatProblem);
  assert.deepEqual(sink.problems.filter((p) => p.code === 'CONFIG_REFERENCE').map((p) => p.line).sort(), [2, 5]);
  for (const line of shown) assert.doesNotMatch(line, /FromSecretPlace/, line);
});

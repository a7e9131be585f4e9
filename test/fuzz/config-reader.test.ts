/**
 * Fuzzing the config reader (src/config/, through prepareConfig as `tocsin check-config` runs it):
 * sets of three files that include one another (cycles, self-includes, missing files, section and
 * parameter includes), written in UTF-8 with and without a BOM, UTF-16, Latin-1 or as random
 * bytes, with LF, CRLF or lone CR line ends, long lines, duplicate keys and sections, `${ENV:}`
 * and `${FILE:}` references, and hostile text everywhere. The reader must never throw; every
 * problem must carry a catalogued code and a file:line that exists, and print as one safe line;
 * a password never shows; a config with no errors gives settings within their ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ERROR_CATALOGUE } from '../../src/common/errors.js';
import { formatProblem } from '../../src/config/problems.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { builtinHandlerRegistry } from '../../src/events/builtin-handlers.js';
import { prepareConfig } from '../../src/prepare-config.js';
import { FULL, fuzz, fuzzRuns, hostileText } from '../helpers/fuzz.js';
import { tempDir } from '../helpers/server.js';

const FILES = ['f0.cfg', 'f1.cfg', 'f2.cfg'] as const;
/** Only ever written into secret keys: it must not appear in any message. */
const SECRET = 'Zq9-secret-Vw4';

const SECTIONS = ['Server', 'Actions', 'Sleep', 'Echo', 'EventLog', 'Hook', 'AuthorizationRoles', 'AdminRole', 'TLS', 'server', 'Nope'];
const KEYS = [
  'Port', 'Host', 'DataDirectory', 'MaxInputString', 'MaxFileUploadSize', 'MaxRequestSize', 'MaxParameters', 'MaxHeaderCount',
  'MaxConnections', 'LogLevel', 'SSLConfig', 'ShutdownGrace', 'NodeName', 'HeaderTimeout', 'RequestTimeout', 'MaximumThreads',
  'MaximumQueueSize', 'MaxStoredParametersSize', 'Durability', 'FinishedActionRetention', 'EnableTestActions', 'DatastoreType',
  'PollInterval', 'NodeLeaseTimeout', 'OnStart', 'OnFinish', 'OnError', 'OnErrorReport', 'OnQueueEvent', 'QueueFillingThreshold',
  'QueueEmptyingThreshold', 'Type', 'Command', 'Arguments', 'Timeout', 'WorkingDirectory', 'OutputTail', 'LibraryName', 'FilePath',
  'URL', 'Retries', 'RetryInterval', 'MaxConcurrentDeliveries', 'BasicUser', 'ProxyHost', 'ProxyPort', 'UseNTLMAuthentication',
  'StandardRoles', 'Clients', 'Actions', '0', '1', 'SSLMethod', 'SSLCheckCertificate', 'Nope', 'port',
];
const SECRET_KEYS = ['BasicPassword', 'ProxyPassword', 'NTLMPassword', 'SigningSecret', 'SSLPrivateKeyPassword', 'ConnectionString'];

const value = fc.oneof(
  fc.constantFrom('-1', '0', '1', '9000', '65536', '99999999999999999999', '1e3', '0x10', '1.5', 'NaN', 'Infinity', ''),
  fc.constantFrom('5s', '250ms', '7d', '-1s', '1h30m', '30d', '1y', '0ms', '10MB', '1KB', '1.5GB', '-1MB', '1 MB'),
  fc.constantFrom('true', 'off', 'Y', 'maybe', 'a,b', '"a,b",c', 'a\\,b', '"unterminated', ',,,', 'EventLog,Hook', 'Hook,Nope'),
  fc.constantFrom('TextFileHandler', 'HttpHandler', 'NoSuchHandler', 'Command', 'sqlite', 'postgres', 'power', 'debug', 'Admin,*'),
  fc.constantFrom('http://127.0.0.1:1/x', 'ftp://x', 'http://[::1', '/bin/echo', '%Text%', '../../../../etc/passwd', 'f1.cfg'),
  fc.constantFrom('${ENV:TOCSIN_FUZZ_VAR}', '${ENV:TOCSIN_FUZZ_UNSET_VAR}', '${FILE:f1.cfg}', '${FILE:missing.txt}', '$${ENV:X}', '${ENV:', '${NOPE:x}', '${FILE:}'),
  fc.nat(20_000).map((n) => 'x'.repeat(n)),
  hostileText(),
);

const includeLine = fc
  .tuple(fc.constantFrom(...FILES, 'missing.cfg', '/', '', 'f0.cfg"'), fc.constantFrom(...SECTIONS, ''), fc.constantFrom('', 'Port', 'Max*', 'On?tart', 'Port=1', 'a b'), fc.boolean())
  .map(([file, section, param, quoted]) => `< ${quoted ? `"${file}"` : file}${section ? ` [${section}]` : ''}${section && param ? ` ${param}` : ''}`);

const line = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SECTIONS).map((s) => `[${s}]`) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...KEYS), value).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom(...SECRET_KEYS).map((k) => `${k}=${SECRET}`) },
  { weight: 2, arbitrary: includeLine },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SECTIONS), includeLine).map(([s, inc]) => `[${s}] ${inc}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '// comment', '; comment', '   ', '[unterminated', '[]', '=value', 'NoEquals', '[Server] trailing') },
  { weight: 1, arbitrary: fc.tuple(hostileText(4), value).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: hostileText() },
);

type Encoding = 'utf8' | 'bom' | 'utf16le' | 'latin1' | 'bytes';

const file = fc.record({
  lines: fc.array(line, { maxLength: 25 }),
  eol: fc.constantFrom('\n', '\r\n', '\r'),
  encoding: fc.constantFrom<Encoding>('utf8', 'utf8', 'utf8', 'bom', 'utf16le', 'latin1', 'bytes'),
  bytes: fc.uint8Array({ maxLength: 600 }),
});

function encodeFile(f: { lines: string[]; eol: string; encoding: Encoding; bytes: Uint8Array }): Buffer {
  const text = f.lines.join(f.eol);
  switch (f.encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'bom':
      return Buffer.from(`\uFEFF${text}`, 'utf8');
    case 'utf16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'latin1':
      return Buffer.from(text, 'latin1');
    case 'bytes':
      return Buffer.from(f.bytes);
  }
}

/** Lines the reader can see in a file: it splits on LF, CRLF and lone CR. */
const lineCount = (data: Buffer) => data.toString('utf8').split(/\r\n|\n|\r/).length;

const CODES = new Set(Object.keys(ERROR_CATALOGUE));
// Controls a terminal acts on; formatProblem must have escaped them.
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;

test('the config reader never throws on fuzzed files; every problem has a code, a real file:line and prints as one safe line', { timeout: FULL ? 3_600_000 : 180_000 }, async (t) => {
  process.env['TOCSIN_FUZZ_VAR'] = `from-env ${SECRET}`;
  const root = tempDir('tocsin-config-fuzz-');
  let n = 0;
  await fuzz(
    t,
    'config reader',
    fuzzRuns(800),
    fc.property(fc.tuple(file, file, file), (files) => {
      const dir = join(root, String(n++ % 64));
      mkdirSync(dir, { recursive: true });
      const written = new Map<string, Buffer>();
      files.forEach((f, i) => {
        const data = encodeFile(f);
        writeFileSync(join(dir, FILES[i]!), data);
        written.set(join(dir, FILES[i]!), data);
      });
      const { loaded } = prepareConfig(join(dir, 'f0.cfg'), { codeActions: [], registry: builtinHandlerRegistry(), start: false });
      for (const p of loaded.sink.problems) {
        assert.ok(CODES.has(p.code), p.code);
        assert.ok(p.severity === 'error' || p.severity === 'warning');
        assert.ok(Number.isInteger(p.line) && p.line >= 0, `line ${p.line}`);
        const data = written.get(p.file);
        if (data) assert.ok(p.line <= lineCount(data), `${p.file}:${p.line} is past the file's ${lineCount(data)} lines: ${p.message}`);
        const shown = formatProblem(p);
        assert.ok(!CONTROL.test(shown), `a control character in ${JSON.stringify(shown)}`);
        assert.ok(shown.length < 2000, `${shown.length} characters: ${shown.slice(0, 300)}`);
        assert.ok(!shown.includes(SECRET) && !shown.includes('from-env'), `a secret in ${shown}`);
      }
      if (!loaded.sink.hasErrors) {
        const s = loaded.settings;
        assert.ok(Number.isInteger(s.server.port) && s.server.port >= 0 && s.server.port <= 65535);
        assert.ok(s.server.maxInputString >= 1 && s.server.maxConnections >= 1 && s.server.headerTimeoutMs <= s.server.requestTimeoutMs);
        for (const q of s.actions.queues.values()) assert.ok(q.maximumThreads >= 1 && q.thresholds.emptying < q.thresholds.filling);
        assert.ok(Object.isFrozen(s) && Object.isFrozen(s.server));
      }
    }),
  );
});

test('a key written several times keeps its last value, across includes', async (t) => {
  const dir = tempDir('tocsin-config-dup-');
  await fuzz(
    t,
    'config duplicate keys',
    fuzzRuns(200, 10_000),
    fc.property(fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 6 }), fc.nat(6), (ports, split) => {
      // The first `split` values in an included file (read where the include line is), the rest after it.
      const cut = Math.min(split, ports.length);
      writeFileSync(join(dir, 'inc.cfg'), `[Server]\n${ports.slice(0, cut).map((p) => `Port=${p}`).join('\n')}\n`);
      writeFileSync(join(dir, 'main.cfg'), `< "inc.cfg"\n[Server]\n${ports.slice(cut).map((p) => `port=${p}`).join('\n')}\n`);
      const { settings, sink } = loadSettings(join(dir, 'main.cfg'));
      assert.equal(sink.hasErrors, false);
      assert.equal(settings.server.port, ports.at(-1));
    }),
  );
});

test('a chain of 5,000 nested includes and a 10 MB line give an answer, not a crash', () => {
  const dir = tempDir('tocsin-config-deep-');
  const depth = 5000;
  for (let i = 0; i < depth; i++) writeFileSync(join(dir, `c${i}.cfg`), i + 1 < depth ? `< "c${i + 1}.cfg"\n` : '[Server]\nPort=4242\n');
  const deep = prepareConfig(join(dir, 'c0.cfg'), { codeActions: [], registry: builtinHandlerRegistry(), start: false });
  const errors = deep.loaded.sink.problems.filter((p) => p.severity === 'error');
  // Either read to the end, or refused with a clear include error naming where.
  if (errors.length === 0) assert.equal(deep.loaded.settings.server.port, 4242);
  else assert.ok(errors.every((p) => p.code === 'CONFIG_INCLUDE' && p.line > 0), errors.map(formatProblem).join('\n'));
  writeFileSync(join(dir, 'long.cfg'), `[Server]\nNodeName=${'n'.repeat(10_000_000)}\nPort=${'9'.repeat(1_000_000)}\n`);
  const long = prepareConfig(join(dir, 'long.cfg'), { codeActions: [], registry: builtinHandlerRegistry(), start: false });
  const shown = long.loaded.sink.problems.map(formatProblem);
  assert.deepEqual(long.loaded.sink.problems.map((p) => p.key).sort(), ['NodeName', 'Port']);
  for (const s of shown) assert.ok(s.length < 2000, `${s.length} characters`);
});

/**
 * Logs (decisions.md "Logs"): pino JSON lines with level names; `[Logging] LogFile` and
 * `LogLevel` (over `[Server] LogLevel`, IDOL's level names too); the token or event id on every
 * line about an action or event; secrets redacted; `tocsin serve --pretty` for a terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMemoryLogger } from '../../src/common/logger.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { startServer } from '../../src/server.js';
import { AciClient } from '../../src/cli/client.js';
import { waitForStatus } from '../helpers/aci.js';
import { freePort, PROJECT_ROOT, TOCSIN_BIN, tempDir, waitFor, withServerDefaults, writeConfig } from '../helpers/server.js';
import { failTimes, recordingLibrary, startEventServer, waitNoPending } from '../helpers/events-server.js';

type Line = Record<string, unknown>;
const parse = (lines: readonly string[]): Line[] => lines.map((l) => JSON.parse(l) as Line);

test('[Logging] LogLevel wins over [Server] LogLevel and takes IDOL level names; LogFile is a path', () => {
  const dir = tempDir();
  const both = loadSettings(writeConfig(dir, '[Server]\nLogLevel=debug\n[Logging]\nLogLevel=Warning\nLogFile=logs/tocsin.log\n'));
  assert.equal(both.sink.hasErrors, false);
  assert.equal(both.settings.logging.level, 'warn');
  assert.equal(both.settings.logging.file, join(dir, 'logs', 'tocsin.log'));
  const serverOnly = loadSettings(writeConfig(dir, '[Server]\nLogLevel=error\n', 'b.cfg'));
  assert.equal(serverOnly.settings.logging.level, 'error');
  assert.equal(serverOnly.settings.logging.file, undefined);
  const bad = loadSettings(writeConfig(dir, '[Logging]\nLogLevel=loud\n', 'c.cfg'));
  assert.ok(bad.sink.problems.some((p) => p.severity === 'error' && p.section === 'Logging' && p.key === 'LogLevel'));
});

test('a server logs JSON lines to [Logging] LogFile; every line about an action carries its token', async () => {
  const dir = tempDir();
  const configFile = writeConfig(dir, withServerDefaults('[Logging]\nLogLevel=Full\nLogFile=logs/tocsin.log\n[Actions]\nEnableTestActions=true\n', dir));
  const server = await startServer({ configFile, port: 0 });
  let token: string;
  try {
    const client = new AciClient(server.url);
    token = await client.send('Sleep', { Seconds: '0' });
    await waitForStatus(client, token, 'Finished');
  } finally {
    await server.close();
  }
  const lines = parse(readFileSync(join(dir, 'logs', 'tocsin.log'), 'utf8').trimEnd().split('\n'));
  assert.ok(lines.some((l) => l['msg'] === 'Tocsin listening' && l['level'] === 'info'));
  for (const l of lines) assert.match(String(l['time']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const about = lines.filter((l) => /^action (queued|started|ended)$/.test(String(l['msg'])));
  assert.deepEqual(about.map((l) => l['msg']), ['action queued', 'action started', 'action ended']);
  for (const l of about) assert.equal(l['token'], token);
  assert.equal(about[2]!['status'], 'Finished');
});

test('delivery failures name the event id and the token; secrets in fields are redacted', async () => {
  const lib = recordingLibrary();
  const s = await startEventServer({
    config: '[Actions]\nEnableTestActions=true\nOnFinish=Hook\n[Hook]\nLibraryName=RecordingHandler\nRetries=1\nRetryInterval=10ms\n',
    handlers: [lib.factory],
  });
  try {
    lib.setBehaviour('Hook', failTimes(2));
    const token = await s.client.send('Sleep', { Seconds: '0' });
    await waitForStatus(s.client, token, 'Finished');
    await waitNoPending(s.client);
    const id = lib.seen[0]!.event.id;
    const lines = parse(s.log.lines).filter((l) => String(l['msg']).startsWith('event delivery failed'));
    assert.equal(lines.length, 2, 'one retry, then failed for good');
    for (const l of lines) {
      assert.equal(l['eventId'], id);
      assert.equal(l['token'], token);
      assert.equal(l['handler'], 'Hook');
    }
  } finally {
    await s.close();
  }

  const log = createMemoryLogger();
  log.child({ handler: 'Hook' }).info('same field again', { handler: 'Hook', token: 't1' });
  const again = log.lines.pop()!;
  assert.equal(again.match(/"handler":/g)?.length, 1, `one handler field: ${again}`);
  assert.equal((JSON.parse(again) as Line)['token'], 't1');
  log.child({ handler: 'Hook' }).warn('connecting', { url: 'http://x', BasicPassword: 'hunter2', proxy: { password: 'swordfish' }, connectionString: 'postgres://u:pw@db/x' });
  const [line] = parse(log.lines);
  assert.equal(line!['BasicPassword'], '[redacted]');
  assert.deepEqual(line!['proxy'], { password: '[redacted]' });
  assert.equal(line!['connectionString'], '[redacted]');
  assert.equal(line!['url'], 'http://x');
  assert.doesNotMatch(log.lines.join('\n'), /hunter2|swordfish|:pw@/);
});

test('tocsin serve --pretty writes human-readable lines, not JSON', async () => {
  const dir = tempDir();
  const configFile = writeConfig(dir, withServerDefaults('[Actions]\nEnableTestActions=true\n', dir));
  const port = await freePort();
  const child = spawn(process.execPath, [TOCSIN_BIN, 'serve', '--pretty', '--config', configFile, '--port', String(port)], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise((done) => child.once('exit', done));
  try {
    await waitFor(() => stderr.includes('Tocsin listening'), 15_000);
    const line = stderr.split('\n').find((l) => l.includes('Tocsin listening'))!;
    assert.match(line, /INFO/);
    assert.throws(() => JSON.parse(line), 'not a JSON line');
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

/**
 * The `tocsin` command line (decisions.md "Running it"), run as a real process: `check-config`
 * on good and bad files, and the client verbs `send`, `status` and `wait` against a real server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { decodeToken } from '../helpers/aci.js';
import { testCerts } from '../handlers/http/helpers/certs.js';
import { PROJECT_ROOT, startTestServer, tempDir, TOCSIN_BIN, withServer, writeConfig, type TestServer } from '../helpers/server.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/tocsin.js ...args` without blocking this process (the server under test lives here). */
function tocsin(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOCSIN_BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const SERVER_CONFIG = '[Actions]\nEnableTestActions=true\nPollInterval=50\n';
const run = <T>(fn: (s: TestServer) => Promise<T>) => withServer({ config: SERVER_CONFIG }, fn);

test('check-config on a good config exits 0 and reports no errors', async () => {
  const file = writeConfig(tempDir(), `[Server]\nPort=9123\n\n[Actions]\nEnableTestActions=true\nMaximumThreads=2\n`);
  const r = await tocsin(['check-config', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.trim(), `${file}: 0 errors, 0 warnings`);
});

test('check-config also takes the file as --config (or -c), the way serve does, and says what it needs without one', async () => {
  const file = writeConfig(tempDir(), `[Actions]\nOnFinish=NoSuchHandler\n`);
  for (const flag of ['--config', '-c']) {
    const r = await tocsin(['check-config', flag, file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: error: \\[Actions\\] OnFinish`));
  }
  const none = await tocsin(['check-config']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /check-config needs the config file/);
});

test('check-config checks [Server] SSLConfig as serve does: a missing section, a key the passphrase does not decrypt', async () => {
  const dir = tempDir();
  const certs = testCerts();
  const missing = writeConfig(dir, `[Server]\nSSLConfig=NoSuchSection\n`, 'missing.cfg');
  const r1 = await tocsin(['check-config', missing]);
  assert.equal(r1.code, 1, r1.stdout + r1.stderr);
  assert.match(r1.stdout, /missing\.cfg:2: error: \[Server\] SSLConfig: SSLConfig names section \[NoSuchSection\], which is not in the configuration \(CONFIG_REFERENCE\)/);
  const wrong = writeConfig(
    dir,
    `[Server]\nSSLConfig=ServerTls\n[ServerTls]\nSSLCertificate=${certs.clientCert}\nSSLPrivateKey=${certs.clientKey}\nSSLPrivateKeyPassword=not-the-passphrase\n`,
    'wrong.cfg',
  );
  const r2 = await tocsin(['check-config', wrong]);
  assert.equal(r2.code, 1, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /wrong\.cfg:6: error: \[ServerTls\] SSLPrivateKeyPassword: SSLPrivateKeyPassword does not decrypt SSLPrivateKey/);
  assert.doesNotMatch(r2.stdout, /not-the-passphrase|not used by any/);
  const good = writeConfig(dir, `[Server]\nSSLConfig=ServerTls\n[ServerTls]\nSSLCertificate=${certs.serverCert}\nSSLPrivateKey=${certs.serverKey}\n`, 'good.cfg');
  const r3 = await tocsin(['check-config', good]);
  assert.equal(r3.code, 0, r3.stdout + r3.stderr);
});

test('check-config refuses a ConnectionString that is not a postgres:// URL, without showing it', async () => {
  const file = writeConfig(tempDir(), `[Actions]\nDatastoreType=postgres\nConnectionString=postgres://u:Secret-77@[bad/x\n`);
  const r = await tocsin(['check-config', file]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /:3: error: \[Actions\] ConnectionString: must be a postgres:\/\/user:password@host:port\/database URL/);
  assert.doesNotMatch(r.stdout, /Secret-77/);
});

test('check-config accepts the example config shipped in config/tocsin.cfg', async () => {
  const r = await tocsin(['check-config', 'config/tocsin.cfg']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /config\/tocsin\.cfg: 0 errors/);
});

test('check-config on a bad config exits 1 and prints file:line for every error, and unknown keys with a suggestion', async () => {
  const file = writeConfig(
    tempDir(),
    [
      '[Server]', //                 1
      'Port=notaport', //            2
      '', //                         3
      '[Actions]', //                4
      'EnableTestActions=true', //   5
      'MaximumThreds=2', //          6
      'MaximumThreads=many', //      7
      'OnFinish=NoSuchHandler', //   8
      '', //                         9
      '[Sleep]', //                  10
      'MaximumQueueSize=-4', //      11
    ].join('\n') + '\n',
  );
  const r = await tocsin(['check-config', file]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  const at = (line: number) => lines.filter((l) => l.startsWith(`${file}:${line}: `)).join('\n');
  assert.match(at(2), /error: \[Server\] Port: "notaport" is not an integer \(CONFIG_VALUE\)/);
  assert.match(at(6), /warning: \[Actions\] MaximumThreds: unknown key; did you mean MaximumThreads\? \(CONFIG_UNKNOWN_KEY\)/);
  assert.match(at(7), /error: \[Actions\] MaximumThreads: /);
  assert.match(at(8), /error: .*OnFinish: names the handler section \[NoSuchHandler\], which does not exist \(CONFIG_REFERENCE\)/);
  assert.match(at(11), /error: \[Sleep\] MaximumQueueSize: /);
  const errors = lines.filter((l) => / error: /.test(l)).length;
  assert.ok(errors >= 4, r.stdout);
  assert.equal(lines.at(-1), `${file}: ${errors} errors, ${lines.length - 1 - errors} warning${lines.length - 1 - errors === 1 ? '' : 's'}`);
});

test('check-config on a missing file exits 1 and says so', async () => {
  const missing = join(tempDir(), 'nope.cfg');
  const r = await tocsin(['check-config', missing]);
  assert.equal(r.code, 1);
  assert.ok(r.stdout.includes(missing), r.stdout);
});

test('check-config cuts 10 MB section and key names in its messages, shows control bytes escaped, and is quick about it', async () => {
  const huge = 10_000_000;
  const file = writeConfig(
    tempDir(),
    [
      '[Server]',                        // 1
      `${'K'.repeat(huge)}=1`,           // 2  unknown key
      '\x1b[2J\x07Bell\x00=1',           // 3  unknown key with control bytes
      `[${'S'.repeat(huge)}]`,           // 4  unused section
      'A=1',                             // 5
      '[Actions]',                       // 6
      `OnFinish=${'H'.repeat(20_000)}`,  // 7  names a missing section
      '[Odd\x1b]31m] trailing',          // 8  syntax error
    ].join('\n') + '\n',
  );
  const started = performance.now();
  const r = await tocsin(['check-config', file]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  for (const line of lines) assert.ok(line.length < 1200, `a line of ${line.length} characters: ${line.slice(0, 200)}`);
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f]/, 'no raw control character reaches the terminal');
  const at = (line: number) => lines.filter((l) => l.startsWith(`${file}:${line}: `)).join('\n');
  assert.match(at(2), new RegExp(`\\[Server\\] K{80}\\.\\.\\. \\(${huge} characters\\): unknown key`));
  assert.ok(at(3).includes('[Server] \\x1B[2J\\x07Bell\\x00: unknown key'), at(3));
  assert.match(at(4), new RegExp(`\\[S{80}\\.\\.\\. \\(${huge} characters\\)\\] this section is not used`));
  assert.match(at(7), /OnFinish: names the handler section \[H{100,1000}\.\.\. \(\d+ characters\) \(CONFIG_REFERENCE\)$/);
  assert.ok(at(8).includes('[Odd\\x1B]'), at(8));
  // 7.5 s before names were cut (the "did you mean" search compared the whole 10 MB name); ~0.5 s now.
  assert.ok(seconds < 3, `check-config took ${seconds.toFixed(1)} s`);
});

test('send queues an asynchronous action and prints its token', () =>
  run(async (s) => {
    const r = await tocsin(['send', 'Sleep', 'Seconds=0.1', '--server', s.url]);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    const parts = decodeToken(token);
    assert.equal(parts.action, 'SLEEP');
    assert.equal(parts.port, s.server.port);
    assert.equal((await s.client.status(token))['token'], token);
  }));

test('send reads the server address from TOCSIN_SERVER, and reports an ACI error with exit 1', () =>
  run(async (s) => {
    const ok = await tocsin(['send', 'Sleep', 'Seconds=0'], { TOCSIN_SERVER: s.url });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(decodeToken(ok.stdout.trim()).action, 'SLEEP');
    const bad = await tocsin(['send', 'NoSuchAction', '--server', s.url]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ERRORNOTIMPLEMENTED/);
    const badPair = await tocsin(['send', 'Sleep', 'Seconds', '--server', s.url]);
    assert.equal(badPair.code, 1);
    assert.match(badPair.stderr, /not Param=Value/);
  }));

test('status prints the action record as JSON', () =>
  run(async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0' });
    const r = await tocsin(['status', token, '--server', s.url]);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(record['token'], token);
    assert.ok(['Queued', 'Processing', 'Finished'].includes(String(record['status'])));
    const unknown = Buffer.from(`127.0.0.1:${s.server.port}:SLEEP:${Date.now()}-${'0'.repeat(24)}`).toString('base64');
    const missing = await tocsin(['status', unknown, '--server', s.url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ERRORTOKENNOTFOUND/);
  }));

test('wait exits 0 once the action is Finished', () =>
  run(async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0.3' });
    const r = await tocsin(['wait', token, '--server', s.url]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').at(-1), 'Finished');
  }));

test('wait exits 1 when the action ends in Error (Fail=true), printing the error', () =>
  run(async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0.1', Fail: 'true' });
    const r = await tocsin(['wait', token, '--server', s.url]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-2), 'Error');
    assert.match(lines.at(-1)!, /^error: Sleep failed on request \(Fail=true\)/);
  }));

test('wait --timeout exits 2 while the action is still running', async () => {
  const s = await startTestServer({ config: SERVER_CONFIG });
  try {
    const token = await s.client.send('Sleep', { Seconds: '30' });
    const r = await tocsin(['wait', token, '--server', s.url, '--timeout', '0.2']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /still (Queued|Processing) after 0.2 s/);
  } finally {
    await s.close();
  }
});

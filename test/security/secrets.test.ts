/**
 * Issue 16 part 1: passwords never leave the server. The whole server runs (`tocsin serve`, a real
 * process) with a known, distinctive password in every secret key (Basic, NTLM, proxy, TLS client
 * key passphrase, signing secret, ConnectionString, the ACI port's own TLS key passphrase), some
 * written in the file, some through `${ENV:}` and `${FILE:}`, at the most verbose LogLevel. The test
 * drives every path that can log or answer: deliveries accepted and refused (bad credentials, a
 * proxy refusing them, a proxy down, an untrusted TLS server), redelivery from ACI and the console,
 * EventInfo, QueueInfo, GetStatus, ACI errors, the console's reads and live feed, /metrics,
 * check-config, a restart with pretty logs, and config errors of each kind (bad passphrase, bad
 * values, an unreachable or malformed ConnectionString). Then it looks for every secret, in several
 * encodings, in everything written: stdout, stderr, the log file, every answer body, event files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, PROJECT_ROOT, spawnServer, tempDir, TOCSIN_BIN, waitFor, writeConfig, type SpawnedServer } from '../helpers/server.js';
import { postgresSkipReason, testDatabase, type TestDatabase } from '../helpers/postgres.js';
import { testCerts } from '../handlers/http/helpers/certs.js';
import { SECRETS, SECRET_LIST, encryptedKey, startPeers, type Peers } from './secret-peers.js';
import { Transcript, findLeaks } from './secret-scan.js';
import { driveReads, driver, type Drive } from './secret-drive.js';

const ENV = {
  TOCSIN_TEST_BASIC: SECRETS.basic,
  TOCSIN_TEST_PROXY: SECRETS.proxy,
  TOCSIN_TEST_DB: SECRETS.database,
  TOCSIN_TEST_EXPANDED: SECRETS.expanded,
};

/** A PostgreSQL URL with the password in it that the server accepts, or why SQLite is used. */
async function postgresWithPassword(): Promise<{ url: string; db: TestDatabase } | string> {
  const skip = await postgresSkipReason();
  if (skip !== undefined) return skip;
  const db = await testDatabase();
  const url = new URL(db.url);
  if (url.password !== '') return (await db.drop(), 'the test PostgreSQL has a password of its own');
  url.password = '${ENV:TOCSIN_TEST_DB}';
  const withSecret = url.toString().replace(encodeURIComponent('${ENV:TOCSIN_TEST_DB}'), '${ENV:TOCSIN_TEST_DB}');
  const probe = new pg.Client({ connectionString: withSecret.replace('${ENV:TOCSIN_TEST_DB}', SECRETS.database) });
  try {
    await probe.connect();
  } catch (e) {
    await db.drop();
    return `the test PostgreSQL refuses a password it does not know (${(e as Error).message.slice(0, 80)})`;
  } finally {
    await probe.end().catch(() => undefined);
  }
  return { url: withSecret, db };
}

function mainConfig(dir: string, peers: Peers, store: string, logFile: string | undefined): string {
  const all = ['Events', ...peers.names].join(',');
  return `[Server]
DataDirectory=${join(dir, 'data')}
ShutdownGrace=1s

[Logging]
LogLevel=debug
${logFile ? `LogFile=${logFile}` : ''}

[Actions]
EnableTestActions=true
MaximumThreads=4
${store}
OnStart=Events
OnFinish=${all}
OnError=${all}
OnQueueEvent=Events

[Events]
LibraryName=TextFileHandler
FilePath=${join(dir, 'events.log')}

${peers.sections}`;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the tocsin command line to its end (at most 30 s). */
function tocsin(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOCSIN_BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

function record(transcript: Transcript, what: string, run: Run): Run {
  transcript.add(`${what} stdout`, run.stdout);
  transcript.add(`${what} stderr`, run.stderr);
  return run;
}

async function waitSettled(d: Drive, events: number): Promise<void> {
  await waitFor(async () => {
    const info = await d.json('/action=EventInfo&MaxResults=0&ResponseFormat=simplejson');
    const counts = (info['responsedata'] as Record<string, Record<string, string>>)['counts']!;
    return Number(counts['pending']) === 0 && Number(counts['delivered']) + Number(counts['failed']) >= events;
  }, 60_000, 100);
}

async function submit(d: Drive, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await d.json(`/action=Sleep&Seconds=0${i % 3 === 2 ? '&Fail=true' : ''}&ResponseFormat=simplejson`);
    tokens.push(String((answer['responsedata'] as Record<string, unknown>)['token']));
  }
  return tokens;
}

async function collect(transcript: Transcript, server: SpawnedServer, files: readonly string[]): Promise<void> {
  await server.stop();
  transcript.add('serve stdout', server.stdout());
  transcript.add('serve stderr', server.stderr());
  for (const file of files) if (existsSync(file)) transcript.add(file, readFileSync(file, 'utf8'));
}

/** Runs the main server, drives it, and stops it; then a restart with pretty logs on stdout. */
async function runServer(dir: string, peers: Peers, store: string, transcript: Transcript): Promise<void> {
  const logFile = join(dir, 'logs', 'tocsin.log');
  const configFile = writeConfig(dir, mainConfig(dir, peers, store, logFile));
  record(transcript, 'check-config', await tocsin(['check-config', configFile]));
  const port = await freePort();
  const server = await spawnServer(configFile, port, 30_000, { env: ENV });
  const d = driver(server.url, transcript);
  const tokens = await submit(d, 6);
  const perAction = peers.names.length + 1;
  await waitSettled(d, tokens.length * (perAction + 1));
  await d.get('/action=EventInfo&EventAction=Redeliver&Handler=BasicRefused');
  await d.get('/console/api/redeliver', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ handler: 'ProxyRefused' }) });
  await waitSettled(d, tokens.length * (perAction + 1));
  await driveReads(server.url, d, transcript, tokens, peers.names);
  record(transcript, 'tocsin status', await tocsin(['status', tokens[2]!, '--server', server.url]));
  await collect(transcript, server, [logFile, join(dir, 'events.log')]);

  const prettyConfig = writeConfig(dir, mainConfig(dir, peers, store, undefined), 'pretty.cfg');
  const again = await spawnServer(prettyConfig, port, 30_000, { env: ENV, args: ['--pretty'] });
  const d2 = driver(again.url, transcript);
  const more = await submit(d2, 3);
  await waitSettled(d2, (tokens.length + more.length) * (perAction + 1));
  await d2.get('/action=EventInfo&State=failed&ShowDocument=true&MaxResults=1000');
  await collect(transcript, again, []);
}

/** Config files with an error in or beside each secret: check-config and serve must both refuse them. */
async function runConfigErrors(dir: string, transcript: Transcript): Promise<void> {
  const certs = testCerts();
  const wrongPassKey = encryptedKey(dir, certs.serverKey, undefined, 'not-the-configured-pass', 'server-key.pem');
  writeFileSync(join(dir, 'basic-password.txt'), `${SECRETS.basic}\n`);
  const closed = await freePort();
  const servePort = await freePort();
  const cases: Record<string, string> = {
    values: `[Actions]
EnableTestActions=true
OnFinish=Hook,Signed,Proxied,Ntlm
[Hook]
LibraryName=HttpHandler
URL=\${ENV:TOCSIN_TEST_EXPANDED}
Retries=\${ENV:TOCSIN_TEST_EXPANDED}
BasicPasword=${SECRETS.basic}
BasicPassword=\${FILE:basic-password.txt}
[Signed]
LibraryName=HttpHandler
URL=http://127.0.0.1:${closed}/
SigningSecret=whsec_${SECRETS.signing}!!
[Proxied]
LibraryName=HttpHandler
URL=http://127.0.0.1:${closed}/
ProxyPassword=${SECRETS.proxy}
ProxyPort=\${ENV:TOCSIN_TEST_EXPANDED}
[Ntlm]
LibraryName=HttpHandler
URL=http://127.0.0.1:${closed}/
UseNTLMAuthentication=true
NTLMPassword=${SECRETS.ntlm}
`,
    clientKeyPassphrase: `[Actions]
EnableTestActions=true
OnFinish=Tls
[Tls]
LibraryName=HttpHandler
URL=https://127.0.0.1:${closed}/
SSLConfig=ClientTls
[ClientTls]
SSLCertificate=${certs.serverCert}
SSLPrivateKey=${wrongPassKey}
SSLPrivateKeyPassword=${SECRETS.tlsKey}
`,
    serverKeyPassphrase: `[Server]
SSLConfig=ServerTls
[ServerTls]
SSLCertificate=${certs.serverCert}
SSLPrivateKey=${wrongPassKey}
SSLPrivateKeyPassword=${SECRETS.serverKey}
`,
    databaseDown: `[Actions]
DatastoreType=postgres
ConnectionString=postgres://tocsin:${SECRETS.database}@127.0.0.1:${closed}/tocsin
`,
    databaseMalformed: `[Actions]
DatastoreType=postgres
ConnectionString=postgres://tocsin:\${ENV:TOCSIN_TEST_DB}@[127.0.0.1:${closed}/tocsin
`,
    databaseBadPort: `[Actions]
DatastoreType=postgres
ConnectionString=postgres://tocsin:${SECRETS.database}@127.0.0.1:99999/tocsin?sslmode=${SECRETS.database}
`,
  };
  for (const [name, text] of Object.entries(cases)) {
    const file = writeConfig(dir, `[Server]\nDataDirectory=${join(dir, `data-${name}`)}\n${text.replace(/^\[Server\]\n/, '')}`, `${name}.cfg`);
    const checked = record(transcript, `check-config ${name}`, await tocsin(['check-config', file]));
    const served = record(transcript, `serve ${name}`, await tocsin(['serve', '--config', file, '--port', String(servePort)]));
    assert.notEqual(served.code, 0, `serve refuses the ${name} config:\n${served.stderr}`);
    if (name !== 'databaseDown') assert.equal(checked.code, 1, `check-config refuses the ${name} config:\n${checked.stdout}${checked.stderr}`);
  }
}

test('no secret from any secret key appears in anything the server writes or answers', { timeout: 240_000 }, async (t) => {
  const dir = tempDir('tocsin-secrets-');
  const transcript = new Transcript();
  writeFileSync(join(dir, 'basic-password.txt'), `${SECRETS.basic}\n`);
  const peers = await startPeers(dir);
  const pgStore = await postgresWithPassword();
  try {
    const store = typeof pgStore === 'string' ? '' : `DatastoreType=postgres\nConnectionString=${pgStore.url}`;
    if (typeof pgStore === 'string') t.diagnostic(`SQLite store (${pgStore}); the ConnectionString is checked in the config-error runs only`);
    await runServer(dir, peers, store, transcript);
    const accepted = peers.accepted();
    t.diagnostic(`accepted by the good peers: ${JSON.stringify(accepted)}`);
    for (const [peer, n] of Object.entries(accepted)) assert.ok(n > 0, `the ${peer} path was used`);
    await runConfigErrors(dir, transcript);
  } finally {
    await peers.close();
    if (typeof pgStore !== 'string') await pgStore.db.drop();
  }
  if (process.env['TOCSIN_SECRETS_DUMP']) writeFileSync(process.env['TOCSIN_SECRETS_DUMP'], [...transcript.texts].map(([w, x]) => `=== ${w}\n${x}`).join('\n'));
  const leaks = findLeaks(SECRET_LIST, transcript.texts);
  t.diagnostic(`searched ${transcript.texts.size} texts, ${transcript.size} characters, for ${SECRET_LIST.length} secrets`);
  assert.deepEqual(leaks, [], 'no secret in any output');
  // The paths that could leak were taken: each failure and the debug lines are in what was searched.
  const all = [...transcript.texts.values()].join('\n');
  const paths = [/refused the NTLM credentials/, /with HTTP 407/, /refused the connection \(ECONNREFUSED\)/, /SELF_SIGNED_CERT/, /answered HTTP 401/,
    /SSLPrivateKeyPassword does not decrypt SSLPrivateKey/, /ConnectionString:? must be a postgres/, /cannot be reached/, /"level":"debug"/,
    /SigningSecret/, /ProxyPort/, /# TYPE tocsin_events gauge/, /data: \{/];
  for (const path of paths) assert.match(all, path);
  // The scan works: the secrets are in what the test itself wrote.
  assert.equal(findLeaks(SECRET_LIST, new Map([['config', readFileSync(join(dir, 'tocsin.cfg'), 'utf8')]])).length > 0, true);
});

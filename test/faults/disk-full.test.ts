/**
 * The data folder on a full disk, and on a read-only one (issue 16 part 4): a real `tocsin serve`
 * keeps its store on a small tmpfs. Filled to the last byte, submissions are refused with a clear
 * ACI error (never a dropped connection or a crash) while reads keep answering; once space is back
 * the same server takes work again, every acknowledged action ends, and the database passes
 * SQLite's integrity check. Mounted read-only (root is bound by a read-only mount, not by chmod)
 * the server refuses to start with a clear message, and starts with everything once it is writable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AciClientError, type AciClient } from '../../src/cli/client.js';
import { listStatus } from '../helpers/aci.js';
import { writeFaultServerConfig } from '../helpers/fault-config.js';
import { spawn } from 'node:child_process';
import { freePort, PROJECT_ROOT, spawnServer, tempDir, TOCSIN_BIN, waitFor, type SpawnedServer } from '../helpers/server.js';
import type { TestContext } from 'node:test';
import { mountSmallFilesystem, smallFilesystemUnavailable, type SmallFilesystem } from '../helpers/small-filesystem.js';

const MOUNT_BYTES = 16 * 1024 * 1024;
/** Submissions tried on the full disk before giving up on seeing a refusal. */
const MAX_TRIES = 3000;

const skip = smallFilesystemUnavailable(tempDir('tocsin-fs-probe-'));

interface Outcome {
  readonly acked: string[];
  readonly refusals: Map<string, number>;
  readonly sample: string;
}

/** Submits until `wanted` refusals (or MAX_TRIES); every answer is a token or an ACI error. */
async function submitUntilRefused(client: AciClient, wanted: number): Promise<Outcome> {
  const acked: string[] = [];
  const refusals = new Map<string, number>();
  let sample = '';
  let refused = 0;
  for (let i = 0; i < MAX_TRIES && refused < wanted; i++) {
    try {
      acked.push(await client.send('Sleep', { Seconds: '0', Padding: 'x'.repeat(2000) }));
    } catch (e) {
      if (!(e instanceof AciClientError)) throw e; // a dropped connection or a non-ACI answer fails the test
      refused++;
      refusals.set(e.info.errorcode, (refusals.get(e.info.errorcode) ?? 0) + 1);
      sample ||= `${e.info.errorcode}: ${e.info.errordescription}`;
    }
  }
  return { acked, refusals, sample };
}

function config(dir: string, fs: SmallFilesystem): string {
  return writeFaultServerConfig(dir, {
    dataDirectory: join(fs.path, 'data'),
    actions: { MaximumThreads: 2, PollInterval: 50, OnFinish: 'File' },
    sections: { File: { LibraryName: 'TextFileHandler', FilePath: join(dir, 'events.log') } },
  });
}

async function allEnded(server: SpawnedServer, tokens: readonly string[]): Promise<void> {
  await waitFor(async () => {
    const records = await listStatus(server.client, 'Sleep', { MaxResults: '100000' });
    const status = new Map(records.map((r) => [String(r['token']), String(r['status'])]));
    return tokens.every((t) => status.get(t) === 'Finished');
  }, 120_000, 100);
}

function integrity(fs: SmallFilesystem): string {
  const db = new Database(join(fs.path, 'data', 'tocsin.db'), { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

async function submitMany(client: AciClient, n: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push(await client.send('Sleep', { Seconds: '0' }));
  return tokens;
}

/** Runs a server on the small filesystem, breaks it with `harm`, checks refusals, then `heal`s it. */
async function outage(t: TestContext, what: string, harm: (fs: SmallFilesystem) => void, heal: (fs: SmallFilesystem) => void, says: RegExp): Promise<void> {
  const dir = tempDir('tocsin-disk-');
  const fs = mountSmallFilesystem(dir, MOUNT_BYTES);
  t.after(() => fs.unmount());
  const configFile = config(dir, fs);
  const port = await freePort();
  let server = await spawnServer(configFile, port, 60_000);
  try {
    const before = await submitMany(server.client, 5);
    harm(fs);
    const broken = await submitUntilRefused(server.client, 20);
    const line = `${what}: ${broken.acked.length} acknowledged before ${[...broken.refusals.values()].reduce((a, b) => a + b, 0)} refusals ${JSON.stringify([...broken.refusals])}; e.g. ${broken.sample}`;
    t.diagnostic(line);
    console.log(`disk-full ${line}`);
    assert.ok(broken.refusals.size > 0, `a refusal within ${MAX_TRIES} submissions`);
    assert.match(broken.sample, says, 'the error says what is wrong');
    await server.client.call('GetVersion');
    await listStatus(server.client, 'Sleep', { MaxResults: '5' });

    heal(fs);
    const fresh = await submitMany(server.client, 20);
    const all = [...before, ...broken.acked, ...fresh];
    await allEnded(server, all);
    await server.stop();
    assert.equal(integrity(fs), 'ok');
    server = await spawnServer(configFile, port, 60_000);
    await allEnded(server, all);
  } finally {
    await server.kill9();
  }
}

test('a full disk: submissions get a clear ACI error, reads still answer; with space back, full service and an intact database', { skip, timeout: 300_000 }, async (t) => {
  await outage(t, 'disk full', (fs) => fs.fill(), (fs) => fs.free(), /full|space|ENOSPC/i);
});

/**
 * A tmpfs cannot be remounted read-only while the server holds its files open for writing ("mount
 * point is busy"), so the folder goes read-only between two runs: the start must fail, saying why.
 */
test('a read-only data folder: the server refuses to start, saying why; read-write again, full service and an intact database', { skip, timeout: 300_000 }, async (t) => {
  const dir = tempDir('tocsin-disk-ro-');
  const fs = mountSmallFilesystem(dir, MOUNT_BYTES);
  t.after(() => fs.unmount());
  const configFile = config(dir, fs);
  const port = await freePort();
  let server = await spawnServer(configFile, port, 60_000);
  const before = await submitMany(server.client, 5);
  await server.stop();
  fs.readOnly();
  try {
    const refused = await startFails(configFile, port);
    t.diagnostic(`read-only: start refused with exit ${refused.code}: ${refused.message}`);
    console.log(`disk-full read-only: ${refused.message}`);
    assert.match(refused.message, /read-?only|EROFS/i);
  } finally {
    fs.readWrite();
  }
  server = await spawnServer(configFile, port, 60_000);
  try {
    const fresh = await submitMany(server.client, 20);
    await allEnded(server, [...before, ...fresh]);
    await server.stop();
    assert.equal(integrity(fs), 'ok');
  } finally {
    await server.kill9();
  }
});

/** `tocsin serve` that must exit without serving; its exit code and the last lines it wrote. */
async function startFails(configFile: string, port: number): Promise<{ code: number | null; message: string }> {
  const child = spawn(process.execPath, [TOCSIN_BIN, 'serve', '--config', configFile, '--port', String(port)], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (x: string) => (out += x));
  child.stderr.setEncoding('utf8').on('data', (x: string) => (out += x));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.notEqual(code, 0, `the server must not start on a read-only folder:\n${out}`);
  return { code, message: out.trim().split('\n').slice(-3).join(' | ').slice(0, 500) };
}

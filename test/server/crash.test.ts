/**
 * Crash recovery (decisions.md "Asynchronous actions"): a `tocsin serve` process is killed with
 * SIGKILL while actions are queued and running; a new one on the same DataDirectory runs every
 * action to its end, loses none, leaves none Processing, and counts the interrupted run as an
 * attempt. One process owns a DataDirectory: a second server there fails at start-up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { listStatus, waitForStatus, type Json } from '../helpers/aci.js';
import { freePort, PROJECT_ROOT, spawnServer, startTestServer, tempDir, TOCSIN_BIN, waitFor, writeConfig } from '../helpers/server.js';

const config = (dir: string) => `
[Server]
Host=127.0.0.1
DataDirectory=${dir}
ShutdownGrace=0
LogLevel=warn

[Actions]
EnableTestActions=true
MaximumThreads=8
PollInterval=50
`;

/** Sends in parallel batches, keeping the order of `params` in the returned tokens. */
async function sendAll(send: (p: Record<string, string>) => Promise<string>, params: Record<string, string>[], batch = 50): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < params.length; i += batch) tokens.push(...(await Promise.all(params.slice(i, i + batch).map(send))));
  return tokens;
}

test('after kill -9 with actions queued and running, a restart on the same DataDirectory finishes every one; interrupted runs count attempts=2', async () => {
  const dir = tempDir();
  const file = writeConfig(dir, config(dir));
  const first = await spawnServer(file, await freePort());
  let second: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    const send = (p: Record<string, string>) => first.client.send('Sleep', p);
    const long = await sendAll(send, [1, 2, 3].map(() => ({ Seconds: '3', Priority: '10' })));
    for (const t of long) await waitForStatus(first.client, t, 'Processing');
    const short = await sendAll(send, Array.from({ length: 200 }, (_, i) => ({ Seconds: '0.05', Label: `short-${i}` })));
    // Let some finish, so the kill finds Finished, Processing and Queued actions.
    const finishedBefore = await waitFor(async () => {
      const done = await listStatus(first.client, 'Sleep', { State: 'finished' });
      return done.length >= 20 ? done : undefined;
    });
    await first.kill9();
    assert.equal(await first.exited.then((e) => e.signal), 'SIGKILL');

    second = await spawnServer(file, await freePort());
    const all = [...long, ...short];
    const records = await waitFor(async () => {
      const list = await listStatus(second!.client, 'Sleep');
      return list.length === all.length && list.every((r) => r['status'] === 'Finished') ? list : undefined;
    }, 30_000, 50);
    const byToken = new Map(records.map((r) => [String(r['token']), r] as const));
    assert.deepEqual([...byToken.keys()].sort(), [...all].sort(), 'every token is known, none lost, none extra');
    for (const t of all) assert.equal((await second.client.status(t))['status'], 'Finished', 'each token answers by itself too');
    for (const t of long) assert.equal(byToken.get(t)!['attempts'], '2', 'interrupted while running: run again');
    for (const r of finishedBefore) {
      const after = byToken.get(String(r['token'])) as Json;
      assert.equal(after['attempts'], '1', 'a reported Finished survived the kill and was not run again');
      assert.equal(after['process_end_time'], r['process_end_time']);
    }
    for (const r of records) assert.ok(['1', '2'].includes(String(r['attempts'])), `attempts ${String(r['attempts'])}`);
    const status = await second.client.call('GetStatus');
    const queue = (status['queues'] as Json)['queue'] as Json[];
    assert.equal(queue[0]!['processing'], '0');
    assert.equal(queue[0]!['queued'], '0');
    assert.match(second.stderr(), /re-queued actions interrupted by a previous stop/);
  } finally {
    await first.kill9();
    await second?.stop();
  }
});

test('a second server on the same DataDirectory fails to start with a clear error, and the first keeps serving', async () => {
  const owner = await startTestServer({ config: '[Actions]\nEnableTestActions=true\n' });
  try {
    const other = writeConfig(tempDir(), config(owner.dir));
    const child = spawn(process.execPath, [TOCSIN_BIN, 'serve', '--config', other, '--port', String(await freePort())], { cwd: PROJECT_ROOT });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /Cannot open the datastore/);
    assert.ok(stderr.includes(join(owner.dir, 'tocsin.db')), `names the database file: ${stderr}`);
    assert.match(stderr, /another Tocsin process is using it/);
    assert.match(stderr, /STORE_FAILED/);
    await waitForStatus(owner.client, await owner.client.send('Sleep', { Seconds: '0' }), 'Finished');
  } finally {
    await owner.close();
  }
});

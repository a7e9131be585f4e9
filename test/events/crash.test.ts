/**
 * At-least-once delivery across a crash (decisions.md "Events": the event is stored in the same
 * transaction as the status change and delivered from that store). A real `tocsin serve` child is
 * killed with SIGKILL in the middle of a burst and restarted on the same DataDirectory: every
 * action ends, and every action's OnFinish / OnError is in the text file at least once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { queueInfo } from '../helpers/aci.js';
import { writeFaultServerConfig } from '../helpers/fault-config.js';
import { freePort, spawnServer, tempDir, waitFor } from '../helpers/server.js';
import { mapLimit, readEventFile, readLines, waitNoPending, eventInfo, type Json } from '../helpers/events-server.js';
import type { AciClient } from '../../src/cli/client.js';

const ACTIONS = 2000;
const KILL_AFTER = 500;

const queueStatus = async (client: AciClient) => (await queueInfo(client, 'Sleep', 'QueueStatus'))['queue'] as Json;

test('kill -9 in the middle of a burst of 2000 actions: after a restart every action ends and its OnFinish/OnError is in the file at least once', async (t) => {
  const dir = tempDir('tocsin-crash-');
  const file = join(dir, 'events', 'events.log');
  const config = writeFaultServerConfig(dir, {
    dataDirectory: join(dir, 'data'),
    actions: { MaximumThreads: 8, PollInterval: 50, OnFinish: 'File', OnError: 'File' },
    sections: { File: { LibraryName: 'TextFileHandler', FilePath: file } },
  });
  const port = await freePort();
  let server = await spawnServer(config, port);
  try {
    // Queue everything first, paused, so the kill lands while actions run rather than mid-submission.
    await queueInfo(server.client, 'Sleep', 'Pause');
    const fails = (i: number) => i % 4 === 0;
    const tokens = await mapLimit(Array.from({ length: ACTIONS }, (_, i) => i), 50, (i) =>
      server.client.send('Sleep', { Seconds: '0', ...(fails(i) ? { Fail: 'true' } : {}) }),
    );
    assert.equal(new Set(tokens).size, ACTIONS);
    await queueInfo(server.client, 'Sleep', 'Resume');
    await waitFor(() => readLines(file).length >= KILL_AFTER, 30_000, 2);
    await server.kill9();
    const linesAtKill = readLines(file).length;
    t.diagnostic(`killed with ${linesAtKill} events in the file`);

    server = await spawnServer(config, port);
    await waitFor(async () => {
      const q = await queueStatus(server.client);
      return Number(q['finished']) + Number(q['error']) === ACTIONS;
    }, 60_000, 50);
    const q = await queueStatus(server.client);
    assert.deepEqual([q['queued'], q['processing'], q['finished'], q['error']], ['0', '0', String(ACTIONS * 0.75), String(ACTIONS * 0.25)]);
    const settled = await waitNoPending(server.client, 60_000);
    assert.equal(settled.counts.failed, 0);

    const events = readEventFile(file); // every line is one whole <event>: kill -9 cannot split a write
    const finals = new Map<string, string[]>();
    const ids = new Map<string, number>();
    for (const e of events) {
      const token = String((e['action'] as Json)['token']);
      finals.set(token, [...(finals.get(token) ?? []), String(e['type'])]);
      ids.set(String(e['id']), (ids.get(String(e['id'])) ?? 0) + 1);
    }
    const missing = tokens.filter((token) => !finals.has(token));
    assert.deepEqual(missing, [], 'no action lost its OnFinish/OnError');
    tokens.forEach((token, i) => {
      const want = fails(i) ? 'OnError' : 'OnFinish';
      assert.ok(finals.get(token)!.every((type) => type === want), `${token}: only ${want} (got ${finals.get(token)!.join(', ')})`);
    });
    const duplicates = events.length - ids.size;
    const tokensWithTwo = [...finals.values()].filter((types) => types.length > 1).length;
    const stored = await eventInfo(server.client, { MaxResults: '0' });
    t.diagnostic(`events in file: ${events.length}; distinct event ids: ${ids.size}; duplicate deliveries: ${duplicates}; tokens with more than one final event: ${tokensWithTwo}; stored events: ${stored.counts.delivered}`);
    console.log(`kill -9 test: duplicates=${duplicates} (distinct ${ids.size}, lines ${events.length}, at kill ${linesAtKill})`);
    assert.equal(ids.size, ACTIONS, 'one final event per action (a duplicate repeats the same id)');
  } finally {
    await server.kill9();
  }
});

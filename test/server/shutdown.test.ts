/**
 * Shutdown of a real `tocsin serve` process (decisions.md "Shutdown", src/cli/serve.ts): the first
 * SIGTERM/SIGINT refuses new submissions with ERRORSERVERSTOPPING while running actions get
 * ShutdownGrace and deliveries in flight finish; a second signal exits at once. Either way a
 * restart on the same DataDirectory shows nothing lost: answered actions are there, interrupted
 * ones run again, undelivered events are delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { aciError, waitForStatus, type Json } from '../helpers/aci.js';
import { freePort, spawnServer, tempDir, waitFor, writeConfig, type SpawnedServer } from '../helpers/server.js';
import type { AciClient } from '../../src/cli/client.js';

interface Delivery {
  readonly type: string;
  readonly id: string;
  readonly token: string;
}

/** An event receiver that can hold deliveries (the handler's request stays in flight) until released. */
async function startHoldingReceiver() {
  const seen: Delivery[] = [];
  const held: ServerResponse[] = [];
  let hold: (d: Delivery) => boolean = () => false;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const d = { type: String(req.headers['x-tocsin-event-type']), id: String(req.headers['x-tocsin-event-id']), token: /<token>([^<]*)<\/token>/.exec(body)?.[1] ?? '' };
      seen.push(d);
      if (hold(d)) held.push(res);
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    seen,
    held,
    setHold: (f: (d: Delivery) => boolean) => (hold = f),
    release: () => held.splice(0).forEach((res) => res.writeHead(200).end('ok')),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const config = (dir: string, receiver: string) => `
[Server]
DataDirectory=${dir}
ShutdownGrace=60s
LogLevel=info

[Actions]
EnableTestActions=true
PollInterval=50
OnStart=Hook
OnFinish=Hook

// Runs until the test creates %File%: an action whose end the test decides.
[Wait]
Type=Command
Command=/bin/sh
Arguments=-c,until test -e %File%; do sleep 0.02; done

[Hook]
LibraryName=HttpHandler
URL=${receiver}
RetryInterval=1
`;

async function events(client: AciClient, token: string): Promise<Json[]> {
  const data = await client.call('EventInfo', { Token: token });
  const list = ((data['events'] as Json | undefined)?.['event'] ?? []) as Json | Json[];
  return Array.isArray(list) ? list : [list];
}

const logged = (server: SpawnedServer, text: string) => waitFor(() => server.stderr().includes(text), 15_000);

test('SIGTERM: new submissions get ERRORSERVERSTOPPING, the running action ends within ShutdownGrace, its OnFinish in flight is delivered, exit 0', { timeout: 60_000 }, async () => {
  const receiver = await startHoldingReceiver();
  const dir = tempDir();
  const file = writeConfig(dir, config(dir, receiver.url));
  const first = await spawnServer(file, await freePort());
  let second: SpawnedServer | undefined;
  try {
    // The OnFinish delivery is held at the receiver: it is in flight while the server stops.
    receiver.setHold((d) => d.type === 'OnFinish');
    const go = join(dir, 'go');
    const token = await first.client.send('Wait', { File: go });
    await waitForStatus(first.client, token, 'Processing');
    first.child.kill('SIGTERM');
    await logged(first, 'stopping: new submissions are refused');
    const refused = await aciError(first.client.send('Sleep', { Seconds: '0' }));
    assert.equal(refused.errorcode, 'ERRORSERVERSTOPPING');
    assert.match(refused.errordescription, /shutting down/);
    // The port stays open while the action drains: its status can still be asked.
    assert.equal((await first.client.status(token))['status'], 'Processing');
    writeFileSync(go, '');
    await waitFor(() => receiver.held.length === 1, 15_000);
    receiver.release();
    const exit = await first.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, first.stderr());

    receiver.setHold(() => false);
    second = await spawnServer(file, await freePort());
    const record = await second.client.status(token);
    assert.equal(record['status'], 'Finished', 'it ended within ShutdownGrace, not re-queued');
    assert.equal(record['attempts'], '1');
    const stored = await events(second.client, token);
    assert.deepEqual(stored.map((e) => `${String(e['type'])}:${String(e['state'])}`).sort(), ['OnFinish:delivered', 'OnStart:delivered']);
    assert.equal(receiver.seen.filter((d) => d.token === token && d.type === 'OnFinish').length, 1, 'delivered once, before the stop');
  } finally {
    await first.kill9();
    await second?.stop();
    await receiver.close();
  }
});

test('a second signal exits at once; after a restart the interrupted action runs again and its held event is delivered', { timeout: 60_000 }, async () => {
  const receiver = await startHoldingReceiver();
  const dir = tempDir();
  const file = writeConfig(dir, config(dir, receiver.url));
  const first = await spawnServer(file, await freePort());
  let second: SpawnedServer | undefined;
  try {
    // The first OnStart is held and never answered in this life: it must stay pending.
    receiver.setHold((d) => d.type === 'OnStart');
    const token = await first.client.send('Sleep', { Seconds: '600' });
    await waitForStatus(first.client, token, 'Processing');
    await waitFor(() => receiver.held.length === 1, 15_000);
    const heldId = receiver.seen[0]!.id;
    first.child.kill('SIGTERM');
    await logged(first, 'stopping: new submissions are refused');
    first.child.kill('SIGINT');
    const exit = await first.exited;
    assert.deepEqual(exit, { code: 1, signal: null }, first.stderr());
    assert.match(first.stderr(), /second signal: exiting at once/);
    receiver.release();

    receiver.setHold(() => false);
    second = await spawnServer(file, await freePort());
    const again = await waitForStatus(second.client, token, 'Processing');
    assert.equal(again['attempts'], '2', 'the interrupted run is queued again and counted');
    // The held OnStart (same event id) is delivered by the new process, as is the second run's.
    await waitFor(() => receiver.seen.filter((d) => d.id === heldId).length >= 2, 15_000);
    await waitFor(async () => (await events(second!.client, token)).every((e) => e['state'] === 'delivered'), 15_000);
    const starts = (await events(second.client, token)).filter((e) => e['type'] === 'OnStart');
    assert.equal(starts.length, 2, 'one OnStart per run');
    assert.ok(starts.some((e) => e['id'] === heldId));
    await second.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Stop', Token: token });
    await waitForStatus(second.client, token, 'Stopped');
  } finally {
    await first.kill9();
    await second?.stop();
    await receiver.close();
  }
});

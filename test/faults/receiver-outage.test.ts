/**
 * Event receivers that fail for longer than Tocsin waits (issue 16 part 4), against a real server
 * and real HTTP receivers on loopback. A receiver down past the whole retry budget leaves its events
 * `failed`, none dropped, and Redeliver delivers every one once it is back. A receiver that hangs on
 * one request costs that event a time-out and a retry; the handler's other events and the other
 * handler are delivered meanwhile (observed while the hung request is still held open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { eventInfo, readEventFile, waitNoPending, type EventInfoAnswer } from '../helpers/events-server.js';
import { freePort, startTestServer, waitFor } from '../helpers/server.js';

const EVENTS = 20;

interface Recorder {
  readonly server: Server;
  /** Event ids of the requests answered 200, in arrival order. */
  readonly ok: string[];
}

function recorder(handle?: (req: IncomingMessage, res: ServerResponse) => boolean): Recorder {
  const ok: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (handle?.(req, res)) return;
      ok.push(String(req.headers['x-tocsin-event-id']));
      res.end('ok');
    });
  });
  return { server, ok };
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const handlerCounts = (info: EventInfoAnswer, handler: string) => info.handlers.get(handler) ?? { pending: 0, delivered: 0, failed: 0 };

test('a receiver down longer than the retry budget: its events are kept failed, none dropped, and Redeliver delivers all once it is back', { timeout: 120_000 }, async () => {
  const port = await freePort(); // nothing listens here yet
  const s = await startTestServer({
    config: `[Actions]
EnableTestActions=true
MaximumThreads=4
OnFinish=Down,File

[Down]
LibraryName=HttpHandler
URL=http://127.0.0.1:${port}/events
Retries=2
RetryInterval=50ms

[File]
LibraryName=TextFileHandler
FilePath=events.log
`,
  });
  const back = recorder();
  try {
    for (let i = 0; i < EVENTS; i++) await s.client.send('Sleep', { Seconds: '0' });
    const spent = await waitFor(async () => {
      const info = await eventInfo(s.client, { Handler: 'Down', MaxResults: '1000' });
      return handlerCounts(info, 'Down').failed === EVENTS ? info : undefined;
    }, 60_000, 25);
    assert.deepEqual(handlerCounts(spent, 'Down'), { pending: 0, delivered: 0, failed: EVENTS });
    for (const row of spent.events) {
      assert.equal(row.attempts, '3', 'the first attempt and both retries');
      assert.match(row.last_error ?? '', /ECONNREFUSED/);
    }
    assert.equal(readEventFile(join(s.dir, 'events.log')).length, EVENTS, 'the other handler got every event meanwhile');

    await listen(back.server, port);
    const redeliver = await s.client.call('EventInfo', { EventAction: 'Redeliver', Handler: 'Down' });
    assert.equal(String(redeliver['redelivered']), String(EVENTS));
    const done = await waitNoPending(s.client, 60_000);
    assert.deepEqual(handlerCounts(done, 'Down'), { pending: 0, delivered: EVENTS, failed: 0 });
    assert.deepEqual([...new Set(back.ok)].sort(), spent.events.map((e) => e.id).sort(), 'every failed event arrived');
  } finally {
    await s.close();
    await close(back.server);
  }
});

test('a receiver that hangs on one request: that event times out and is retried; the other events and handlers are not held up', { timeout: 120_000 }, async () => {
  let held: { id: string; closed: boolean } | undefined;
  let heldArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (heldArrived = resolve));
  const hanging = recorder((req, res) => {
    if (held !== undefined) return false;
    held = { id: String(req.headers['x-tocsin-event-id']), closed: false };
    res.on('close', () => (held!.closed = true));
    heldArrived();
    return true; // never answered
  });
  const port = await listen(hanging.server);
  const s = await startTestServer({
    config: `[Actions]
EnableTestActions=true
MaximumThreads=4
OnFinish=Hangs,File

[Hangs]
LibraryName=HttpHandler
URL=http://127.0.0.1:${port}/events
Timeout=3s
Retries=2
RetryInterval=50ms

[File]
LibraryName=TextFileHandler
FilePath=events.log
`,
  });
  try {
    await s.client.send('Sleep', { Seconds: '0' });
    await arrived;
    for (let i = 1; i < EVENTS; i++) await s.client.send('Sleep', { Seconds: '0' });
    // Barrier: the rest arrive while the first request is still held open.
    await waitFor(() => hanging.ok.length === EVENTS - 1 && readEventFile(join(s.dir, 'events.log')).length === EVENTS, 30_000, 10);
    assert.equal(held!.closed, false, 'all of that happened while the hung request was still open');
    assert.ok(!hanging.ok.includes(held!.id));

    const done = await waitNoPending(s.client, 60_000);
    assert.deepEqual(handlerCounts(done, 'Hangs'), { pending: 0, delivered: EVENTS, failed: 0 });
    assert.equal(held!.closed, true, 'Tocsin gave up on the hung request');
    assert.equal(hanging.ok.at(-1), held!.id, 'the hung event was delivered by a retry');
    assert.equal(hanging.ok.filter((id) => id === held!.id).length, 1, 'the retry was its second and last request');
  } finally {
    await s.close();
    await close(hanging.server);
  }
});

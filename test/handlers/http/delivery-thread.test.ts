/**
 * The delivery thread behind the factory's HttpHandler (threaded-handler.ts): batches of
 * deliveries settle one by one from the thread's answers, aborts and close() reach the thread,
 * a thread that dies costs only its in-flight deliveries (retryable), and an idle handler does not
 * keep the process alive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeliveryError } from '../../../src/events/handler.js';
import { httpHandlerFactory } from '../../../src/events/handlers/http/index.js';
import { ThreadedHttpHandler } from '../../../src/events/handlers/http/threaded-handler.js';
import { httpSection, loadSection } from './helpers/config.js';
import { neverAborted, sampleEvent } from './helpers/events.js';
import { createHandler } from './helpers/handler.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

/** What the receiver answers, by the event id's last character (sampleEvent ids end in a counter). */
type Outcome = 'ok' | 'busy' | 'gone' | 'hang';

async function failureOf(delivery: Promise<void>): Promise<DeliveryError> {
  try {
    await delivery;
  } catch (e) {
    assert.ok(e instanceof DeliveryError, `a DeliveryError, not ${String(e)}`);
    return e;
  }
  return assert.fail('delivery should have failed');
}

function threadOf(handler: unknown): ThreadedHttpHandler {
  assert.ok(handler instanceof ThreadedHttpHandler, 'the factory returns the threaded handler');
  return handler;
}

describe('HttpHandler delivery thread', () => {
  const outcomes = new Map<string, Outcome>();
  /** Responses held open by `hang`, and a waiter per event id for its request to arrive. */
  const held: ServerResponse[] = [];
  const arrived = new Map<string, () => void>();
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver((req, res) => {
      const id = String(req.headers['x-tocsin-event-id']);
      arrived.get(id)?.();
      const outcome = outcomes.get(id) ?? 'ok';
      if (outcome === 'ok') res.writeHead(200).end('ok');
      else if (outcome === 'busy') res.writeHead(503, { 'retry-after': '7' }).end();
      else if (outcome === 'gone') res.writeHead(404).end();
      else held.push(res);
    });
  });
  after(async () => {
    for (const res of held) res.destroy();
    await receiver.close();
  });

  /** An event the receiver answers with `outcome`, and a promise of its request arriving. */
  const eventFor = (outcome: Outcome) => {
    const event = sampleEvent();
    outcomes.set(event.id, outcome);
    const reached = new Promise<void>((resolve) => arrived.set(event.id, resolve));
    return { event, reached };
  };

  it('settles each delivery of a concurrent burst from its own answer: 2xx, 503 with Retry-After, 404', async () => {
    const { handler, log } = createHandler({ URL: receiver.url });
    const kinds: Outcome[] = Array.from({ length: 90 }, (_, i) => (['ok', 'busy', 'gone'] as const)[i % 3]!);
    const events = kinds.map((kind) => ({ kind, event: eventFor(kind).event }));
    const results = await Promise.allSettled(events.map(({ event }) => handler.deliver(event, neverAborted)));
    await handler.close();
    results.forEach((result, i) => {
      const { kind, event } = events[i]!;
      if (kind === 'ok') return assert.equal(result.status, 'fulfilled', `${event.id} delivered`);
      assert.equal(result.status, 'rejected');
      const error = (result as PromiseRejectedResult).reason as unknown;
      assert.ok(error instanceof DeliveryError, 'a DeliveryError made again on this thread');
      if (kind === 'busy') {
        assert.equal(error.retryable, true);
        assert.equal(error.retryAfterMs, 7_000);
        assert.match(error.message, /HTTP 503/);
      } else {
        assert.equal(error.retryable, false);
        assert.equal(error.retryAfterMs, undefined);
        assert.match(error.message, /HTTP 404/);
      }
    });
    // The thread's log lines reach the handler's logger: one 'event delivered' per success.
    const delivered = log.lines.map((l) => JSON.parse(l) as { msg: string; event?: string }).filter((l) => l.msg === 'event delivered');
    assert.deepEqual(new Set(delivered.map((l) => l.event)), new Set(events.filter((e) => e.kind === 'ok').map((e) => e.event.id)));
  });

  it('fails an aborted delivery at once (retryable) and aborts its POST in the thread', async () => {
    const { handler } = createHandler({ URL: receiver.url });
    const { event, reached } = eventFor('hang');
    const controller = new AbortController();
    const delivery = handler.deliver(event, controller.signal);
    await reached;
    const res = held.at(-1)!;
    const connectionClosed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    controller.abort(new Error('stopping'));
    const error = await failureOf(delivery);
    assert.equal(error.retryable, true);
    assert.match(error.message, /aborted/);
    await connectionClosed; // the thread's undici request gave up the connection
    await handler.deliver(eventFor('ok').event, neverAborted);
    await assert.rejects(handler.deliver(sampleEvent(), controller.signal), /aborted/);
    await handler.close();
  });

  it('close() fails the deliveries still pending, retryable, without waiting for their answers', async () => {
    const { handler } = createHandler({ URL: receiver.url });
    const hanging = [eventFor('hang'), eventFor('hang')];
    const deliveries = hanging.map(({ event }) => failureOf(handler.deliver(event, neverAborted)));
    await Promise.all(hanging.map((h) => h.reached));
    const queuedLast = failureOf(handler.deliver(eventFor('ok').event, neverAborted));
    const started = performance.now();
    await handler.close();
    assert.ok(performance.now() - started < 1_500, 'close() did not wait for the held responses');
    for (const error of [...(await Promise.all(deliveries)), await queuedLast]) {
      assert.equal(error.retryable, true);
      assert.match(error.message, /closed/);
    }
    const after = await failureOf(handler.deliver(sampleEvent(), neverAborted));
    assert.equal(after.retryable, true);
  });

  it('fails the deliveries of a thread that dies as retryable, and the next delivery goes through a new thread', async () => {
    const { handler, log } = createHandler({ URL: receiver.url });
    const threaded = threadOf(handler);
    const { event, reached } = eventFor('hang');
    const delivery = failureOf(handler.deliver(event, neverAborted));
    await reached;
    const first = threaded.thread!;
    await first.terminate();
    const error = await delivery;
    assert.equal(error.retryable, true);
    assert.match(error.message, /delivery thread exited/);
    assert.ok(log.lines.some((l) => l.includes('delivery thread died')), 'the death is logged');
    await handler.deliver(eventFor('ok').event, neverAborted);
    assert.ok(threaded.thread && threaded.thread !== first, 'a new thread delivered it');
    await handler.close();
  });

  it('starts no thread for check-config (start=false)', async () => {
    const loaded = loadSection(httpSection({ URL: receiver.url }));
    const handler = httpHandlerFactory.create(loaded.section, loaded.context, false);
    assert.ok(handler && !(handler instanceof ThreadedHttpHandler));
    await handler.close();
  });

  it('does not keep the process alive once idle (the thread is unref\'d), even unclosed', () => {
    const modules = (path: string) => new URL(`../../../src/${path}`, import.meta.url).href;
    const script = `
      import { createServer } from 'node:http';
      import { ThreadedHttpHandler } from '${modules('events/handlers/http/threaded-handler.js')}';
      import { freezeOptions } from '${modules('events/handlers/http/options.js')}';
      import { silentLogger } from '${modules('common/logger.js')}';
      const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const handler = new ThreadedHttpHandler(freezeOptions({ url: 'http://127.0.0.1:' + server.address().port + '/', timeoutMs: 30000 }), silentLogger);
      const event = { id: 'e1', type: 'OnFinish', handler: 'H', queue: 'q', document: '<e/>', request: {}, attempt: 1 };
      await handler.deliver(event, new AbortController().signal);
      server.closeAllConnections();
      server.close();
      console.log('delivered');`;
    // A file, not `--input-type=module -e`: a worker inherits execArgv, and --input-type fails there.
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-http-idle-'));
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(child.error, undefined, 'the process ended by itself');
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /delivered/);
  });
});

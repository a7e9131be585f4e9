/** The POST itself: body, headers, Basic auth, success and refusal. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHandler, deliveryFailure } from './helpers/handler.js';
import { neverAborted, sampleEvent } from './helpers/events.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

describe('HttpHandler POST', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver((req, res) => {
      const expected = `Basic ${Buffer.from('hook-user:Hook pässword!').toString('base64')}`;
      if (req.url === '/basic' && req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="hooks"' });
        return res.end();
      }
      res.writeHead(204).end();
    });
  });
  after(() => receiver.close());

  it('posts the event document as UTF-8 XML with the event type and id headers', async () => {
    const { handler } = createHandler({ URL: `${receiver.url}?q=1` });
    const event = sampleEvent({ type: 'OnError' });
    await handler.deliver(event, neverAborted);
    await handler.close();
    const req = receiver.requests.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/hook?q=1');
    assert.equal(req.body.toString('utf8'), event.document);
    assert.equal(req.headers['content-type'], 'application/xml; charset=utf-8');
    assert.equal(req.headers['content-length'], String(Buffer.byteLength(event.document)));
    assert.equal(req.headers['x-tocsin-event-type'], 'OnError');
    assert.equal(req.headers['x-tocsin-event-id'], event.id);
    assert.equal(req.headers['user-agent'], 'tocsin/0.1');
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers['webhook-signature'], undefined, 'no signature without SigningSecret');
  });

  it('reuses keep-alive connections across deliveries instead of opening one per event', async () => {
    const { handler } = createHandler({ URL: receiver.url });
    const sockets = new Set<unknown>();
    const onConnection = (s: unknown) => sockets.add(s);
    receiver.server.on('connection', onConnection);
    for (let i = 0; i < 20; i++) await handler.deliver(sampleEvent(), neverAborted);
    receiver.server.off('connection', onConnection);
    await handler.close();
    assert.ok(sockets.size <= 2, `${sockets.size} connections for 20 deliveries`);
  });

  it('reads a large chunked answer to its end and keeps using the connection', async () => {
    const big = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 64; i++) res.write('x'.repeat(16 * 1024));
      res.end();
    });
    const sockets = new Set<unknown>();
    big.server.on('connection', (s: unknown) => sockets.add(s));
    const { handler } = createHandler({ URL: big.url });
    try {
      const event = sampleEvent({ document: '<event><type>OnFinish</type><text>ünïcödé ✓</text></event>' });
      for (let i = 0; i < 5; i++) await handler.deliver(event, neverAborted);
      assert.equal(big.requests.length, 5);
      assert.equal(big.requests.at(-1)!.body.toString('utf8'), event.document);
      assert.ok(sockets.size <= 2, `${sockets.size} connections for 5 deliveries: each answer was read to its end, so connections were kept`);
    } finally {
      await handler.close();
      await big.close();
    }
  });

  it('sends BasicUser and BasicPassword, and the receiver accepts them', async () => {
    const { handler } = createHandler({ URL: receiver.url.replace('/hook', '/basic'), BasicUser: 'hook-user', BasicPassword: 'Hook pässword!' });
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
  });

  it('fails without retry when the receiver refuses the Basic credentials (401)', async () => {
    const { handler } = createHandler({ URL: receiver.url.replace('/hook', '/basic'), BasicUser: 'hook-user', BasicPassword: 'wrong-basic-pw' });
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, false);
    assert.match(error.message, /HTTP 401/);
    assert.doesNotMatch(error.message, /wrong-basic-pw/);
  });

  it('closes cleanly and can be closed twice', async () => {
    const { handler } = createHandler({ URL: receiver.url });
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
    await handler.close();
  });
});

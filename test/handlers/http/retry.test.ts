/** Which failures the engine should retry, against real sockets. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isRetryableStatus, parseRetryAfter, proxyStatusOf } from '../../../src/events/handlers/http/retry.js';
import { createHandler, deliveryFailure } from './helpers/handler.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('HttpHandler retry classification', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver((req, res) => {
      const status = Number(/status=(\d+)/.exec(req.url)?.[1] ?? 200);
      const retryAfter = /retry-after=([^&]+)/.exec(req.url)?.[1];
      if (req.url.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 1500).unref();
        return;
      }
      res.writeHead(status, retryAfter ? { 'retry-after': decodeURIComponent(retryAfter) } : {});
      res.end('answer');
    }, '/');
  });
  after(() => receiver.close());

  const failureFor = async (path: string, keys: Record<string, string> = {}) => {
    const { handler } = createHandler({ URL: receiver.url + path, ...keys });
    try {
      return await deliveryFailure(handler);
    } finally {
      await handler.close();
    }
  };

  it('retries a refused connection', async () => {
    const { handler } = createHandler({ URL: `http://127.0.0.1:${await closedPort()}/hook` });
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, true);
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('retries 503 and passes Retry-After seconds on as retryAfterMs', async () => {
    const error = await failureFor('status?status=503&retry-after=7');
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 7000);
  });

  it('reads Retry-After given as an HTTP-date', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const error = await failureFor(`status?status=429&retry-after=${encodeURIComponent(at)}`);
    assert.equal(error.retryable, true);
    assert.ok(error.retryAfterMs! > 55_000 && error.retryAfterMs! <= 60_000, String(error.retryAfterMs));
  });

  it('retries 408, 429 and 500 without Retry-After', async () => {
    for (const status of [408, 429, 500]) {
      const error = await failureFor(`status?status=${status}`);
      assert.equal(error.retryable, true, String(status));
      assert.equal(error.retryAfterMs, undefined);
    }
  });

  it('fails at once on 404 and other client errors', async () => {
    for (const status of [400, 403, 404, 410]) {
      const error = await failureFor(`status?status=${status}`);
      assert.equal(error.retryable, false, String(status));
      assert.match(error.message, new RegExp(`HTTP ${status}`));
    }
  });

  it('retries when the receiver does not answer within Timeout', async () => {
    const started = Date.now();
    const error = await failureFor('slow', { Timeout: '300ms' });
    assert.equal(error.retryable, true);
    assert.ok(Date.now() - started < 1400, 'gave up at the timeout, not when the server answered');
  });

  it('retries when the engine aborts the attempt', async () => {
    const { handler } = createHandler({ URL: `${receiver.url}slow` });
    const error = await deliveryFailure(handler, AbortSignal.timeout(100));
    await handler.close();
    assert.equal(error.retryable, true);
  });
});

describe('retry policy table', () => {
  it('labels statuses as the decisions say: 408, 429 and 5xx retried, other 4xx and 3xx not', () => {
    assert.deepEqual([408, 429, 500, 502, 503, 599].map(isRetryableStatus), [true, true, true, true, true, true]);
    assert.deepEqual([301, 400, 401, 404, 407, 422].map(isRetryableStatus), [false, false, false, false, false, false]);
  });

  it('parses Retry-After seconds, dates, and ignores garbage', () => {
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')), 60_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 08:00:00 GMT')), 0);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('99999999'), 24 * 60 * 60 * 1000, 'capped at a day');
  });

  it('reads the proxy status out of both undici proxy errors', () => {
    assert.equal(proxyStatusOf(new Error('Proxy response (407) !== 200 when HTTP Tunneling')), 407);
    assert.equal(proxyStatusOf(new Error('Proxy Authentication Required (407)')), 407);
    assert.equal(proxyStatusOf(new Error('other')), undefined);
  });
});

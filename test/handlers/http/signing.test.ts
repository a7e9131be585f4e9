/** Standard Webhooks signing: the handler signs, a receiver verifies with verifyWebhookSignature. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeSigningSecret, signatureHeaders, verifyWebhookSignature } from '../../../src/events/handlers/http/signing.js';
import { createHandler, deliveryFailure } from './helpers/handler.js';
import { neverAborted, sampleEvent } from './helpers/events.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

const SECRET = `whsec_${Buffer.from('a-32-byte-signing-key-for-tests!').toString('base64')}`;

describe('HttpHandler signing', () => {
  let receiver: Receiver;
  before(async () => {
    // A receiver as a user would write it: 400 when the signature does not verify.
    receiver = await startReceiver((req, res) => {
      const secret = req.url.includes('raw') ? 'raw-signing-secret-text' : SECRET;
      res.writeHead(verifyWebhookSignature({ secret, headers: req.headers, body: req.body }) ? 200 : 400).end();
    });
  });
  after(() => receiver.close());

  it('signs each delivery so that the receiver verifies it, with the event id as webhook-id', async () => {
    const { handler } = createHandler({ URL: receiver.url, SigningSecret: SECRET });
    const event = sampleEvent();
    await handler.deliver(event, neverAborted);
    await handler.close();
    const req = receiver.requests.at(-1)!;
    assert.equal(req.headers['webhook-id'], event.id);
    assert.ok(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000) < 5);
    assert.match(String(req.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('accepts a raw (non-whsec) secret', async () => {
    const { handler } = createHandler({ URL: `${receiver.url}?raw`, SigningSecret: 'raw-signing-secret-text' });
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
  });

  it('is rejected by the receiver when signed with another secret (400, not retried)', async () => {
    const { handler } = createHandler({ URL: receiver.url, SigningSecret: 'some-other-secret' });
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, false);
  });
});

describe('verifyWebhookSignature', () => {
  const key = decodeSigningSecret(SECRET)!;
  const body = '<event><id>e1</id></event>';
  const now = 1_800_000_000;
  const headers = signatureHeaders(key, 'e1', body, now);

  it('accepts the untouched body', () => {
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers, body, nowSeconds: now }), true);
    assert.equal(verifyWebhookSignature({ secret: key, headers, body: Buffer.from(body), nowSeconds: now }), true);
  });

  it('rejects a tampered body, a changed id and a wrong secret', () => {
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers, body: body.replace('e1', 'e2'), nowSeconds: now }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers: { ...headers, 'webhook-id': 'e2' }, body, nowSeconds: now }), false);
    assert.equal(verifyWebhookSignature({ secret: 'whsec_b3RoZXI=', headers, body, nowSeconds: now }), false);
  });

  it('rejects timestamps outside the tolerance (default 300 s)', () => {
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers, body, nowSeconds: now + 299 }), true);
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers, body, nowSeconds: now + 301 }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers, body, nowSeconds: now + 1000, toleranceSeconds: 2000 }), true);
  });

  it('accepts any of several space-separated signatures (key rotation) and fetch Headers', () => {
    const other = signatureHeaders(Buffer.from('old-key'), 'e1', body, now)['webhook-signature'];
    const rotated = new Headers({ ...headers, 'webhook-signature': `${other} ${headers['webhook-signature']}` });
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers: rotated, body, nowSeconds: now }), true);
  });

  it('rejects missing headers and malformed signatures', () => {
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers: {}, body, nowSeconds: now }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers: { ...headers, 'webhook-signature': 'v1,short' }, body, nowSeconds: now }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, headers: { ...headers, 'webhook-timestamp': 'x' }, body, nowSeconds: now }), false);
  });
});

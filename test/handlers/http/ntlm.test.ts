/** NTLM end to end against a server that checks the answer against the password. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHandler, deliveryFailure } from './helpers/handler.js';
import { neverAborted, sampleEvent } from './helpers/events.js';
import { startNtlmServer, type NtlmServer } from './helpers/ntlm-server.js';

const PASSWORD = 'Ntlm-Pa55word!';

describe('HttpHandler NTLM', () => {
  let server: NtlmServer;
  let v2Only: NtlmServer;
  before(async () => {
    server = await startNtlmServer({ accounts: { alice: PASSWORD } });
    v2Only = await startNtlmServer({ accounts: { alice: PASSWORD }, requireV2: true });
  });
  after(async () => {
    await server.close();
    await v2Only.close();
  });

  const ntlmKeys = (url: string, extra: Record<string, string | boolean> = {}) => ({
    URL: url, UseNTLMAuthentication: true, NTLMUser: 'TESTDOM\\alice', NTLMPassword: PASSWORD, ...extra,
  });

  it('authenticates with NTLMv2 by default and delivers the body with the event headers', async () => {
    const { handler } = createHandler(ntlmKeys(server.url));
    const event = sampleEvent();
    await handler.deliver(event, neverAborted);
    await handler.close();
    const got = server.accepted.at(-1)!;
    assert.equal(got.result, 'NTLMv2');
    assert.equal(got.user, 'alice');
    assert.equal(got.domain, 'TESTDOM');
    assert.equal(got.body, event.document);
    assert.equal(got.headers['x-tocsin-event-id'], event.id);
  });

  it('sends NTLMv1 when UseNTLMv2=false, although the server offers v2', async () => {
    const { handler } = createHandler(ntlmKeys(server.url, { UseNTLMv2: false }));
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
    assert.equal(server.accepted.at(-1)!.result, 'NTLMv1');
  });

  it('accepts the user@domain form', async () => {
    const { handler } = createHandler(ntlmKeys(server.url, { NTLMUser: 'alice@testdom.test' }));
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
    assert.equal(server.accepted.at(-1)!.user, 'alice@testdom.test');
    assert.equal(server.accepted.at(-1)!.result, 'NTLMv2');
  });

  it('accepts a plain user name without a domain', async () => {
    const { handler } = createHandler(ntlmKeys(server.url, { NTLMUser: 'alice' }));
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
    assert.equal(server.accepted.at(-1)!.domain, '');
  });

  it('fails without retry when the password is wrong, and the message does not show it', async () => {
    const { handler } = createHandler(ntlmKeys(server.url, { NTLMPassword: 'Wrong-Ntlm-Pw' }));
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, false);
    assert.match(error.message, /NTLM/);
    assert.doesNotMatch(error.message, /Wrong-Ntlm-Pw/);
  });

  it('is refused by a v2-only server when UseNTLMv2=false, and authenticates there with v2', async () => {
    const v1 = createHandler(ntlmKeys(v2Only.url, { UseNTLMv2: false }));
    assert.equal((await deliveryFailure(v1.handler)).retryable, false);
    await v1.handler.close();
    const v2 = createHandler(ntlmKeys(v2Only.url));
    await v2.handler.deliver(sampleEvent(), neverAborted);
    await v2.handler.close();
  });

  it('keeps each handshake on its own connection when deliveries run in parallel', async () => {
    const { handler } = createHandler(ntlmKeys(server.url));
    const before = server.accepted.length;
    await Promise.all(Array.from({ length: 12 }, () => handler.deliver(sampleEvent(), neverAborted)));
    await handler.close();
    assert.equal(server.accepted.length - before, 12);
  });
});

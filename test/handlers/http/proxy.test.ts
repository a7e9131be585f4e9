/** Through an authenticating proxy: forward mode for http, CONNECT for https and for NTLM. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { testCerts } from './helpers/certs.js';
import { allText, createHandler, deliveryFailure } from './helpers/handler.js';
import { neverAborted, sampleEvent } from './helpers/events.js';
import { startNtlmServer, type NtlmServer } from './helpers/ntlm-server.js';
import { startProxy, type TestProxy } from './helpers/proxy.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { startTlsReceiver, type TlsReceiver } from './helpers/tls-server.js';

const PROXY_PASSWORD = 'Proxy-Pa55!';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
const NTLM_PASSWORD = 'Ntlm-Through-Tunnel1';

describe('HttpHandler through a proxy', () => {
  let proxy: TestProxy;
  let receiver: Receiver;
  let tlsReceiver: TlsReceiver;
  let ntlm: NtlmServer;
  const certs = testCerts();
  before(async () => {
    proxy = await startProxy('puser', PROXY_PASSWORD);
    receiver = await startReceiver();
    tlsReceiver = await startTlsReceiver({ cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey) });
    ntlm = await startNtlmServer({ accounts: { alice: NTLM_PASSWORD } });
  });
  after(async () => {
    await Promise.all([proxy.close(), receiver.close(), tlsReceiver.close(), ntlm.close()]);
  });

  const proxyKeys = (password = PROXY_PASSWORD) => ({ ProxyHost: '127.0.0.1', ProxyPort: proxy.port, ProxyUsername: 'puser', ProxyPassword: password });
  const sslSection = `[TestSSL]\nSSLCACertificate=${certs.caCert}\n`;

  it('forwards an http delivery as an absolute-URI request with the proxy credentials', async () => {
    const { handler } = createHandler({ URL: receiver.url, ...proxyKeys() });
    const event = sampleEvent();
    await handler.deliver(event, neverAborted);
    await handler.close();
    assert.deepEqual(proxy.seen.at(-1), { method: 'POST', url: receiver.url, authorized: true });
    assert.equal(receiver.requests.at(-1)!.body.toString('utf8'), event.document);
  });

  it('tunnels an https delivery with CONNECT and verifies the target certificate inside', async () => {
    const { handler } = createHandler({ URL: tlsReceiver.url, ...proxyKeys(), SSLConfig: 'TestSSL' }, sslSection);
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
    assert.deepEqual(proxy.seen.at(-1), { method: 'CONNECT', url: new URL(tlsReceiver.url).host, authorized: true });
    assert.equal(tlsReceiver.seen.length, 1);
  });

  it('fails without retry when the proxy refuses the credentials, in forward mode', async () => {
    const { handler } = createHandler({ URL: receiver.url, ...proxyKeys('wrong-proxy-pw') });
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, false);
    assert.match(error.message, /407/);
    assert.doesNotMatch(allText(error), /wrong-proxy-pw/);
  });

  it('fails without retry when the proxy refuses the credentials of a CONNECT tunnel', async () => {
    const { handler } = createHandler({ URL: tlsReceiver.url, ...proxyKeys('wrong-proxy-pw'), SSLConfig: 'TestSSL' }, sslSection);
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, false);
    assert.match(error.message, /407/);
    assert.doesNotMatch(allText(error), /wrong-proxy-pw/);
  });

  it('authenticates with NTLM to the target through a CONNECT tunnel, even for an http URL', async () => {
    const { handler } = createHandler({ URL: ntlm.url, ...proxyKeys(), UseNTLMAuthentication: true, NTLMUser: 'TESTDOM\\alice', NTLMPassword: NTLM_PASSWORD });
    await Promise.all([handler.deliver(sampleEvent(), neverAborted), handler.deliver(sampleEvent(), neverAborted)]);
    await handler.close();
    assert.equal(proxy.seen.at(-1)!.method, 'CONNECT');
    assert.deepEqual(ntlm.accepted.map((a) => a.result), ['NTLMv2', 'NTLMv2']);
  });

  it('authenticates with NTLM to an https target through the tunnel', async () => {
    const secure = await startNtlmServer({ accounts: { alice: NTLM_PASSWORD }, tls: { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey) } });
    try {
      const { handler } = createHandler({ URL: secure.url, ...proxyKeys(), SSLConfig: 'TestSSL', UseNTLMAuthentication: true, NTLMUser: 'alice@testdom.test', NTLMPassword: NTLM_PASSWORD }, sslSection);
      await handler.deliver(sampleEvent(), neverAborted);
      await handler.close();
      assert.deepEqual(proxy.seen.at(-1), { method: 'CONNECT', url: `127.0.0.1:${secure.port}`, authorized: true });
      assert.equal(secure.accepted[0]?.result, 'NTLMv2');
    } finally {
      await secure.close();
    }
  });

  it('names the proxy (host:port), not the target, as the peer that refused the connection, in every proxy mode', async () => {
    const port = await closedPort();
    const down = { ProxyHost: '127.0.0.1', ProxyPort: port };
    const modes: [string, Record<string, string | number | boolean>, string?][] = [
      ['forward (http URL)', { URL: receiver.url, ...down }],
      ['CONNECT (https URL)', { URL: tlsReceiver.url, ...down, SSLConfig: 'TestSSL' }, sslSection],
      ['CONNECT (NTLM)', { URL: ntlm.url, ...down, UseNTLMAuthentication: true, NTLMUser: 'TESTDOM\\alice', NTLMPassword: NTLM_PASSWORD }],
    ];
    for (const [mode, keys, extra] of modes) {
      const { handler } = createHandler(keys, extra);
      const error = await deliveryFailure(handler);
      await handler.close();
      assert.equal(error.retryable, true, mode);
      assert.match(error.message, new RegExp(`the proxy 127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED\\)`), `${mode}: ${error.message}`);
      assert.ok(error.message.startsWith(`request to ${new URL(String(keys['URL'])).origin} `), `${mode}: ${error.message}`);
    }
  });

  it('retries when the proxy itself is down', async () => {
    const { handler } = createHandler({ URL: receiver.url, ProxyHost: '127.0.0.1', ProxyPort: 1 });
    const error = await deliveryFailure(handler);
    await handler.close();
    assert.equal(error.retryable, true);
  });
});

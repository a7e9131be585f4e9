/** The SSLConfig section against real TLS servers using openssl-made certificates. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_KEY_PASSWORD, testCerts } from './helpers/certs.js';
import { createHandler, deliveryFailure } from './helpers/handler.js';
import { neverAborted, sampleEvent } from './helpers/events.js';
import { startTlsReceiver, type TlsReceiver } from './helpers/tls-server.js';

describe('HttpHandler TLS', () => {
  const certs = testCerts();
  const serverPair = { cert: certs.read(certs.serverCert), key: certs.read(certs.serverKey) };
  let mutual: TlsReceiver;
  let plain: TlsReceiver;
  let selfSigned: TlsReceiver;
  let otherName: TlsReceiver;
  let tls12Only: TlsReceiver;
  before(async () => {
    mutual = await startTlsReceiver({ ...serverPair, ca: certs.read(certs.caCert), requestCert: true, rejectUnauthorized: true });
    plain = await startTlsReceiver(serverPair);
    selfSigned = await startTlsReceiver({ cert: certs.read(certs.selfSignedCert), key: certs.read(certs.selfSignedKey) });
    otherName = await startTlsReceiver({ cert: certs.read(certs.otherNameCert), key: certs.read(certs.otherNameKey) });
    tls12Only = await startTlsReceiver({ ...serverPair, maxVersion: 'TLSv1.2' });
  });
  after(async () => {
    await Promise.all([mutual, plain, selfSigned, otherName, tls12Only].map((s) => s.close()));
  });

  const ssl = (keys: Record<string, string | boolean>) =>
    `[TestSSL]\n${Object.entries({ SSLCACertificate: certs.caCert, ...keys }).map(([k, v]) => `${k}=${String(v)}`).join('\n')}\n`;
  const deliverOk = async (url: string, sslKeys: Record<string, string | boolean> | undefined) => {
    const { handler } = createHandler({ URL: url, ...(sslKeys && { SSLConfig: 'TestSSL' }) }, sslKeys ? ssl(sslKeys) : '');
    await handler.deliver(sampleEvent(), neverAborted);
    await handler.close();
  };
  const failure = async (url: string, sslKeys: Record<string, string | boolean> | undefined) => {
    const { handler } = createHandler({ URL: url, ...(sslKeys && { SSLConfig: 'TestSSL' }) }, sslKeys ? ssl(sslKeys) : '');
    try {
      return await deliveryFailure(handler);
    } finally {
      await handler.close();
    }
  };

  it('presents the client certificate, with its key decrypted by SSLPrivateKeyPassword', async () => {
    await deliverOk(mutual.url, { SSLCertificate: certs.clientCert, SSLPrivateKey: certs.clientKey, SSLPrivateKeyPassword: CLIENT_KEY_PASSWORD });
    assert.equal(mutual.seen.at(-1)?.clientCn, 'client1');
  });

  it('fails against a server that requires a client certificate when none is configured', async () => {
    await failure(mutual.url, {});
  });

  it('verifies the server certificate by default: a self-signed server fails, not retried', async () => {
    const error = await failure(selfSigned.url, undefined);
    assert.equal(error.retryable, false);
    assert.match(error.message, /SELF_SIGNED/);
  });

  it('accepts a self-signed server when SSLCheckCertificate=false', async () => {
    await deliverOk(selfSigned.url, { SSLCheckCertificate: false });
  });

  it('trusts the CA of SSLCACertificate', async () => {
    await deliverOk(plain.url, {});
  });

  it('checks the host name against the certificate unless SSLCheckCommonName=false', async () => {
    const error = await failure(otherName.url, {});
    assert.equal(error.retryable, false);
    assert.match(error.message, /ALTNAME/);
    await deliverOk(otherName.url, { SSLCheckCommonName: false });
  });

  it('pins the TLS version with SSLMethod (case-insensitive)', async () => {
    await deliverOk(plain.url, { SSLMethod: 'tlsv1.2' });
    assert.equal(plain.seen.at(-1)?.protocol, 'TLSv1.2');
    await deliverOk(plain.url, { SSLMethod: 'TLSV1.3' });
    assert.equal(plain.seen.at(-1)?.protocol, 'TLSv1.3');
  });

  it('fails without retry when the server cannot speak the pinned version', async () => {
    const error = await failure(tls12Only.url, { SSLMethod: 'TLSV1.3' });
    assert.equal(error.retryable, false);
    await deliverOk(tls12Only.url, { SSLMethod: 'Negotiate' });
    assert.equal(tls12Only.seen.at(-1)?.protocol, 'TLSv1.2');
  });

  it('uses SSLCipherList for TLS 1.2', async () => {
    await deliverOk(plain.url, { SSLMethod: 'TLSV1.2', SSLCipherList: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(plain.seen.at(-1)?.protocol, 'TLSv1.2');
  });
});

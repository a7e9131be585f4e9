/** Config problems at create(): reported at the key's file:line, never with a password in them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { ConfigProblem } from '../../../src/config/types.js';
import { httpHandlerFactory } from '../../../src/events/handlers/http/index.js';
import { CLIENT_KEY_PASSWORD, testCerts } from './helpers/certs.js';
import { httpSection, loadSection } from './helpers/config.js';
import { allText, createHandler, deliveryFailure } from './helpers/handler.js';
import { neverAborted, sampleEvent } from './helpers/events.js';

function create(text: string, start = true) {
  const loaded = loadSection(text);
  const handler = httpHandlerFactory.create(loaded.section, loaded.context, start);
  const errors = loaded.sink.problems.filter((p) => p.severity === 'error');
  return { ...loaded, handler, errors };
}

/** The 1-based line of the first `key=` in the file. */
function lineOf(file: string, key: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.toLowerCase().startsWith(`${key.toLowerCase()}=`)) + 1;
}

function errorAt(result: { errors: ConfigProblem[]; file: string }, key: string): ConfigProblem {
  const problem = result.errors.find((p) => p.key?.toLowerCase() === key.toLowerCase());
  assert.ok(problem, `an error about ${key}; got ${JSON.stringify(result.errors)}`);
  const line = lineOf(result.file, key);
  if (line > 0) assert.equal(`${problem.file}:${problem.line}`, `${result.file}:${line}`);
  return problem;
}

describe('HttpHandler configuration', () => {
  it('has the library name and default policy the engine needs', () => {
    assert.equal(httpHandlerFactory.libraryName, 'HttpHandler');
    assert.deepEqual(httpHandlerFactory.defaultPolicy, { retries: 3, retryIntervalMs: 10_000 });
  });

  it('requires URL', () => {
    const result = create(httpSection({}));
    assert.equal(result.handler, undefined);
    assert.equal(result.errors.find((p) => p.key === 'URL')?.code, 'CONFIG_MISSING');
  });

  it('accepts only http and https URLs', () => {
    for (const url of ['ftp://example.com/x', 'not a url', 'file:///etc/passwd']) {
      const result = create(httpSection({ URL: url }));
      assert.equal(result.handler, undefined, url);
      assert.equal(errorAt(result, 'URL').code, 'CONFIG_VALUE');
    }
  });

  it('refuses credentials inside the URL without repeating them', () => {
    const result = create(httpSection({ URL: 'http://user:Url-Secret-9@127.0.0.1/x' }));
    assert.equal(result.handler, undefined);
    assert.doesNotMatch(errorAt(result, 'URL').message, /Url-Secret-9/);
  });

  it('checks ProxyPort is within 1..65535 and that ProxyHost has a port', () => {
    assert.equal(errorAt(create(httpSection({ URL: 'http://127.0.0.1/', ProxyHost: 'proxy', ProxyPort: 70000 })), 'ProxyPort').code, 'CONFIG_VALUE');
    assert.equal(errorAt(create(httpSection({ URL: 'http://127.0.0.1/', ProxyHost: 'proxy', ProxyPort: 0 })), 'ProxyPort').code, 'CONFIG_VALUE');
    const noPort = create(httpSection({ URL: 'http://127.0.0.1/', ProxyHost: 'proxy' }));
    assert.equal(noPort.handler, undefined);
    assert.equal(errorAt(noPort, 'ProxyHost').code, 'CONFIG_MISSING');
  });

  it('needs NTLMUser and NTLMPassword when UseNTLMAuthentication is on', () => {
    const result = create(httpSection({ URL: 'http://127.0.0.1/', UseNTLMAuthentication: true }));
    assert.equal(result.handler, undefined);
    assert.deepEqual(result.errors.map((p) => [p.key, p.code]).sort(), [['NTLMPassword', 'CONFIG_MISSING'], ['NTLMUser', 'CONFIG_MISSING']]);
  });

  it('rejects a Timeout that is not a duration', () => {
    const result = create(httpSection({ URL: 'http://127.0.0.1/', Timeout: 'soon' }));
    assert.equal(result.handler, undefined);
    errorAt(result, 'Timeout');
  });

  it('reports an SSLConfig that names a missing section', () => {
    const result = create(httpSection({ URL: 'https://127.0.0.1/', SSLConfig: 'NoSuchSSL' }));
    assert.equal(result.handler, undefined);
    assert.equal(errorAt(result, 'SSLConfig').code, 'CONFIG_REFERENCE');
  });

  it('reports unreadable certificate, key and CA files at their lines in the SSL section', () => {
    const extra = '[TestSSL]\nSSLCertificate=/nonexistent/client.crt\nSSLPrivateKey=missing.key\nSSLCACertificate=/nonexistent/ca.crt\n';
    const result = create(httpSection({ URL: 'https://127.0.0.1/', SSLConfig: 'TestSSL' }, extra));
    assert.equal(result.handler, undefined);
    for (const key of ['SSLCertificate', 'SSLPrivateKey', 'SSLCACertificate']) {
      assert.match(errorAt(result, key).message, /ENOENT/);
    }
  });

  it('reports a key password that does not decrypt the key, without showing it', () => {
    const certs = testCerts();
    const extra = `[TestSSL]\nSSLCertificate=${certs.clientCert}\nSSLPrivateKey=${certs.clientKey}\nSSLPrivateKeyPassword=Not-The-Key-Pw\n`;
    const result = create(httpSection({ URL: 'https://127.0.0.1/', SSLConfig: 'TestSSL' }, extra));
    assert.equal(result.handler, undefined);
    assert.doesNotMatch(errorAt(result, 'SSLPrivateKeyPassword').message, /Not-The-Key-Pw/);
  });

  it('reports a certificate whose key is missing, a non-certificate CA file and an unknown SSLMethod', () => {
    const certs = testCerts();
    const extra = `[TestSSL]\nSSLCertificate=${certs.serverCert}\nSSLCACertificate=${certs.serverKey}\nSSLMethod=SSLv2\n`;
    const result = create(httpSection({ URL: 'https://127.0.0.1/', SSLConfig: 'TestSSL' }, extra));
    assert.equal(result.handler, undefined);
    errorAt(result, 'SSLCACertificate');
    errorAt(result, 'SSLMethod');
  });

  it('reports a SigningSecret with whsec_ but no base64 after it', () => {
    const result = create(httpSection({ URL: 'http://127.0.0.1/', SigningSecret: 'whsec_!!!' }));
    assert.equal(result.handler, undefined);
    assert.doesNotMatch(errorAt(result, 'SigningSecret').message, /!!!/);
  });

  it('refuses Basic and NTLM together', () => {
    const result = create(httpSection({ URL: 'http://127.0.0.1/', BasicUser: 'u', UseNTLMAuthentication: true, NTLMUser: 'u', NTLMPassword: 'p' }));
    assert.equal(result.handler, undefined);
    errorAt(result, 'BasicUser');
  });

  it('opens nothing for check-config (start=false) but still validates the files', async () => {
    const server = createServer();
    let connections = 0;
    server.on('connection', (s) => { connections++; s.destroy(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const checked = create(httpSection({ URL: `http://127.0.0.1:${port}/`, UseNTLMAuthentication: true, NTLMUser: 'u', NTLMPassword: 'p' }), false);
    assert.ok(checked.handler);
    await assert.rejects(checked.handler.deliver(sampleEvent(), neverAborted));
    await checked.handler.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(connections, 0);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const bad = create(httpSection({ URL: 'https://127.0.0.1/', SSLConfig: 'S' }, '[S]\nSSLCACertificate=/nonexistent/ca.crt\n'), false);
    assert.equal(bad.handler, undefined);
    errorAt(bad, 'SSLCACertificate');
  });
});

describe('HttpHandler secrets', () => {
  const SECRETS = ['Basic-Pw-111', 'Ntlm-Pw-222', 'Proxy-Pw-333', 'Signing-Secret-444', CLIENT_KEY_PASSWORD];

  it('never puts a password in a config problem, even when other keys are wrong', () => {
    const certs = testCerts();
    const extra = `[TestSSL]\nSSLCertificate=${certs.clientCert}\nSSLPrivateKey=${certs.serverKey}\nSSLPrivateKeyPassword=${CLIENT_KEY_PASSWORD}\nSSLCipherList=NO-SUCH-CIPHER\n`;
    const result = create(httpSection({
      URL: 'gopher://x', BasicUser: 'u', BasicPassword: 'Basic-Pw-111', UseNTLMAuthentication: 'perhaps', NTLMUser: 'u',
      NTLMPassword: 'Ntlm-Pw-222', ProxyHost: 'p', ProxyPort: 'x', ProxyPassword: 'Proxy-Pw-333', SigningSecret: 'Signing-Secret-444',
      SSLConfig: 'TestSSL', Timeout: 'x',
    }, extra));
    assert.ok(result.errors.length >= 4, JSON.stringify(result.errors));
    const text = JSON.stringify(result.sink.problems) + result.log.lines.join('\n');
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  });

  it('never puts a password in a delivery error or a log line', async () => {
    const keysets: Array<Record<string, string | number | boolean>> = [
      { URL: 'http://127.0.0.1:1/x', BasicUser: 'u', BasicPassword: 'Basic-Pw-111', SigningSecret: 'Signing-Secret-444' },
      { URL: 'http://127.0.0.1:1/x', UseNTLMAuthentication: true, NTLMUser: 'D\\u', NTLMPassword: 'Ntlm-Pw-222' },
      { URL: 'http://127.0.0.1:9/x', ProxyHost: '127.0.0.1', ProxyPort: 1, ProxyUsername: 'u', ProxyPassword: 'Proxy-Pw-333' },
    ];
    for (const keys of keysets) {
      const { handler, log } = createHandler(keys);
      const error = await deliveryFailure(handler);
      await handler.close();
      const text = allText(error) + log.lines.join('\n');
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
  });
});

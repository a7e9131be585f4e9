/**
 * The peers of the secrets test: real receivers on loopback for every HttpHandler path that uses a
 * secret (Basic accepted and refused, NTLM accepted and refused, a proxy that accepts, one that
 * refuses the credentials, one that is down, TLS with an encrypted client key against a trusted and
 * an untrusted server, request signing), and the handler sections that reach them.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { testCerts, CLIENT_KEY_PASSWORD } from '../handlers/http/helpers/certs.js';
import { startNtlmServer } from '../handlers/http/helpers/ntlm-server.js';
import { startProxy } from '../handlers/http/helpers/proxy.js';
import { startReceiver } from '../handlers/http/helpers/receiver.js';
import { startTlsReceiver } from '../handlers/http/helpers/tls-server.js';
import { freePort } from '../helpers/server.js';
import type { Secret } from './secret-scan.js';

/** Distinctive values: no test or log text contains them by chance. */
export const SECRETS = {
  basic: 'Bq7X-basic-pw-71f2e9',
  ntlm: 'Nt9Y-ntlm-pw-83c4d1',
  proxy: 'Px3Z-proxy-pw-95e6a7',
  tlsKey: 'Tk5W-tlskey-pw-27a8b3',
  signing: 'Sg2V-signing-pw-49b0c5',
  database: 'Db8U-connstr-pw-61d2f4',
  serverKey: 'Sk4T-servertls-pw-12ab9e',
  expanded: 'Ev6R-env-value-pw-33cd0a',
} as const;

export const USERS = { basic: 'alice', proxy: 'proxyuser' } as const;

export const SECRET_LIST: readonly Secret[] = [
  { name: 'BasicPassword', value: SECRETS.basic, user: USERS.basic },
  { name: 'NTLMPassword', value: SECRETS.ntlm },
  { name: 'ProxyPassword', value: SECRETS.proxy, user: USERS.proxy },
  { name: 'SSLPrivateKeyPassword (client)', value: SECRETS.tlsKey },
  { name: 'SigningSecret', value: SECRETS.signing },
  { name: 'ConnectionString password', value: SECRETS.database },
  { name: 'SSLPrivateKeyPassword (server)', value: SECRETS.serverKey },
  { name: '${ENV:} value of a plain key', value: SECRETS.expanded },
];

/** The test CA's client key again, encrypted with `passphrase`; returns its path. */
export function encryptedKey(dir: string, source: string, sourcePass: string | undefined, passphrase: string, name: string): string {
  const out = join(dir, name);
  const passin = sourcePass === undefined ? [] : ['-passin', `pass:${sourcePass}`];
  execFileSync('openssl', ['pkey', '-in', source, ...passin, '-aes256', '-passout', `pass:${passphrase}`, '-out', out], { stdio: 'pipe' });
  return out;
}

export interface Peers {
  /** Handler sections, each named in `names`. */
  readonly sections: string;
  readonly names: readonly string[];
  /** Requests the accepting peers took, to show that the good paths really were used. */
  accepted(): Record<string, number>;
  close(): Promise<void>;
}

export async function startPeers(dir: string): Promise<Peers> {
  const certs = testCerts();
  const basicHeader = `Basic ${Buffer.from(`${USERS.basic}:${SECRETS.basic}`).toString('base64')}`;
  const basic = await startReceiver((req, res) => res.writeHead(req.headers.authorization === basicHeader ? 200 : 401).end());
  const refusing = await startReceiver((_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end('bad credentials'));
  const plain = await startReceiver();
  const ntlm = await startNtlmServer({ accounts: { carol: SECRETS.ntlm, bob: 'another-password' } });
  const proxy = await startProxy(USERS.proxy, SECRETS.proxy);
  const strictProxy = await startProxy(USERS.proxy, 'another-password');
  const closedPort = await freePort();
  const tlsOk = await startTlsReceiver({ key: certs.read(certs.serverKey), cert: certs.read(certs.serverCert), ca: certs.read(certs.caCert), requestCert: true });
  const tlsUntrusted = await startTlsReceiver({ key: certs.read(certs.selfSignedKey), cert: certs.read(certs.selfSignedCert) });
  const clientKey = encryptedKey(dir, certs.clientKey, CLIENT_KEY_PASSWORD, SECRETS.tlsKey, 'client-key.pem');
  const fast = 'Retries=1\nRetryInterval=50ms\nTimeout=5';
  const http = (name: string, keys: string) => `[${name}]\nLibraryName=HttpHandler\n${fast}\n${keys}\n`;
  const sectionList: Array<[string, string]> = [
    ['BasicOk', `URL=${basic.url}\nBasicUser=${USERS.basic}\nBasicPassword=\${ENV:TOCSIN_TEST_BASIC}`],
    ['BasicRefused', `URL=${refusing.url}\nBasicUser=${USERS.basic}\nBasicPassword=\${FILE:basic-password.txt}`],
    ['NtlmOk', `URL=${ntlm.url}\nUseNTLMAuthentication=true\nNTLMUser=TESTDOM\\carol\nNTLMPassword=${SECRETS.ntlm}`],
    ['NtlmRefused', `URL=${ntlm.url}\nUseNTLMAuthentication=true\nNTLMUser=TESTDOM\\bob\nNTLMPassword=${SECRETS.ntlm}`],
    ['NtlmV1Refused', `URL=${ntlm.url}\nUseNTLMAuthentication=true\nUseNTLMv2=false\nNTLMUser=bob@testdom.test\nNTLMPassword=${SECRETS.ntlm}`],
    ['ProxyOk', `URL=${plain.url}\nProxyHost=127.0.0.1\nProxyPort=${proxy.port}\nProxyUsername=${USERS.proxy}\nProxyPassword=${SECRETS.proxy}`],
    ['ProxyRefused', `URL=${plain.url}\nProxyHost=127.0.0.1\nProxyPort=${strictProxy.port}\nProxyUsername=${USERS.proxy}\nProxyPassword=\${ENV:TOCSIN_TEST_PROXY}`],
    ['ProxyDown', `URL=${plain.url}\nProxyHost=127.0.0.1\nProxyPort=${closedPort}\nProxyUsername=${USERS.proxy}\nProxyPassword=${SECRETS.proxy}`],
    ['TlsProxyRefused', `URL=${tlsOk.url}\nSSLConfig=ClientTls\nProxyHost=127.0.0.1\nProxyPort=${strictProxy.port}\nProxyUsername=${USERS.proxy}\nProxyPassword=${SECRETS.proxy}`],
    ['TlsOk', `URL=${tlsOk.url}\nSSLConfig=ClientTls`],
    ['TlsUntrusted', `URL=${tlsUntrusted.url}\nSSLConfig=ClientTls`],
    ['Signed', `URL=${plain.url}\nSigningSecret=${SECRETS.signing}\nBasicUser=${USERS.basic}\nBasicPassword=${SECRETS.basic}`],
  ];
  const tls = `[ClientTls]\nSSLCertificate=${certs.clientCert}\nSSLPrivateKey=${clientKey}\nSSLPrivateKeyPassword=${SECRETS.tlsKey}\nSSLCACertificate=${certs.caCert}\n`;
  const closers = [basic, refusing, plain, ntlm, proxy, strictProxy, tlsOk, tlsUntrusted];
  return {
    sections: sectionList.map(([name, keys]) => http(name, keys)).join('\n') + '\n' + tls,
    names: sectionList.map(([name]) => name),
    accepted: () => ({
      basic: basic.requests.filter((r) => r.headers.authorization === basicHeader).length,
      ntlm: ntlm.accepted.length,
      proxy: proxy.seen.filter((s) => s.authorized).length,
      tls: tlsOk.seen.length,
      signed: plain.requests.filter((r) => r.headers['webhook-signature'] !== undefined).length,
    }),
    close: async () => {
      await Promise.all(closers.map((c) => c.close()));
    },
  };
}

/**
 * Test certificates made with the openssl CLI in a temp dir, once per test process: a CA, a server
 * certificate for 127.0.0.1/localhost, one for another name only, a self-signed one, and a client
 * certificate whose key is encrypted with a password.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLIENT_KEY_PASSWORD = 'KeyPass#77-secret';

export interface TestCerts {
  readonly dir: string;
  /** Paths. */
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly otherNameCert: string;
  readonly otherNameKey: string;
  readonly selfSignedCert: string;
  readonly selfSignedKey: string;
  readonly clientCert: string;
  /** Encrypted with CLIENT_KEY_PASSWORD. */
  readonly clientKey: string;
  read(path: string): Buffer;
}

let made: TestCerts | undefined;

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

/** A key + certificate signed by the CA, with the given SAN and extended key usage. */
function issue(dir: string, name: string, cn: string, ext: string, keyArgs: string[]): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, 'req', ...EC, ...keyArgs, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

export function testCerts(): TestCerts {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-http-certs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  openssl(dir, 'req', '-x509', ...EC, '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Tocsin Test CA');
  issue(dir, 'server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', ['-nodes']);
  issue(dir, 'other', 'other.example', 'subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n', ['-nodes']);
  issue(dir, 'client', 'client1', 'extendedKeyUsage=clientAuth\n', ['-passout', `pass:${CLIENT_KEY_PASSWORD}`]);
  openssl(dir, 'req', '-x509', ...EC, '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  const p = (f: string) => join(dir, f);
  made = {
    dir,
    caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'),
    otherNameCert: p('other.crt'), otherNameKey: p('other.key'),
    selfSignedCert: p('self.crt'), selfSignedKey: p('self.key'),
    clientCert: p('client.crt'), clientKey: p('client.key'),
    read: (path) => readFileSync(path),
  };
  return made;
}

/**
 * The `SSLConfig` section (idol-reference.md §6, decisions.md "Handlers") → TLS options for undici's
 * `connect` (direct) or `requestTls` (through a proxy tunnel). Files are read here, at create()
 * time, so an unreadable certificate is a config problem at its key's file:line, not a delivery
 * failure at 3 a.m.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions, type SecureVersion } from 'node:tls';
import type { SectionReader } from '../../../config/types.js';

export const SSL_METHODS = ['Negotiate', 'TLSV1.2', 'TLSV1.3'] as const;
export type SslMethod = (typeof SSL_METHODS)[number];

/** TLS settings, frozen. Passed as-is to undici, so the field names are Node's `tls.connect` ones. */
export interface TlsSettings {
  /** `SSLMethod`: `Negotiate` (default) leaves Node's range; a version pins both ends. */
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** `SSLCertificate`: client certificate (PEM). */
  readonly cert?: Buffer;
  /** `SSLPrivateKey`: its key (PEM), decrypted with `SSLPrivateKeyPassword`. */
  readonly key?: Buffer;
  readonly passphrase?: string;
  /** `SSLCACertificate`: replaces the default roots. */
  readonly ca?: Buffer;
  /** `SSLCheckCertificate` (default true). */
  readonly rejectUnauthorized: boolean;
  /** `SSLCheckCommonName=false` (default true) skips the host name check. */
  readonly checkServerIdentity?: () => undefined;
  /** `SSLCipherList`: OpenSSL cipher list for TLS ≤ 1.2. */
  readonly ciphers?: string;
}

const VERSION_OF: Record<SslMethod, SecureVersion | undefined> = {
  Negotiate: undefined,
  'TLSV1.2': 'TLSv1.2',
  'TLSV1.3': 'TLSv1.3',
};

/** Reads a file named by `key`; records an error (path and OS code, never content) on failure. */
function readKeyFile(section: SectionReader, key: string): Buffer | undefined {
  const path = section.path(key);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    section.error(key, `cannot read ${key} file ${path} (${code})`, 'CONFIG_VALUE');
    return undefined;
  }
}

function checkCertificate(section: SectionReader, key: string, pem: Buffer | undefined): Buffer | undefined {
  if (pem === undefined) return undefined;
  try {
    new X509Certificate(pem);
    return pem;
  } catch {
    section.error(key, `${key} does not hold a PEM or DER certificate`, 'CONFIG_VALUE');
    return undefined;
  }
}

/** Decrypts the key once now, so a wrong password is reported at its line, never by value. */
function checkPrivateKey(section: SectionReader, pem: Buffer | undefined, passphrase: string | undefined): Buffer | undefined {
  if (pem === undefined) return undefined;
  try {
    createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
    return pem;
  } catch {
    if (passphrase !== undefined) {
      section.error('SSLPrivateKeyPassword', 'SSLPrivateKeyPassword does not decrypt SSLPrivateKey', 'CONFIG_VALUE');
    } else {
      section.error('SSLPrivateKey', 'SSLPrivateKey is not a readable private key (if it is encrypted, set SSLPrivateKeyPassword)', 'CONFIG_VALUE');
    }
    return undefined;
  }
}

function checkCiphers(section: SectionReader, ciphers: string | undefined): string | undefined {
  if (ciphers === undefined) return undefined;
  try {
    createSecureContext({ ciphers });
    return ciphers;
  } catch {
    section.error('SSLCipherList', `SSLCipherList ${section.quoted('SSLCipherList')} names no cipher OpenSSL knows`, 'CONFIG_VALUE');
    return undefined;
  }
}

/** A certificate needs its key and the key its certificate; a mismatched pair fails every handshake. */
function checkPair(section: SectionReader, s: { cert?: Buffer; key?: Buffer; passphrase?: string }): boolean {
  if ((s.cert === undefined) === (s.key === undefined)) {
    if (s.cert === undefined) return true;
    try {
      createSecureContext({ cert: s.cert, key: s.key, ...(s.passphrase !== undefined && { passphrase: s.passphrase }) });
      return true;
    } catch {
      section.error('SSLPrivateKey', 'SSLPrivateKey does not match SSLCertificate', 'CONFIG_VALUE');
      return false;
    }
  }
  const missing = s.cert === undefined ? 'SSLCertificate' : 'SSLPrivateKey';
  section.error(missing === 'SSLCertificate' ? 'SSLPrivateKey' : 'SSLCertificate', `${missing} is needed too`, 'CONFIG_MISSING');
  return false;
}

/**
 * Reads an SSL section. Returns undefined when a check of ours failed (already recorded on
 * `section`); a value the reader itself rejects is recorded there too and falls back to its default.
 * Every key is read before returning so that one pass reports all problems.
 */
export function readTlsSettings(section: SectionReader): TlsSettings | undefined {
  const method = section.oneOf('SSLMethod', SSL_METHODS, { default: 'Negotiate' }) ?? 'Negotiate';
  const passphrase = section.secret('SSLPrivateKeyPassword');
  const checkCert = section.bool('SSLCheckCertificate', { default: true }) ?? true;
  const checkName = section.bool('SSLCheckCommonName', { default: true }) ?? true;
  const cipherText = section.string('SSLCipherList');
  const ciphers = checkCiphers(section, cipherText);
  const cert = checkCertificate(section, 'SSLCertificate', readKeyFile(section, 'SSLCertificate'));
  const key = checkPrivateKey(section, readKeyFile(section, 'SSLPrivateKey'), passphrase);
  const ca = checkCertificate(section, 'SSLCACertificate', readKeyFile(section, 'SSLCACertificate'));

  const unusable = (k: string, value: unknown) => section.has(k) && value === undefined;
  const filesOk = !unusable('SSLCertificate', cert) && !unusable('SSLPrivateKey', key) && !unusable('SSLCACertificate', ca);
  const pairOk = filesOk && checkPair(section, { ...(cert && { cert }), ...(key && { key }), ...(passphrase !== undefined && { passphrase }) });
  if (!pairOk || (cipherText !== undefined && ciphers === undefined)) return undefined;
  const version = VERSION_OF[method];
  return Object.freeze({
    ...(version && { minVersion: version, maxVersion: version }),
    ...(cert && { cert }),
    ...(key && { key }),
    ...(key && passphrase !== undefined && { passphrase }),
    ...(ca && { ca }),
    rejectUnauthorized: checkCert,
    ...(!checkName && { checkServerIdentity: () => undefined }),
    ...(ciphers !== undefined && { ciphers }),
  });
}

/** The settings as Node/undici connect options. */
export function tlsConnectOptions(settings: TlsSettings | undefined): ConnectionOptions {
  return settings === undefined ? {} : { ...settings };
}

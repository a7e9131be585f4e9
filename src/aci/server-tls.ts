/**
 * `[Server] SSLConfig`: serving the ACI port over HTTPS (decisions.md "ACI"). The section uses
 * the same key names as HttpHandler's SSLConfig.
 */
import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';
import type { ServerOptions } from 'node:https';
import { TocsinError, errorText } from '../common/errors.js';
import type { LoadedConfig } from '../config/load-settings.js';
import { readTlsSettings } from '../events/handlers/http/tls.js';

const VERSIONS: Record<string, SecureVersion | undefined> = { negotiate: undefined, 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

/**
 * Checks the `[Server] SSLConfig` section the way HttpHandler checks its own (files readable,
 * certificate and key a pair, SSLPrivateKeyPassword decrypting the key, ciphers known), recording
 * problems at their lines, so that `check-config` reports them and `serve` stops before it listens
 * (a wrong passphrase used to pass check-config and stop `serve` with OpenSSL's "bad decrypt").
 */
export function checkServerTls(loaded: LoadedConfig): void {
  const name = loaded.settings.server.sslConfig;
  if (name === undefined) return;
  const r = loaded.section(name);
  if (!r.exists) {
    loaded.section('Server').error('SSLConfig', `SSLConfig names section [${name}], which is not in the configuration`, 'CONFIG_REFERENCE');
    return;
  }
  readTlsSettings(r);
  r.finish();
}

/** The HTTPS server options of a section checkServerTls passed. */
export function readServerTls(loaded: LoadedConfig, sectionName: string): ServerOptions {
  const r = loaded.section(sectionName);
  if (!r.exists) throw new TocsinError('CONFIG_REFERENCE', `[Server] SSLConfig names the section [${sectionName}], which does not exist`);
  const read = (key: string, required: boolean): Buffer | undefined => {
    const path = r.path(key, { required });
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      const where = r.locate(key);
      throw new TocsinError('CONFIG_VALUE', `${where.file}:${where.line}: [${r.name}] ${key}: cannot read ${path}: ${errorText(e)}`);
    }
  };
  const method = r.oneOf('SSLMethod', ['Negotiate', 'TLSV1.2', 'TLSV1.3'] as const, { default: 'Negotiate' })!;
  const version = VERSIONS[method.toLowerCase()];
  const ca = read('SSLCACertificate', false);
  const options: ServerOptions = {
    cert: read('SSLCertificate', true),
    key: read('SSLPrivateKey', true),
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: r.bool('SSLCheckCertificate', { default: true })! } : {}),
    ...(version ? { minVersion: version, maxVersion: version } : {}),
  };
  const passphrase = r.secret('SSLPrivateKeyPassword');
  const ciphers = r.string('SSLCipherList');
  r.markKnown('SSLCheckCommonName');
  if (loaded.sink.hasErrors) {
    throw new TocsinError('CONFIG_INVALID', `[${r.name}] has errors (run tocsin check-config)`);
  }
  return { ...options, ...(passphrase ? { passphrase } : {}), ...(ciphers ? { ciphers } : {}) };
}

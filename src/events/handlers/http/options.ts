/**
 * An HttpHandler section → one frozen, typed options object (idol-reference.md §4.1,
 * decisions.md "Handlers"). Every IDOL key maps to one field; defaults are documented on the
 * field. Problems are recorded on the reader with the key's file:line and never carry a
 * password: secrets are read with `secret()` and named only by key in messages.
 *
 * `Retries` and `RetryInterval` are read by the event engine, not here.
 */
import type { HandlerContext } from '../../handler.js';
import type { SectionReader } from '../../../config/types.js';
import { splitNtlmUser, type NtlmVersion } from './ntlm-messages.js';
import { decodeSigningSecret } from './signing.js';
import { readTlsSettings, type TlsSettings } from './tls.js';

export interface NtlmOptions {
  readonly user: string;
  readonly domain: string;
  readonly password: string;
  /** `UseNTLMv2` (default true): true sends only NTLMv2, false only NTLMv1. */
  readonly version: NtlmVersion;
}

export interface ProxyOptions {
  /** `ProxyHost`, `ProxyPort` (1..65535, required with a host). */
  readonly host: string;
  readonly port: number;
  /** `ProxyUsername` / `ProxyPassword`: Basic credentials for the proxy. */
  readonly username?: string;
  readonly password?: string;
}

export interface HttpHandlerOptions {
  /** `URL` (required): an http or https URL, without credentials in it. */
  readonly url: string;
  /** `Timeout` (default 30 s): headers, body and the whole attempt. */
  readonly timeoutMs: number;
  /** `BasicUser` / `BasicPassword`. */
  readonly basic?: { readonly user: string; readonly password: string };
  /** Present when `UseNTLMAuthentication=true` (default false). */
  readonly ntlm?: NtlmOptions;
  readonly proxy?: ProxyOptions;
  /** From the section named by `SSLConfig`. */
  readonly tls?: TlsSettings;
  /** `SigningSecret` (`whsec_<base64>` or raw text), decoded to the HMAC key. */
  readonly signingKey?: Buffer;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Tracks whether any of our own checks failed, so create() can return undefined. */
interface Check {
  readonly section: SectionReader;
  failed: boolean;
}

function fail(check: Check, key: string, message: string, code: 'CONFIG_VALUE' | 'CONFIG_MISSING' | 'CONFIG_REFERENCE'): undefined {
  check.section.error(key, message, code);
  check.failed = true;
  return undefined;
}

/** A getter's result; a key present with a value the reader rejected counts as a failure. */
function present<T>(check: Check, key: string, value: T | undefined): T | undefined {
  if (value === undefined && (check.section.string(key) ?? '') !== '') check.failed = true;
  return value;
}

function readUrl(check: Check): string | undefined {
  const text = check.section.string('URL', { required: true });
  if (text === undefined) {
    check.failed = true;
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(check, 'URL', `URL ${check.section.quoted('URL')} is not a valid absolute URL`, 'CONFIG_VALUE');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(check, 'URL', `URL must be http or https, not ${url.protocol.slice(0, -1)}`, 'CONFIG_VALUE');
  }
  // Credentials inside the URL would end up in messages; they belong in BasicUser/BasicPassword.
  if (url.username !== '' || url.password !== '') {
    return fail(check, 'URL', 'URL must not contain credentials; use BasicUser and BasicPassword', 'CONFIG_VALUE');
  }
  return url.href;
}

function readBasic(check: Check): HttpHandlerOptions['basic'] {
  const user = check.section.string('BasicUser');
  const password = check.section.secret('BasicPassword');
  if (user === undefined) {
    if (password !== undefined) fail(check, 'BasicPassword', 'BasicPassword is set without BasicUser', 'CONFIG_MISSING');
    return undefined;
  }
  return { user, password: password ?? '' };
}

function readNtlm(check: Check): NtlmOptions | undefined {
  const { section } = check;
  const enabled = present(check, 'UseNTLMAuthentication', section.bool('UseNTLMAuthentication')) ?? false;
  const v2 = present(check, 'UseNTLMv2', section.bool('UseNTLMv2')) ?? true;
  const userText = section.string('NTLMUser');
  const password = section.secret('NTLMPassword');
  if (!enabled) return undefined;
  if (userText === undefined) fail(check, 'NTLMUser', 'UseNTLMAuthentication=true needs NTLMUser', 'CONFIG_MISSING');
  if (password === undefined) fail(check, 'NTLMPassword', 'UseNTLMAuthentication=true needs NTLMPassword', 'CONFIG_MISSING');
  if (userText === undefined || password === undefined) return undefined;
  return { ...splitNtlmUser(userText), password, version: v2 ? 'v2' : 'v1' };
}

function readProxy(check: Check): ProxyOptions | undefined {
  const { section } = check;
  const host = section.string('ProxyHost');
  const port = present(check, 'ProxyPort', section.int('ProxyPort', { min: 1, max: 65535 }));
  const username = section.string('ProxyUsername');
  const password = section.secret('ProxyPassword');
  if (password !== undefined && username === undefined) {
    fail(check, 'ProxyPassword', 'ProxyPassword is set without ProxyUsername', 'CONFIG_MISSING');
  }
  if (host === undefined) {
    if (section.has('ProxyPort')) fail(check, 'ProxyPort', 'ProxyPort is set without ProxyHost', 'CONFIG_MISSING');
    return undefined;
  }
  if (port === undefined) {
    if (!section.has('ProxyPort')) fail(check, 'ProxyHost', 'ProxyHost needs ProxyPort (1..65535)', 'CONFIG_MISSING');
    return undefined;
  }
  if (check.failed) return undefined;
  return { host, port, ...(username !== undefined && { username, password: password ?? '' }) };
}

function readTls(check: Check, context: HandlerContext): TlsSettings | undefined {
  const name = check.section.string('SSLConfig');
  if (name === undefined) return undefined;
  const ssl = context.readSection(name);
  if (ssl === undefined) return fail(check, 'SSLConfig', `SSLConfig names section [${name}], which is not in the configuration`, 'CONFIG_REFERENCE');
  const settings = readTlsSettings(ssl);
  ssl.finish();
  if (settings === undefined) check.failed = true;
  return settings;
}

function readSigning(check: Check): Buffer | undefined {
  const secret = check.section.secret('SigningSecret');
  if (secret === undefined) return undefined;
  const key = decodeSigningSecret(secret);
  if (key === undefined) return fail(check, 'SigningSecret', 'SigningSecret starts with whsec_ but the rest is not base64', 'CONFIG_VALUE');
  return key;
}

/**
 * Reads and validates the section. Returns undefined when it has errors (recorded on `section`).
 * Reads every key before deciding, so check-config reports all problems in one pass.
 */
export function readHttpHandlerOptions(section: SectionReader, context: HandlerContext): HttpHandlerOptions | undefined {
  const check: Check = { section, failed: false };
  const url = readUrl(check);
  const timeoutMs = present(check, 'Timeout', section.duration('Timeout', { bareUnit: 's' })) ?? DEFAULT_TIMEOUT_MS;
  if (timeoutMs <= 0) fail(check, 'Timeout', 'Timeout must be more than 0', 'CONFIG_VALUE');
  const basic = readBasic(check);
  const ntlm = readNtlm(check);
  const proxy = readProxy(check);
  const tls = readTls(check, context);
  const signingKey = readSigning(check);
  if (basic && ntlm) fail(check, 'BasicUser', 'BasicUser and UseNTLMAuthentication=true cannot both be used', 'CONFIG_VALUE');
  if (tls && url?.startsWith('http:')) section.warning('SSLConfig', 'SSLConfig has no effect on an http URL');
  if (check.failed || url === undefined) return undefined;
  return freezeOptions({ url, timeoutMs, basic, ntlm, proxy, tls, signingKey });
}

/** Every optional field may be passed as undefined; it is then left out. */
export type OptionFields = Pick<HttpHandlerOptions, 'url' | 'timeoutMs'> & {
  readonly [K in Exclude<keyof HttpHandlerOptions, 'url' | 'timeoutMs'>]?: HttpHandlerOptions[K] | undefined;
};

/** Drops absent fields and freezes the result and its nested objects (Buffers stay as they are). */
export function freezeOptions(fields: OptionFields): HttpHandlerOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out[k] = Buffer.isBuffer(v) || typeof v !== 'object' || v === null ? v : Object.freeze(v);
  }
  return Object.freeze(out) as unknown as HttpHandlerOptions;
}

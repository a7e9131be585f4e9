/**
 * The three NTLM messages (MS-NLMP §2.2.1): a NEGOTIATE builder, a CHALLENGE parser and an
 * AUTHENTICATE builder that answers with NTLMv2 or NTLMv1 as configured. httpntlm picks the
 * version from the server's flags and cannot be told to use one (dependencies.md §2), which is why
 * this builder exists: `UseNTLMv2=true` must never fall back to v1.
 */
import { randomBytes } from 'node:crypto';
import {
  fileTimeNow,
  lmv2Response,
  ntlmv1Responses,
  ntlmv2Response,
  ntowfv2,
  type ChallengeResponses,
} from './ntlm-crypto.js';

/** NegotiateFlags bits used here (MS-NLMP §2.2.2.5). */
export const NTLM_FLAGS = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  KEY_128: 0x20000000,
  KEY_56: 0x80000000,
} as const;

/** AvId of the MsvAvTimestamp pair (MS-NLMP §2.2.2.1). */
const AV_TIMESTAMP = 7;
const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export type NtlmVersion = 'v1' | 'v2';

export interface NtlmCredentials {
  readonly user: string;
  readonly domain: string;
  readonly password: string;
  readonly workstation: string;
}

/**
 * `DOMAIN\user` → domain and user. `user@domain` (a UPN) is sent whole as the user name with an
 * empty domain, as Windows clients send UPN credentials; a plain name has an empty domain.
 */
export function splitNtlmUser(value: string): { user: string; domain: string } {
  const slash = value.indexOf('\\');
  if (slash >= 0) return { domain: value.slice(0, slash), user: value.slice(slash + 1) };
  return { user: value, domain: '' };
}

function flagsFor(version: NtlmVersion): number {
  const base = NTLM_FLAGS.UNICODE | NTLM_FLAGS.OEM | NTLM_FLAGS.REQUEST_TARGET | NTLM_FLAGS.NTLM |
    NTLM_FLAGS.ALWAYS_SIGN | NTLM_FLAGS.KEY_128 | NTLM_FLAGS.KEY_56;
  // ESS is what servers read as "the client speaks NTLMv2"; leaving it out keeps v1 plain v1
  // rather than the NTLM2 session response (§3.3.1).
  return (version === 'v2' ? base | NTLM_FLAGS.EXTENDED_SESSIONSECURITY : base) >>> 0;
}

/** NEGOTIATE_MESSAGE (§2.2.1.1) with empty domain and workstation fields, as base64. */
export function createNegotiateMessage(version: NtlmVersion): string {
  const buf = Buffer.alloc(32);
  SIGNATURE.copy(buf, 0);
  buf.writeUInt32LE(1, 8);
  buf.writeUInt32LE(flagsFor(version), 12);
  buf.writeUInt32LE(32, 20); // DomainNameBufferOffset (length 0)
  buf.writeUInt32LE(32, 28); // WorkstationBufferOffset (length 0)
  return buf.toString('base64');
}

export interface ChallengeMessage {
  readonly flags: number;
  readonly serverChallenge: Buffer;
  readonly targetInfo: Buffer;
  /** MsvAvTimestamp from TargetInfo, when the server sent one. */
  readonly timestamp?: Buffer;
}

/** Reads a security buffer (Len, MaxLen, Offset) at `at`, checking it lies inside `buf`. */
function securityBuffer(buf: Buffer, at: number): Buffer {
  const length = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (offset + length > buf.length) throw new Error('NTLM challenge field lies outside the message');
  return buf.subarray(offset, offset + length);
}

function findAvPair(targetInfo: Buffer, id: number): Buffer | undefined {
  for (let at = 0; at + 4 <= targetInfo.length; ) {
    const avId = targetInfo.readUInt16LE(at);
    const len = targetInfo.readUInt16LE(at + 2);
    if (avId === 0) return undefined; // MsvAvEOL
    if (avId === id) return targetInfo.subarray(at + 4, at + 4 + len);
    at += 4 + len;
  }
  return undefined;
}

/** Parses a CHALLENGE_MESSAGE (§2.2.1.2) given as base64. Throws on anything malformed. */
export function parseChallengeMessage(base64: string): ChallengeMessage {
  const buf = Buffer.from(base64, 'base64');
  if (buf.length < 32 || !buf.subarray(0, 8).equals(SIGNATURE) || buf.readUInt32LE(8) !== 2) {
    throw new Error('the server did not send an NTLM challenge message');
  }
  const flags = buf.readUInt32LE(20);
  const serverChallenge = Buffer.from(buf.subarray(24, 32));
  const hasInfo = buf.length >= 48 && (flags & NTLM_FLAGS.TARGET_INFO) !== 0;
  const targetInfo = hasInfo ? Buffer.from(securityBuffer(buf, 40)) : Buffer.alloc(0);
  const timestamp = findAvPair(targetInfo, AV_TIMESTAMP);
  return timestamp?.length === 8 ? { flags, serverChallenge, targetInfo, timestamp } : { flags, serverChallenge, targetInfo };
}

export interface AuthenticateOptions {
  readonly version: NtlmVersion;
  readonly credentials: NtlmCredentials;
  /** Fixed only by tests (the §4.2.4 vectors); random otherwise. */
  readonly clientChallenge?: Uint8Array;
  /** FILETIME to use when the server sent no MsvAvTimestamp. */
  readonly timestamp?: Uint8Array;
}

function responsesFor(challenge: ChallengeMessage, options: AuthenticateOptions): ChallengeResponses {
  const { user, domain, password } = options.credentials;
  if (options.version === 'v1') return ntlmv1Responses(password, challenge.serverChallenge);
  const responseKey = ntowfv2(password, user, domain);
  const clientChallenge = options.clientChallenge ?? randomBytes(8);
  const timestamp = challenge.timestamp ?? options.timestamp ?? fileTimeNow();
  const { nt } = ntlmv2Response({ responseKey, serverChallenge: challenge.serverChallenge, clientChallenge, timestamp, targetInfo: challenge.targetInfo });
  // §3.1.5.1.2: with an MsvAvTimestamp from the server the client sends Z(24) as the LM response.
  const lm = challenge.timestamp ? Buffer.alloc(24) : lmv2Response(responseKey, challenge.serverChallenge, clientChallenge);
  return { lm, nt };
}

/** AUTHENTICATE_MESSAGE (§2.2.1.3) without Version or MIC, as base64. */
export function createAuthenticateMessage(challenge: ChallengeMessage, options: AuthenticateOptions): string {
  const { lm, nt } = responsesFor(challenge, options);
  const unicode = (challenge.flags & NTLM_FLAGS.UNICODE) !== 0;
  const text = (s: string) => Buffer.from(s, unicode ? 'utf16le' : 'latin1');
  const { user, domain, workstation } = options.credentials;
  // Payload order follows the header order; the session key field stays empty (no signing/sealing).
  const fields = [lm, nt, text(domain), text(user), text(workstation), Buffer.alloc(0)];
  const header = Buffer.alloc(64);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  let offset = header.length;
  fields.forEach((field, i) => {
    header.writeUInt16LE(field.length, 12 + i * 8);
    header.writeUInt16LE(field.length, 14 + i * 8);
    header.writeUInt32LE(offset, 16 + i * 8);
    offset += field.length;
  });
  // The flags both sides agreed on, with exactly one character set (§3.1.5.1.2).
  const charset = NTLM_FLAGS.UNICODE | NTLM_FLAGS.OEM;
  const agreed = flagsFor(options.version) & challenge.flags & ~charset;
  header.writeUInt32LE((agreed | NTLM_FLAGS.NTLM | (unicode ? NTLM_FLAGS.UNICODE : NTLM_FLAGS.OEM)) >>> 0, 60);
  return Buffer.concat([header, ...fields]).toString('base64');
}

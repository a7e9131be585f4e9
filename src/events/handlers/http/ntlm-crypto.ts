/**
 * NTLM one-way functions and challenge responses, as MS-NLMP §3.3 defines them.
 *
 * Node 20's OpenSSL 3 has no MD4 or DES in its default provider (`createHash('md4')` and
 * `des-ecb` fail with ERR_OSSL_EVP_UNSUPPORTED, shared/notes/dependencies.md §2), so MD4 comes
 * from js-md4 and DES from des.js; HMAC-MD5 and MD5 still work in node:crypto.
 * Every function here is checked against the MS-NLMP §4.2.2 / §4.2.4 test vectors.
 */
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';

// Both packages are CommonJS without type declarations: give them the narrow shape we use.
const require = createRequire(import.meta.url);
const jsMd4 = require('js-md4') as { arrayBuffer(message: Uint8Array): ArrayBuffer };
const desJs = require('des.js') as {
  DES: { create(options: { type: 'encrypt'; key: Uint8Array; padding?: boolean }): { update(data: Uint8Array): number[] } };
};

/** "KGS!@#$%", the constant LMOWFv1 encrypts (MS-NLMP §3.3.1). */
const LM_MAGIC = Buffer.from('KGS!@#$%', 'latin1');

export function md4(data: Uint8Array): Buffer {
  return Buffer.from(jsMd4.arrayBuffer(data));
}

export function hmacMd5(key: Uint8Array, ...data: Uint8Array[]): Buffer {
  const hmac = createHmac('md5', key);
  for (const part of data) hmac.update(part);
  return hmac.digest();
}

/**
 * Spreads 7 key bytes over 8 (the low bit of each byte is DES parity, ignored), the
 * "str_to_key" step that DES() in MS-NLMP §6 leaves to the reader.
 */
function expandDesKey(key7: Uint8Array): Buffer {
  const out = Buffer.alloc(8);
  out[0] = key7[0]!;
  for (let i = 1; i < 7; i++) out[i] = ((key7[i - 1]! << (8 - i)) | (key7[i]! >> i)) & 0xff;
  out[7] = (key7[6]! << 1) & 0xff;
  return out;
}

/** DES-ECB of one 8-byte block under a 7-byte key. */
export function des(key7: Uint8Array, block: Uint8Array): Buffer {
  const cipher = desJs.DES.create({ type: 'encrypt', key: expandDesKey(key7), padding: false });
  return Buffer.from(cipher.update(block));
}

/** DESL(K, D) of MS-NLMP §6: the 16-byte key padded to 21 bytes, three DES blocks of D. */
export function desl(key16: Uint8Array, data: Uint8Array): Buffer {
  const key = Buffer.concat([key16, Buffer.alloc(5)]);
  return Buffer.concat([des(key.subarray(0, 7), data), des(key.subarray(7, 14), data), des(key.subarray(14, 21), data)]);
}

/** NTOWFv1 = MD4(UNICODE(Passwd)) (MS-NLMP §3.3.1). */
export function ntowfv1(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/**
 * LMOWFv1 (MS-NLMP §3.3.1): the upper-cased OEM password, 14 bytes, each half the key of a DES
 * of "KGS!@#$%". Returns undefined for passwords over 14 characters, which have no LM hash.
 */
export function lmowfv1(password: string): Buffer | undefined {
  const oem = Buffer.from(password.toUpperCase(), 'latin1');
  if (oem.length > 14) return undefined;
  const key = Buffer.concat([oem, Buffer.alloc(14 - oem.length)]);
  return Buffer.concat([des(key.subarray(0, 7), LM_MAGIC), des(key.subarray(7, 14), LM_MAGIC)]);
}

/** NTOWFv2 = HMAC_MD5(NTOWFv1, UNICODE(Uppercase(User) ‖ UserDom)) (MS-NLMP §3.3.2). LMOWFv2 is the same. */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(ntowfv1(password), Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

export interface ChallengeResponses {
  readonly lm: Buffer;
  readonly nt: Buffer;
}

/**
 * NTLMv1 without extended session security (MS-NLMP §3.3.1): DESL of the server challenge under
 * each hash. A password without an LM hash repeats the NT response as the LM one, as the
 * NoLMResponseNTLMv1 branch of §3.3.1 does.
 */
export function ntlmv1Responses(password: string, serverChallenge: Uint8Array): ChallengeResponses {
  const nt = desl(ntowfv1(password), serverChallenge);
  const lmKey = lmowfv1(password);
  return { nt, lm: lmKey === undefined ? nt : desl(lmKey, serverChallenge) };
}

/** The NTLMv2 `temp` blob of MS-NLMP §3.3.2 (NTLMv2_CLIENT_CHALLENGE, §2.2.2.7). */
export function ntlmv2Blob(timestamp: Uint8Array, clientChallenge: Uint8Array, targetInfo: Uint8Array): Buffer {
  const head = Buffer.alloc(28);
  head[0] = 1; // RespType
  head[1] = 1; // HiRespType
  Buffer.from(timestamp).copy(head, 8);
  Buffer.from(clientChallenge).copy(head, 16);
  return Buffer.concat([head, targetInfo, Buffer.alloc(4)]);
}

export interface NtlmV2Input {
  readonly responseKey: Buffer;
  readonly serverChallenge: Uint8Array;
  readonly clientChallenge: Uint8Array;
  /** FILETIME, 8 bytes little-endian. */
  readonly timestamp: Uint8Array;
  readonly targetInfo: Uint8Array;
}

/** NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge ‖ temp); NT response = NTProofStr ‖ temp. */
export function ntlmv2Response(input: NtlmV2Input): { ntProofStr: Buffer; nt: Buffer } {
  const blob = ntlmv2Blob(input.timestamp, input.clientChallenge, input.targetInfo);
  const ntProofStr = hmacMd5(input.responseKey, input.serverChallenge, blob);
  return { ntProofStr, nt: Buffer.concat([ntProofStr, blob]) };
}

/** LMv2 = HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge (§3.3.2). */
export function lmv2Response(responseKey: Buffer, serverChallenge: Uint8Array, clientChallenge: Uint8Array): Buffer {
  return Buffer.concat([hmacMd5(responseKey, serverChallenge, clientChallenge), clientChallenge]);
}

/** The NTLM2 session-response challenge (NTLMv1 with ESS, §3.3.1): MD5(server ‖ client)[0..8]. */
export function essChallenge(serverChallenge: Uint8Array, clientChallenge: Uint8Array): Buffer {
  return createHash('md5').update(serverChallenge).update(clientChallenge).digest().subarray(0, 8);
}

/** Now as a Windows FILETIME: 100 ns ticks since 1601-01-01, 8 bytes little-endian. */
export function fileTimeNow(nowMs: number = Date.now()): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE((BigInt(nowMs) + 11_644_473_600_000n) * 10_000n);
  return out;
}

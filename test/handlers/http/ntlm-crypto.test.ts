/** Every NTLM primitive against the MS-NLMP §4.2 test vectors (User / Domain / Password). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  desl,
  lmowfv1,
  lmv2Response,
  ntlmv1Responses,
  ntlmv2Blob,
  ntlmv2Response,
  ntowfv1,
  ntowfv2,
  hmacMd5,
  md4,
  fileTimeNow,
} from '../../../src/events/handlers/http/ntlm-crypto.js';
import { createAuthenticateMessage, parseChallengeMessage } from '../../../src/events/handlers/http/ntlm-messages.js';
import { parseType3 } from './helpers/ntlm-server.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// §4.2.1 common values.
const SERVER_CHALLENGE = hex('0123456789abcdef');
const CLIENT_CHALLENGE = hex('aaaaaaaaaaaaaaaa');
const TIME = Buffer.alloc(8);
// §4.2.4.1.3: AV pairs MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL.
const TARGET_INFO = hex('02000c0044006f006d00610069006e00 01000c005300650072007600650072000000 0000');

describe('NTLM primitives (MS-NLMP §4.2)', () => {
  it('MD4 matches RFC 1320 for "abc"', () => {
    assert.equal(md4(Buffer.from('abc')).toString('hex'), 'a448017aaf21d8525fc10ae87aa6729d');
  });

  it('NTOWFv1 of "Password" is the §4.2.2.1.2 value', () => {
    assert.equal(ntowfv1('Password').toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
  });

  it('LMOWFv1 of "Password" is the §4.2.2.1.1 value', () => {
    assert.equal(lmowfv1('Password')?.toString('hex'), 'e52cac67419a9a224a3b108f3fa6cb6d');
  });

  it('LMOWFv1 does not exist for passwords longer than 14 characters', () => {
    assert.equal(lmowfv1('a-very-long-password'), undefined);
  });

  it('the NTLMv1 response is the §4.2.2.2.1 value', () => {
    assert.equal(ntlmv1Responses('Password', SERVER_CHALLENGE).nt.toString('hex'), '67c43011f30298a2ad35ece64f16331c44bdbed927841f94');
  });

  it('the LMv1 response is the §4.2.2.2.2 value', () => {
    assert.equal(ntlmv1Responses('Password', SERVER_CHALLENGE).lm.toString('hex'), '98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13');
  });

  it('the NTLMv1 session base key MD4(NTOWFv1) is the §4.2.2.1.3 value', () => {
    assert.equal(md4(ntowfv1('Password')).toString('hex'), 'd87262b0cde4b1cb7499becccdf10784');
  });

  it('NTOWFv2 of User/Domain/Password is the §4.2.4.1.1 value', () => {
    assert.equal(ntowfv2('Password', 'User', 'Domain').toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('the LMv2 response is the §4.2.4.2.1 value', () => {
    const key = ntowfv2('Password', 'User', 'Domain');
    assert.equal(lmv2Response(key, SERVER_CHALLENGE, CLIENT_CHALLENGE).toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  });

  it('NTProofStr is the §4.2.4.2.2 value, and the session base key follows from it', () => {
    const responseKey = ntowfv2('Password', 'User', 'Domain');
    const { ntProofStr, nt } = ntlmv2Response({ responseKey, serverChallenge: SERVER_CHALLENGE, clientChallenge: CLIENT_CHALLENGE, timestamp: TIME, targetInfo: TARGET_INFO });
    assert.equal(ntProofStr.toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c');
    assert.equal(hmacMd5(responseKey, ntProofStr).toString('hex'), '8de40ccadbc14a82f15cb0ad0de95ca3');
    assert.deepEqual(nt.subarray(16), ntlmv2Blob(TIME, CLIENT_CHALLENGE, TARGET_INFO));
  });

  it('DESL pads the key to 21 bytes and encrypts the data three times', () => {
    assert.equal(desl(ntowfv1('Password'), SERVER_CHALLENGE).length, 24);
  });

  it('FILETIME counts 100 ns ticks from 1601', () => {
    assert.equal(fileTimeNow(0).readBigUInt64LE(), 116_444_736_000_000_000n);
  });
});

describe('AUTHENTICATE message with the §4.2.4 inputs', () => {
  // §4.2.4.2 CHALLENGE flags 0xe28a8233 with the TargetInfo above.
  const challengeMessage = () => {
    const head = Buffer.alloc(48);
    head.write('NTLMSSP\0', 0, 'latin1');
    head.writeUInt32LE(2, 8);
    head.writeUInt32LE(48, 16);
    head.writeUInt32LE(0xe28a8233, 20);
    SERVER_CHALLENGE.copy(head, 24);
    head.writeUInt16LE(TARGET_INFO.length, 40);
    head.writeUInt16LE(TARGET_INFO.length, 42);
    head.writeUInt32LE(48, 44);
    return Buffer.concat([head, TARGET_INFO]).toString('base64');
  };

  it('carries the §4.2.4.2.1 LMv2 response and the §4.2.4.2.2 NTProofStr', () => {
    const challenge = parseChallengeMessage(challengeMessage());
    assert.deepEqual(challenge.serverChallenge, SERVER_CHALLENGE);
    assert.deepEqual(challenge.targetInfo, TARGET_INFO);
    const message = createAuthenticateMessage(challenge, {
      version: 'v2',
      credentials: { user: 'User', domain: 'Domain', password: 'Password', workstation: 'COMPUTER' },
      clientChallenge: CLIENT_CHALLENGE,
      timestamp: TIME,
    });
    const t3 = parseType3(message);
    assert.equal(t3.lm.toString('hex'), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    assert.equal(t3.nt.subarray(0, 16).toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c');
    assert.equal(t3.user, 'User');
    assert.equal(t3.domain, 'Domain');
  });

  it('carries the §4.2.2 NTLMv1 and LMv1 responses when v1 is forced, even though the server offers v2', () => {
    const challenge = parseChallengeMessage(challengeMessage());
    const t3 = parseType3(createAuthenticateMessage(challenge, {
      version: 'v1',
      credentials: { user: 'User', domain: 'Domain', password: 'Password', workstation: 'COMPUTER' },
    }));
    assert.equal(t3.nt.toString('hex'), '67c43011f30298a2ad35ece64f16331c44bdbed927841f94');
    assert.equal(t3.lm.toString('hex'), '98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13');
  });
});

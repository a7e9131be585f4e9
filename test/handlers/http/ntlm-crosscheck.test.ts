/**
 * Our NTLM messages and test-server verifier against an independent implementation: httpntlm's
 * `ntlm.js` (cross-check only; the handler does not use it, it cannot force v1 or v2).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { createAuthenticateMessage, parseChallengeMessage } from '../../../src/events/handlers/http/ntlm-messages.js';
import { createChallengeMessage, parseType3, startNtlmServer, verifyType3 } from './helpers/ntlm-server.js';

interface HttpNtlmType2 { serverChallenge: Buffer; targetInfo?: Buffer; negotiateFlags: number }
const require = createRequire(import.meta.url);
const ntlm = require('httpntlm/ntlm.js') as {
  parseType2Message(raw: string, callback: (e: Error) => void): HttpNtlmType2 | null;
  createType3Message(msg2: HttpNtlmType2, options: { username: string; password: string; domain: string; workstation: string }): string;
};
const httpntlm = require('httpntlm') as {
  post(options: Record<string, unknown>, callback: (err: Error | null, res: { statusCode: number; body: string }) => void): void;
};

const PASSWORD = 'Secret1!';
const credentials = { user: 'alice', domain: 'TESTDOM', password: PASSWORD, workstation: 'WS1' };
const noError = (e: Error) => assert.fail(e);

describe('NTLM cross-check with httpntlm', () => {
  it('httpntlm parses our test server challenge the same way our parser does', () => {
    const challenge = randomBytes(8);
    const message = createChallengeMessage(challenge, true).toString('base64');
    const theirs = ntlm.parseType2Message(`NTLM ${message}`, noError)!;
    const ours = parseChallengeMessage(message);
    assert.deepEqual(Buffer.from(theirs.serverChallenge), ours.serverChallenge);
    assert.deepEqual(Buffer.from(theirs.targetInfo!), ours.targetInfo);
    assert.equal(theirs.negotiateFlags >>> 0, ours.flags);
  });

  it('our verifier accepts httpntlm NTLMv2 answers and rejects them for a wrong password', () => {
    const challenge = randomBytes(8);
    const msg2 = ntlm.parseType2Message(`NTLM ${createChallengeMessage(challenge, true).toString('base64')}`, noError)!;
    const t3 = parseType3(ntlm.createType3Message(msg2, { username: 'alice', password: PASSWORD, domain: 'TESTDOM', workstation: 'WS1' }).slice(5));
    assert.equal(verifyType3(t3, challenge, PASSWORD), 'NTLMv2');
    assert.equal(verifyType3(t3, challenge, 'wrong'), false);
  });

  it('our verifier accepts httpntlm NTLMv1 answers to a challenge without extended security', () => {
    const challenge = randomBytes(8);
    const msg2 = ntlm.parseType2Message(`NTLM ${createChallengeMessage(challenge, false).toString('base64')}`, noError)!;
    const t3 = parseType3(ntlm.createType3Message(msg2, { username: 'alice', password: PASSWORD, domain: 'TESTDOM', workstation: 'WS1' }).slice(5));
    assert.equal(verifyType3(t3, challenge, PASSWORD), 'NTLMv1');
  });

  it('our NTLMv1 responses are byte-identical to httpntlm ones', () => {
    const challenge = randomBytes(8);
    const text = createChallengeMessage(challenge, false).toString('base64');
    const theirs = parseType3(ntlm.createType3Message(ntlm.parseType2Message(`NTLM ${text}`, noError)!, { username: 'alice', password: PASSWORD, domain: 'TESTDOM', workstation: 'WS1' }).slice(5));
    const ours = parseType3(createAuthenticateMessage(parseChallengeMessage(text), { version: 'v1', credentials }));
    assert.deepEqual(ours.nt, theirs.nt);
    assert.deepEqual(ours.lm, theirs.lm);
  });

  it('our NTLMv2 answer verifies, and v2 is sent even to a server that offers no extended security', () => {
    const challenge = randomBytes(8);
    for (const ess of [true, false]) {
      const t3 = parseType3(createAuthenticateMessage(parseChallengeMessage(createChallengeMessage(challenge, ess).toString('base64')), { version: 'v2', credentials }));
      assert.equal(verifyType3(t3, challenge, PASSWORD), 'NTLMv2');
    }
  });

  it('httpntlm as a client authenticates against our NTLM test server, and fails with a wrong password', async () => {
    const server = await startNtlmServer({ accounts: { alice: PASSWORD } });
    try {
      const post = (password: string) => new Promise<number>((resolve, reject) => {
        httpntlm.post({ url: server.url, username: 'alice', password, domain: 'TESTDOM', workstation: 'WS1', body: '<x/>' },
          (err, res) => (err ? reject(err) : resolve(res.statusCode)));
      });
      assert.equal(await post(PASSWORD), 200);
      assert.equal(await post('wrong'), 401);
      assert.equal(server.accepted[0]?.result, 'NTLMv2');
    } finally {
      await server.close();
    }
  });
});

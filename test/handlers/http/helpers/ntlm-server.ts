/**
 * An NTLM-protected receiver: issues a real CHALLENGE per socket (MS-NLMP §3.2.5.1.1) and checks
 * each AUTHENTICATE against the account's password with our own primitives (the verifier of
 * shared/notes/dependencies.md §2). No package does this: express-ntlm without a domain
 * controller accepts any answer.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { desl, essChallenge, hmacMd5, ntowfv1, ntowfv2 } from '../../../../src/events/handlers/http/ntlm-crypto.js';
import { NTLM_FLAGS } from '../../../../src/events/handlers/http/ntlm-messages.js';
import { closeServer, listen, readBody } from './receiver.js';

export type NtlmResult = 'NTLMv2' | 'NTLMv1' | 'NTLMv1-ESS' | false;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const utf16 = (s: string) => Buffer.from(s, 'utf16le');

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** AV pairs 2 (NetBIOS domain), 1 (NetBIOS computer), 4, 3 (DNS), then MsvAvEOL. */
export function targetInfo(domain = 'TESTDOM', computer = 'TESTSRV'): Buffer {
  return Buffer.concat([
    avPair(2, utf16(domain)), avPair(1, utf16(computer)),
    avPair(4, utf16(`${domain.toLowerCase()}.test`)), avPair(3, utf16(`${computer.toLowerCase()}.test`)),
    Buffer.alloc(4),
  ]);
}

/** CHALLENGE_MESSAGE (§2.2.1.2). `ess` grants extended session security and sends TargetInfo. */
export function createChallengeMessage(serverChallenge: Buffer, ess: boolean, domain = 'TESTDOM'): Buffer {
  const name = utf16(domain);
  const info = ess ? targetInfo(domain) : Buffer.alloc(0);
  let flags = NTLM_FLAGS.UNICODE | NTLM_FLAGS.REQUEST_TARGET | NTLM_FLAGS.NTLM | NTLM_FLAGS.ALWAYS_SIGN |
    0x00010000 /* TARGET_TYPE_DOMAIN */ | NTLM_FLAGS.KEY_128 | NTLM_FLAGS.KEY_56;
  if (ess) flags |= NTLM_FLAGS.EXTENDED_SESSIONSECURITY | NTLM_FLAGS.TARGET_INFO;
  const head = Buffer.alloc(48);
  SIGNATURE.copy(head, 0);
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(name.length, 12);
  head.writeUInt16LE(name.length, 14);
  head.writeUInt32LE(48, 16);
  head.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(head, 24);
  head.writeUInt16LE(info.length, 40);
  head.writeUInt16LE(info.length, 42);
  head.writeUInt32LE(48 + name.length, 44);
  return Buffer.concat([head, name, info]);
}

export interface Type3 {
  readonly lm: Buffer;
  readonly nt: Buffer;
  readonly domain: string;
  readonly user: string;
  readonly flags: number;
}

const field = (b: Buffer, at: number) => b.subarray(b.readUInt32LE(at + 4), b.readUInt32LE(at + 4) + b.readUInt16LE(at));

export function parseType3(base64: string): Type3 {
  const b = Buffer.from(base64, 'base64');
  if (!b.subarray(0, 8).equals(SIGNATURE) || b.readUInt32LE(8) !== 3) throw new Error('not a type-3 message');
  const flags = b.readUInt32LE(60);
  const text = (x: Buffer) => x.toString(flags & NTLM_FLAGS.UNICODE ? 'utf16le' : 'latin1');
  return { lm: field(b, 12), nt: field(b, 20), domain: text(field(b, 28)), user: text(field(b, 36)), flags };
}

/** Which response type proves knowledge of `password`, or false. */
export function verifyType3(t3: Type3, serverChallenge: Buffer, password: string): NtlmResult {
  if (t3.nt.length > 24) {
    const proof = hmacMd5(ntowfv2(password, t3.user, t3.domain), serverChallenge, t3.nt.subarray(16));
    return proof.equals(t3.nt.subarray(0, 16)) && 'NTLMv2';
  }
  if (desl(ntowfv1(password), serverChallenge).equals(t3.nt)) return 'NTLMv1';
  return desl(ntowfv1(password), essChallenge(serverChallenge, t3.lm.subarray(0, 8))).equals(t3.nt) && 'NTLMv1-ESS';
}

export interface NtlmServerOptions {
  /** Accounts by user name (case-insensitive); a UPN `user@domain` is looked up as `user`. */
  readonly accounts: Record<string, string>;
  /** Refuse anything but NTLMv2, as a hardened Windows server does (LmCompatibilityLevel 5). */
  readonly requireV2?: boolean;
  /** Serve https with this certificate. */
  readonly tls?: ServerOptions;
}

export interface Authenticated {
  readonly result: NtlmResult;
  readonly user: string;
  readonly domain: string;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface NtlmServer {
  readonly url: string;
  readonly port: number;
  readonly accepted: Authenticated[];
  readonly refused: number;
  readonly server: Server;
  close(): Promise<void>;
}

function lookup(accounts: Record<string, string>, user: string): string | undefined {
  const name = user.split('@')[0]!.toLowerCase();
  const key = Object.keys(accounts).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : accounts[key];
}

export async function startNtlmServer(options: NtlmServerOptions): Promise<NtlmServer> {
  const challenges = new WeakMap<Socket, Buffer>();
  const accepted: Authenticated[] = [];
  let refused = 0;
  const listener: RequestListener = async (req, res) => {
    const body = (await readBody(req)).toString('utf8');
    const auth = /^NTLM (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const message = auth === undefined ? undefined : Buffer.from(auth, 'base64');
    if (message === undefined || message.readUInt32LE(8) === 1) {
      const ess = message !== undefined && (message.readUInt32LE(12) & NTLM_FLAGS.EXTENDED_SESSIONSECURITY) !== 0;
      const challenge = randomBytes(8);
      challenges.set(req.socket, challenge);
      res.writeHead(401, { 'www-authenticate': message ? `NTLM ${createChallengeMessage(challenge, ess).toString('base64')}` : 'NTLM' });
      return res.end();
    }
    const t3 = parseType3(auth!);
    const challenge = challenges.get(req.socket);
    challenges.delete(req.socket);
    const password = lookup(options.accounts, t3.user);
    const result = challenge && password !== undefined ? verifyType3(t3, challenge, password) : false;
    if (!result || (options.requireV2 && result !== 'NTLMv2')) {
      refused++;
      res.writeHead(401, { 'www-authenticate': 'NTLM' });
      return res.end();
    }
    accepted.push({ result, user: t3.user, domain: t3.domain, body, headers: req.headers });
    res.end(`NTLM ok ${result}`);
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
  const port = await listen(server);
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/ntlm`, port, accepted, server,
    get refused() { return refused; },
    close: () => closeServer(server),
  };
}

/**
 * `[Server] HeaderTimeout` and `RequestTimeout` against real sockets: a client that sends its
 * headers (or its body) a few bytes at a time, slowloris style, gets `408 Request Timeout` and a
 * closed connection once the configured limit has passed, while one that sends in time is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { loadSettings } from '../../src/config/load-settings.js';
import { getXml } from '../helpers/aci.js';
import { tempDir, withServer, writeConfig } from '../helpers/server.js';

interface SlowResult {
  /** What the server wrote before it closed the connection. */
  readonly answer: string;
  /** From the first byte sent to the connection's close. */
  readonly ms: number;
  /** Bytes the client had sent when the connection closed. */
  readonly sent: number;
}

interface Pace {
  /** Bytes of the first write (default `chunk`). */
  readonly first?: number;
  /** Bytes of every later write, one every `everyMs`. */
  readonly chunk: number;
  readonly everyMs: number;
}

/**
 * Sends `text` at `pace`, and keeps going (more bytes of a header that never ends, if need be)
 * until the server closes the connection: what the test sees is the server's doing, observed, not
 * the absence of an answer after a sleep.
 */
function sendSlowly(port: number, text: string, pace: Pace): Promise<SlowResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const next = (): void => {
      if (socket.destroyed || !socket.writable) return;
      const size = sent === 0 ? (pace.first ?? pace.chunk) : pace.chunk;
      const piece = sent < text.length ? text.slice(sent, sent + size) : 'X'.repeat(size);
      socket.write(piece);
      sent += piece.length;
      timer = setTimeout(next, pace.everyMs);
    };
    socket.on('connect', () => {
      started = performance.now();
      next();
    });
    socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
    socket.on('error', () => {}); // a reset after the 408 is fine: 'close' follows
    socket.on('close', () => {
      clearTimeout(timer);
      if (started === 0) reject(new Error('never connected'));
      else resolve({ answer, ms: performance.now() - started, sent });
    });
  });
}

const CONFIG = (keys: string) => `[Server]\n${keys}\n\n[Actions]\nEnableTestActions=true\n`;

test('headers sent a byte at a time get 408 and a closed connection once HeaderTimeout has passed', { timeout: 20_000 }, () =>
  withServer({ config: CONFIG('HeaderTimeout=400ms\nRequestTimeout=5s') }, async (s) => {
    const request = `GET /action=GetVersion HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(200)}\r\n\r\n`;
    const slow = await sendSlowly(s.server.port, request, { chunk: 1, everyMs: 20 });
    assert.match(slow.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    // The body is an ACI error naming the limits (http-guards.ts).
    assert.match(slow.answer, /<errorcode>ERRORREQUESTTIMEOUT<\/errorcode>/);
    assert.match(slow.answer, /HeaderTimeout=400 ms/);
    assert.ok(slow.sent < request.length, 'the headers were still coming');
    assert.ok(slow.ms >= 380, `closed after ${Math.round(slow.ms)} ms, before HeaderTimeout`);
    // Node's own limits (60 s, checked every 30 s) held such a client for ~87 s.
    assert.ok(slow.ms < 2500, `closed after ${Math.round(slow.ms)} ms`);
    // The server still serves everyone else.
    assert.equal((await getXml(s.url, '/action=GetVersion'))['response'], 'SUCCESS');
  }));

test('a body sent a byte at a time gets 408 once RequestTimeout has passed, however fast its headers came', { timeout: 20_000 }, () =>
  withServer({ config: CONFIG('HeaderTimeout=300ms\nRequestTimeout=1s') }, async (s) => {
    const body = `action=GetVersion&Padding=${'b'.repeat(500)}`;
    const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`;
    // The headers arrive whole in the first write; then 2 bytes every 20 ms.
    const slow = await sendSlowly(s.server.port, head + body, { first: head.length, chunk: 2, everyMs: 20 });
    assert.match(slow.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(slow.sent < head.length + body.length, 'the body was still coming');
    assert.ok(slow.ms >= 950 && slow.ms < 3500, `closed after ${Math.round(slow.ms)} ms`);
  }));

test('a request sent in pieces but within the limits is answered', { timeout: 20_000 }, () =>
  withServer({ config: CONFIG('HeaderTimeout=2s\nRequestTimeout=3s') }, async (s) => {
    const request = 'GET /action=GetVersion HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    const slow = await sendSlowly(s.server.port, request, { chunk: 8, everyMs: 20 });
    assert.match(slow.answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(slow.answer, /<response>SUCCESS<\/response>/);
  }));

test('HeaderTimeout defaults to 5s and RequestTimeout to 60s; a header limit past the request limit is a config error', () => {
  const dir = tempDir();
  const defaults = loadSettings(writeConfig(dir, '[Server]\nPort=0\n', 'defaults.cfg'));
  assert.equal(defaults.settings.server.headerTimeoutMs, 5000);
  assert.equal(defaults.settings.server.requestTimeoutMs, 60_000);
  const set = loadSettings(writeConfig(dir, '[Server]\nHeaderTimeout=2\nRequestTimeout=2m\n', 'set.cfg'));
  assert.deepEqual([set.settings.server.headerTimeoutMs, set.settings.server.requestTimeoutMs], [2000, 120_000]);
  assert.equal(set.sink.problems.length, 0);
  const bad = loadSettings(writeConfig(dir, '[Server]\nHeaderTimeout=30s\nRequestTimeout=10s\n', 'bad.cfg'));
  const problem = bad.sink.problems.find((p) => p.key === 'HeaderTimeout');
  assert.equal(problem?.severity, 'error');
  assert.equal(problem?.line, 2);
  assert.match(problem?.message ?? '', /must not be longer than RequestTimeout/);
});

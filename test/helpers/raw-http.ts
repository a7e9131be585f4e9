/**
 * HTTP/1.1 by hand over a real socket: tests that send what no client library would (a head past
 * the size limit, 101 headers, bytes that are not HTTP, raw non-UTF-8 in a query) and read exactly
 * what the server answered. One keep-alive connection serves many requests; when the server
 * closes it, the next request opens another.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Parses one response off the front of `data`; undefined until it is all there. */
function parseResponse(data: Buffer): { response: RawResponse; used: number } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < end + 4 + length) return undefined;
  const body = data.subarray(end + 4, end + 4 + length).toString('utf8');
  return { response: { status, headers, body }, used: end + 4 + length };
}

export class RawHttpConnection {
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | undefined;
  private closed = true;

  constructor(private readonly port: number) {}

  /** Sends `request` (a whole HTTP request) and resolves with the answer; rejects after `timeoutMs`. */
  exchange(request: Buffer | string, timeoutMs = 20_000): Promise<RawResponse> {
    if (this.waiting) throw new Error('one request at a time');
    if (this.closed) this.open();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.socket?.destroy();
        reject(new Error(`no answer within ${timeoutMs} ms to ${Buffer.from(request).toString('latin1').slice(0, 300)}`));
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.socket!.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): void {
    const socket = connect(this.port, '127.0.0.1');
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.closed = false;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      const parsed = parseResponse(this.buffer);
      if (!parsed || !this.waiting) return;
      this.buffer = this.buffer.subarray(parsed.used);
      const { resolve } = this.waiting;
      this.waiting = undefined;
      if (parsed.response.headers['connection']?.toLowerCase() === 'close') this.drop(socket);
      resolve(parsed.response);
    });
    socket.on('error', () => {}); // a reset shows as 'close' below
    socket.on('close', () => {
      if (this.socket !== socket) return; // an earlier connection, already done with
      this.drop(socket);
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.reject(new Error(`the server closed the connection without a whole answer (${this.buffer.length} bytes: ${this.buffer.toString('latin1').slice(0, 200)})`));
    });
  }

  private drop(socket: Socket): void {
    if (this.socket !== socket) return;
    this.closed = true;
    socket.destroy();
  }
}

/** One request on a fresh connection. */
export async function rawRequest(port: number, request: Buffer | string): Promise<RawResponse> {
  const c = new RawHttpConnection(port);
  try {
    return await c.exchange(request);
  } finally {
    c.close();
  }
}

/** `GET target HTTP/1.1` with a Host header and any `extra` header lines. */
export function rawGet(target: string | Buffer, extra: readonly string[] = []): Buffer {
  const head = ['', 'Host: 127.0.0.1', ...extra, '', ''].join('\r\n');
  return Buffer.concat([Buffer.from('GET '), Buffer.isBuffer(target) ? target : Buffer.from(target, 'latin1'), Buffer.from(' HTTP/1.1'), Buffer.from(head)]);
}

/** `POST /` with a body of `type`. */
export function rawPost(body: Buffer | string, type: string, target = '/'): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head = `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${data.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), data]);
}

/** A real node:http receiver on loopback that records each request and answers as told. */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type Responder = (req: Received, res: ServerResponse) => void;

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: Received[];
  readonly server: Server;
  close(): Promise<void>;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

const ok: Responder = (_req, res) => res.end('ok');

export async function startReceiver(respond: Responder = ok, path = '/hook'): Promise<Receiver> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(received);
      respond(received, res);
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}${path}`, port, requests, server, close: () => closeServer(server) };
}

/** The `proxy` package (ESM) on loopback, demanding Basic credentials, recording what it saw. */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from './receiver.js';

export interface TestProxy {
  readonly port: number;
  /** `CONNECT host:port` or `POST http://...`, with whether the credentials were right. */
  readonly seen: Array<{ method: string; url: string; authorized: boolean }>;
  close(): Promise<void>;
}

export async function startProxy(user: string, password: string): Promise<TestProxy> {
  const { createProxy } = await import('proxy');
  const server = createProxy();
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const seen: TestProxy['seen'] = [];
  server.authenticate = (req: IncomingMessage) => {
    const authorized = req.headers['proxy-authorization'] === expected;
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorized });
    return authorized;
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as AddressInfo).port, seen, close: () => closeServer(server) };
}

/** An https receiver on loopback that records the TLS version and the client certificate's CN. */
import { createServer, type ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { closeServer, listen, readBody } from './receiver.js';

export interface TlsReceiver {
  readonly url: string;
  readonly seen: Array<{ protocol: string | null; clientCn: string | undefined; body: string }>;
  close(): Promise<void>;
}

export async function startTlsReceiver(options: ServerOptions): Promise<TlsReceiver> {
  const seen: TlsReceiver['seen'] = [];
  const server = createServer(options, (req, res) => {
    void readBody(req).then((body) => {
      const socket = req.socket as TLSSocket;
      const cn = socket.getPeerCertificate()?.subject?.CN;
      seen.push({ protocol: socket.getProtocol(), clientCn: Array.isArray(cn) ? cn[0] : cn, body: body.toString('utf8') });
      res.end('ok');
    });
  });
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}/hook`, seen, close: () => closeServer(server) };
}

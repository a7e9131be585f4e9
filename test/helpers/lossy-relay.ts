/**
 * A loopback relay between an HTTP client and a Tocsin server that can lose answers, one
 * connection at a time, the way a network or a dying server does after the server did the work:
 *
 * - `forward`: passes both ways (the default once the plan is used up);
 * - `swallow`: passes the request; at the answer's first bytes calls `onAnswer` (a test kills the
 *   server there: the commit is done, the answer is written, the client never gets it), then
 *   breaks the client's connection and keeps what the server wrote in `swallowed`;
 * - `hold`: passes the request and never the answer (the client's time-out is what ends it).
 *
 * A connection to a server that is down is broken at once (the client sees a reset).
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export type RelayMode = 'forward' | 'swallow' | 'hold';

export interface LossyRelay {
  readonly url: string;
  /** The answers swallowed so far, each complete once the server closed that connection. */
  readonly swallowed: Promise<string>[];
  /** Connections relayed so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startLossyRelay(targetPort: number, plan: RelayMode[], onAnswer: () => void = () => {}): Promise<LossyRelay> {
  const sockets = new Set<Socket>();
  const swallowed: Promise<string>[] = [];
  let count = 0;
  const server = createServer((client) => {
    const mode = plan[count++] ?? 'forward';
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        if (mode === 'forward') upstream.destroy();
      });
    }
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    if (mode === 'forward') {
      upstream.pipe(client);
      return;
    }
    if (mode === 'hold') {
      upstream.resume();
      return;
    }
    swallowed.push(
      new Promise<string>((resolve) => {
        let text = '';
        upstream.setEncoding('utf8');
        upstream.on('data', (chunk: string) => {
          if (text === '') {
            onAnswer();
            client.destroy();
            // The server closes the connection once its answer is written.
            upstream.end();
          }
          text += chunk;
        });
        upstream.on('close', () => resolve(text));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    swallowed,
    connections: () => count,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

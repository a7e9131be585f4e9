/**
 * `createEventReceiver()`: a ready HTTP endpoint for an HttpHandler's events (decisions.md
 * "Handlers"). It checks the Standard Webhooks signature when given the section's SigningSecret,
 * reads the document into a typed event, drops an event id it has already handled (delivery is at
 * least once), and answers so that Tocsin does the right thing:
 *
 * | answer | when | Tocsin then |
 * |---|---|---|
 * | 204 | handled, or a duplicate of one handled | done |
 * | 401 | signature missing or wrong (or too old) | fails at once (4xx), kept as failed |
 * | 400 / 413 | not an event document / larger than maxBodyBytes | fails at once |
 * | 500 | `onEvent` threw | retries (RetryInterval), so nothing is lost |
 *
 * Duplicates are dropped by event id (once-per-id.ts): an id is remembered only once `onEvent`
 * resolved, so an event whose handling failed is handled again when redelivered.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorText } from '../common/errors.js';
import { verifyWebhookSignature } from '../events/handlers/http/signing.js';
import { parseEventDocument, type TocsinEvent } from './event.js';
import { OncePerId } from './once-per-id.js';

export interface EventReceiverOptions {
  /** Handles one event; throw (or reject) to have Tocsin deliver it again later. */
  readonly onEvent: (event: TocsinEvent) => void | Promise<void>;
  /**
   * The handler section's `SigningSecret` (`whsec_…` or text). Without it requests are taken
   * unsigned: only on a network where nobody else can reach the receiver.
   */
  readonly secret?: string | Uint8Array;
  /** Event ids remembered for dropping duplicates, newest kept, default 10,000. */
  readonly rememberIds?: number;
  /** Largest body taken, default 16 MiB. */
  readonly maxBodyBytes?: number;
  /** Accepted clock difference for signatures, default 300 s. */
  readonly toleranceSeconds?: number;
}

export interface ListeningReceiver {
  /** `http://host:port/` to write as the handler section's URL. */
  readonly url: string;
  close(): Promise<void>;
}

export interface EventReceiver {
  /** A `node:http` request listener: mount it in your own server (any path). */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Or listen on a port of its own (0: any free port), default 127.0.0.1. */
  listen(port?: number, host?: string): Promise<ListeningReceiver>;
  /** How many duplicates were dropped so far. */
  readonly duplicates: number;
}

const DEFAULT_REMEMBER = 10_000;
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

class TooLarge extends Error {}

export function createEventReceiver(options: EventReceiverOptions): EventReceiver {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const once = new OncePerId(options.rememberIds ?? DEFAULT_REMEMBER);

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return answer(res, 405, 'Events are POSTed');
    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (e) {
      if (e instanceof TooLarge) return answer(res, 413, `The body is larger than ${maxBody} bytes`, true);
      throw e;
    }
    if (options.secret !== undefined) {
      const signed = verifyWebhookSignature({ secret: options.secret, headers: req.headers, body, ...(options.toleranceSeconds !== undefined ? { toleranceSeconds: options.toleranceSeconds } : {}) });
      if (!signed) return answer(res, 401, 'EVENT_SIGNATURE_INVALID: the request is not signed with the shared secret');
    }
    let event: TocsinEvent;
    try {
      event = parseEventDocument(body.toString('utf8'));
    } catch (e) {
      return answer(res, 400, errorText(e));
    }
    try {
      await once.run(event.id, () => options.onEvent(event));
    } catch (e) {
      return answer(res, 500, `The receiver failed to handle event ${event.id}: ${errorText(e)}`);
    }
    res.writeHead(204).end();
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    respond(req, res).catch((e: unknown) => {
      if (!res.headersSent) answer(res, 500, errorText(e));
      else res.destroy();
    });
  };

  return {
    handle,
    get duplicates() {
      return once.duplicates;
    },
    listen: (port = 0, host = '127.0.0.1') => listenOn(handle, port, host),
  };
}

function listenOn(handle: (req: IncomingMessage, res: ServerResponse) => void, port: number, host: string): Promise<ListeningReceiver> {
  const server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shown = address.address.includes(':') ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${shown}:${address.port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, text: string, close = false): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...(close ? { Connection: 'close' } : {}) });
  res.end(text);
}

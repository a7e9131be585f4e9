/**
 * Limits enforced on the HTTP connection rather than on a parsed ACI request (issue 16 part 2):
 * open connections (`MaxConnections`), header lines (`MaxHeaderCount`), and the answer to requests
 * Node's parser refuses before there is a request at all (a head past MaxHeaderSize, malformed
 * HTTP, HeaderTimeout/RequestTimeout).
 *
 * Refusals of a parsed request are ordinary ACI errors (HTTP 200, like every ACI error). Those of
 * Node's parser keep the HTTP status Node gives them (400, 408, 431: there was no ACI request to
 * answer, and proxies and load balancers read the status), with an ACI error document as the body
 * so that a client sees which limit it hit; the connection is then closed.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { TocsinError } from '../common/errors.js';
import type { HttpTimeoutSettings } from '../config/read-http-timeouts.js';
import { maxHeaderBytes, type RequestLimitSettings } from '../config/read-request-limits.js';
import { renderError } from './render.js';

export type GuardSettings = RequestLimitSettings & HttpTimeoutSettings;

export interface HttpGuards {
  /** The limit a request breaks before it is parsed, if any. */
  admit(req: IncomingMessage): TocsinError | undefined;
}

/**
 * Installs the guards on `server` (plain or TLS). Connections past MaxConnections are accepted and
 * their first request answered with ERRORSERVERBUSY and `Connection: close`, so the client learns
 * why; past twice MaxConnections Node drops new connections unanswered (`server.maxConnections`),
 * the floor that keeps a flood from exhausting file descriptors.
 */
export function installHttpGuards(server: HttpServer | HttpsServer, limits: GuardSettings, tls: boolean): HttpGuards {
  let open = 0;
  const over = new WeakSet<Socket>();
  /** The response under way on a socket: once its head is written, a late error must not write another. */
  const answering = new WeakMap<Socket, ServerResponse>();
  server.maxConnections = limits.maxConnections * 2;
  // Node keeps only the first maxHeadersCount headers and drops the rest silently; one more than
  // the limit lets admit() see that the limit was passed.
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  // A TLS server's requests come on the TLS socket, which 'secureConnection' gives.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    open++;
    if (open > limits.maxConnections) over.add(socket);
    socket.once('close', () => open--);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    answering.set(req.socket, res);
    res.once('close', () => answering.delete(req.socket));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A body that times out comes after 'request': the answer has not begun, so the 408 is ours to write.
    if (error.code === 'ECONNRESET' || !socket.writable || answering.get(socket)?.headersSent === true) return void socket.destroy();
    socket.end(clientErrorResponse(error, limits), () => socket.destroy());
  });
  return {
    admit(req) {
      if (over.has(req.socket)) {
        return new TocsinError(
          'TOO_MANY_CONNECTIONS',
          `More than MaxConnections=${limits.maxConnections} connections are open; this one is closed after this answer, try again later`,
        );
      }
      if (req.rawHeaders.length / 2 > limits.maxHeaderCount) {
        return new TocsinError('REQUEST_TOO_LARGE', `The request has more than MaxHeaderCount=${limits.maxHeaderCount} header lines`);
      }
      return undefined;
    },
  };
}

/** A whole HTTP/1.1 response for a request Node's parser refused. */
function clientErrorResponse(error: NodeJS.ErrnoException, limits: GuardSettings): string {
  const [status, refusal] = describeClientError(error, limits);
  const body = renderError('UNKNOWN', refusal, 'xml').body;
  return (
    `HTTP/1.1 ${status}\r\nContent-Type: application/xml; charset=UTF-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function describeClientError(error: NodeJS.ErrnoException, limits: GuardSettings): [string, TocsinError] {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const text = `The request line and headers are larger than ${maxHeaderBytes(limits)} bytes (3 x MaxInputString + 8 KB); send large values by POST`;
    return ['431 Request Header Fields Too Large', new TocsinError('REQUEST_TOO_LARGE', text)];
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    const text = `The request was not received in time: headers within HeaderTimeout=${limits.headerTimeoutMs} ms, the whole request within RequestTimeout=${limits.requestTimeoutMs} ms`;
    return ['408 Request Timeout', new TocsinError('REQUEST_TIMEOUT', text)];
  }
  // llhttp's codes (HPE_INVALID_METHOD, HPE_INVALID_HEADER_TOKEN, ...) name the fault exactly.
  return ['400 Bad Request', new TocsinError('REQUEST_MALFORMED', `The HTTP request could not be parsed (${error.code ?? error.message})`)];
}

/**
 * The HttpHandler's `EventHandler`: one POST attempt per `deliver()` call, composed from the
 * parts beside it (transport, Basic/NTLM auth, signing, retry classification). The event engine
 * owns retries and calls `deliver` again; this file never loops.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../../../common/logger.js';
import { DeliveryError, type EventDelivery, type EventHandler } from '../../handler.js';
import { basicAuthorization } from './basic-auth.js';
import { NtlmChannels, ntlmPost } from './ntlm-handshake.js';
import type { HttpHandlerOptions } from './options.js';
import { statusError, transportError } from './retry.js';
import { signatureHeaders } from './signing.js';
import { createTransport } from './transport.js';

export const USER_AGENT = 'tocsin/0.1';
export const CONTENT_TYPE = 'application/xml; charset=utf-8';

/** Headers every request of this handler carries; built once. */
function fixedHeaders(options: HttpHandlerOptions): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-type': CONTENT_TYPE,
    'user-agent': USER_AGENT,
    ...(options.basic && { authorization: basicAuthorization(options.basic.user, options.basic.password) }),
  });
}

function eventHeaders(fixed: Readonly<Record<string, string>>, options: HttpHandlerOptions, event: EventDelivery): Record<string, string> {
  return {
    ...fixed,
    'x-tocsin-event-type': event.type,
    'x-tocsin-event-id': event.id,
    ...(options.signingKey && signatureHeaders(options.signingKey, event.id, event.document)),
  };
}

export function createHttpHandler(options: HttpHandlerOptions, log: Logger): EventHandler {
  const transport = createTransport(options);
  const fixed = fixedHeaders(options);
  const ntlm = options.ntlm;
  const channels = ntlm ? new NtlmChannels(() => transport.singleConnection()) : undefined;
  const { origin, path, pool } = transport;
  const timeoutMs = options.timeoutMs;

  const send = (headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<Dispatcher.ResponseData> => {
    if (channels && ntlm) {
      return channels.run(signal, (channel) => ntlmPost(channel, { origin, path, headers, body, signal, timeoutMs }, ntlm));
    }
    return pool.request({ origin, path, method: 'POST', headers, body, signal, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  };

  return {
    async deliver(event, signal) {
      const started = performance.now();
      // `Timeout` bounds each phase (connect, headers, body) inside undici; the engine's signal
      // covers stop and its own deadline. No AbortSignal.any/timeout per event: on Node 20 each
      // composite signal stays attached to the long-lived source signal; bench/http-handler.ts
      // measured 0.59× the bare undici rate at concurrency 32 with it, 1.2× without.
      let response: Dispatcher.ResponseData;
      try {
        response = await send(eventHeaders(fixed, options, event), Buffer.from(event.document, 'utf8'), signal);
        await response.body.dump();
      } catch (e) {
        throw transportError(e, origin);
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        log.debug('event delivered', { event: event.id, status, ms: Math.round(performance.now() - started) });
        return;
      }
      if (status === 401 && ntlm) throw new DeliveryError(`${origin} refused the NTLM credentials (HTTP 401)`, { retryable: false });
      throw statusError(status, response.headers['retry-after'], origin);
    },
    async close() {
      await transport.close();
    },
  };
}

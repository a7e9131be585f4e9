/**
 * `LibraryName=HttpHandler` (idol-reference.md §4.1, decisions.md "Handlers"): POSTs the event
 * document to `URL`, with Basic or NTLM authentication, an optional proxy, the `SSLConfig`
 * section's TLS settings and optional Standard Webhooks signing.
 *
 * Modules, main thread: options (section → frozen options; certificate and key files are read and
 * checked here, at start-up) · threaded-handler (the EventHandler the factory returns: batches
 * deliveries to a delivery thread and settles them from its answers) · signal-ids (aborts by
 * number) · thread-protocol (the messages, and the options' form across threads).
 * Delivery thread: delivery-thread (entry point) · deliver (one POST attempt; also exported as the
 * in-thread handler) · transport (undici pools) · tls · proxy · basic-auth · ntlm-crypto /
 * ntlm-messages / ntlm-handshake · signing · retry (policy table).
 */
import { DeliveryError, type HandlerFactory } from '../../handler.js';
import { readHttpHandlerOptions } from './options.js';
import { ThreadedHttpHandler } from './threaded-handler.js';

export const httpHandlerFactory: HandlerFactory = Object.freeze<HandlerFactory>({
  libraryName: 'HttpHandler',
  defaultPolicy: Object.freeze({ retries: 3, retryIntervalMs: 10_000 }),
  create(section, context, start) {
    const options = readHttpHandlerOptions(section, context);
    if (options === undefined) return undefined;
    // check-config (start=false) validates only: no thread, no pool, no socket, nothing to close.
    if (!start) {
      return { deliver: () => Promise.reject(new DeliveryError('HttpHandler created for check-config only', { retryable: false })), close: async () => {} };
    }
    return new ThreadedHttpHandler(options, context.log);
  },
});

/** In-thread: POSTs on the caller's event loop (library use, bench/http-handler.ts's "deliver() alone"). */
export { createHttpHandler } from './deliver.js';
export { ThreadedHttpHandler } from './threaded-handler.js';
export { readHttpHandlerOptions, type HttpHandlerOptions } from './options.js';
export { verifyWebhookSignature, type VerifyOptions } from './signing.js';
export { RETRY_POLICY } from './retry.js';

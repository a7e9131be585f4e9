/**
 * `LibraryName=HttpHandler` (idol-reference.md §4.1, decisions.md "Handlers"): POSTs the event
 * document to `URL`, with Basic or NTLM authentication, an optional proxy, the `SSLConfig`
 * section's TLS settings and optional Standard Webhooks signing.
 *
 * Modules: options (section → frozen options) · tls · transport (undici pools) · proxy ·
 * basic-auth · ntlm-crypto / ntlm-messages / ntlm-handshake · signing · retry (policy table) ·
 * deliver (the EventHandler).
 */
import { DeliveryError, type HandlerFactory } from '../../handler.js';
import { createHttpHandler } from './deliver.js';
import { readHttpHandlerOptions } from './options.js';

export const httpHandlerFactory: HandlerFactory = Object.freeze<HandlerFactory>({
  libraryName: 'HttpHandler',
  defaultPolicy: Object.freeze({ retries: 3, retryIntervalMs: 10_000 }),
  create(section, context, start) {
    const options = readHttpHandlerOptions(section, context);
    if (options === undefined) return undefined;
    // check-config (start=false) validates only: no pool, no socket, nothing to close.
    if (!start) {
      return { deliver: () => Promise.reject(new DeliveryError('HttpHandler created for check-config only', { retryable: false })), close: async () => {} };
    }
    return createHttpHandler(options, context.log);
  },
});

export { createHttpHandler } from './deliver.js';
export { readHttpHandlerOptions, type HttpHandlerOptions } from './options.js';
export { verifyWebhookSignature, type VerifyOptions } from './signing.js';
export { RETRY_POLICY } from './retry.js';

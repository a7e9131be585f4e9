/**
 * One POST through an undici dispatcher with a bare dispatch handler. A delivery needs only the
 * status and `Retry-After`, so no response stream, body promise or header object is made per
 * event and the body is discarded as it arrives. Measured (32 in flight to a local sink, an Agent
 * as the handler uses): ~30 µs of main-thread time per POST, against ~45 µs for `request()` and
 * `body.dump()`.
 *
 * Parameters: the dispatcher (Agent, ProxyAgent or one connection), the request, `timeoutMs` for
 * headers and for the body, `signal` to abort. Resolves with the answer, whatever its status;
 * rejects with undici's error (or the signal's reason) for a failed transport.
 */
import type { Dispatcher } from 'undici';

export interface PostRequest {
  readonly origin: string;
  readonly path: string;
  /** Flat name/value list: undici takes it as is. */
  readonly headers: readonly string[];
  readonly body: string | Buffer;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface PostAnswer {
  readonly status: number;
  readonly retryAfter: string | string[] | undefined;
}

export function post(dispatcher: Dispatcher, request: PostRequest): Promise<PostAnswer> {
  const { signal } = request;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let answer: PostAnswer | undefined;
    let done = false;
    const onAbort = () => controller?.abort(signal.reason);
    const finish = (error: unknown) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined && answer) resolve(answer);
      else reject(error ?? new Error('the response ended before its headers'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(signal.reason);
      },
      onResponseStart(_c, status, headers) {
        answer = { status, retryAfter: headers['retry-after'] };
      },
      onResponseData() {},
      onResponseEnd() {
        finish(undefined);
      },
      onResponseError(_c, error) {
        finish(error);
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: 'POST',
          headers: request.headers as string[],
          body: request.body,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
        },
        handler,
      );
    } catch (e) {
      finish(e);
    }
  });
}

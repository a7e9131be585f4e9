/**
 * When the client sends a submission again (decisions.md "Idempotent submission"): policy as data
 * (STYLE.md lesson 6). Every submission carries an IdempotencyKey, so sending it again after an
 * answer that never came cannot queue a second action: the server answers the first one's token.
 *
 * Retried: the server could not be reached (refused, reset, closed before answering) or did not
 * answer in time. Not retried: any answer, ACI errors included (they say what happened).
 */

export interface RetryPolicy {
  /** Sends in all, the first included. @defaultValue 5 */
  readonly attempts: number;
  /** Wait before the second send; each later wait is `factor` times the one before. @defaultValue 250 */
  readonly firstDelayMs: number;
  /** @defaultValue 2 */
  readonly factor: number;
  /** @defaultValue 4000 */
  readonly maxDelayMs: number;
  /** One send is given up (and retried) when no answer came in this long. @defaultValue 30000 */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 5, firstDelayMs: 250, factor: 2, maxDelayMs: 4000, timeoutMs: 30_000 });

/** Error codes (of the error or any of its causes) that mean "no answer came". */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Error names that mean the send's own time-out (AbortSignal.timeout) passed. */
const RETRYABLE_NAMES: ReadonlySet<string> = new Set(['TimeoutError']);

/** Did this failure leave the client without an answer (so a keyed send may go again)? */
export function isRetryable(e: unknown): boolean {
  for (let cause = e, depth = 0; cause !== undefined && cause !== null && depth < 8; depth++) {
    const { code, name } = cause as { code?: unknown; name?: unknown };
    if ((typeof code === 'string' && RETRYABLE_CODES.has(code)) || (typeof name === 'string' && RETRYABLE_NAMES.has(name))) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** The wait before send number `attempt + 1` (attempt counts from 1). */
export function delayAfter(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * policy.factor ** (attempt - 1));
}

/** Runs `send` until it answers, a failure is not retryable, or the attempts are used up (then its last error). */
export async function withRetries<T>(policy: RetryPolicy, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if (attempt >= policy.attempts || !isRetryable(e)) throw e;
      await new Promise((resolve) => setTimeout(resolve, delayAfter(policy, attempt)));
    }
  }
}

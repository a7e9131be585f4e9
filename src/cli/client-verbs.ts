/**
 * The client verbs: `send`, `status`, `wait`. They use the exported client (src/client) like any
 * application would.
 */
import { TocsinError, isTocsinError } from '../common/errors.js';
import { AciClient } from '../client/aci-client.js';
import { WaitTimeoutError } from '../client/wait.js';
import { progressView } from './progress.js';

const out = (line: string) => process.stdout.write(line + '\n');

function parsePairs(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new TocsinError('PARAM_INVALID', `"${pair}" is not Param=Value`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

/**
 * Tocsin's synchronous actions: they queue nothing, so `send` runs them once, without a key (a
 * QueueInfo Duplicate sent again would copy twice). Every other action is a submission.
 */
const SYNCHRONOUS_ACTIONS: ReadonlySet<string> = new Set(['getversion', 'getstatus', 'queueinfo', 'eventinfo']);

/**
 * Sends an action. A submission carries an IdempotencyKey (a new UUID unless `IdempotencyKey=`
 * is among the pairs) and is sent again with it while no answer comes (client.ts), so the token
 * printed is that of the one action queued.
 */
export async function sendVerb(server: string, action: string, pairs: readonly string[]): Promise<void> {
  const client = new AciClient(server);
  const params = parsePairs(pairs);
  if (!SYNCHRONOUS_ACTIONS.has(action.toLowerCase())) {
    const { token, duplicate } = await client.submit(action, params);
    if (duplicate) process.stderr.write('duplicate: this IdempotencyKey was already submitted; the token is the first action\'s\n');
    out(token);
    return;
  }
  const data = await client.call(action, params);
  out(typeof data['token'] === 'string' ? data['token'] : JSON.stringify(data, null, 2));
}

export async function statusVerb(server: string, token: string): Promise<void> {
  out(JSON.stringify(await new AciClient(server).status(token), null, 2));
}

/**
 * Waits with the client's back-off, showing progress (a bar on a terminal, plain lines
 * otherwise); exit code 0 for Finished, 1 for another end, 2 on timeout.
 */
export async function waitVerb(server: string, token: string, timeoutSeconds?: number): Promise<void> {
  const view = progressView(process.stdout);
  try {
    const record = await new AciClient(server).wait(token, {
      onUpdate: (r) => view.update(r),
      ...(timeoutSeconds !== undefined ? { timeoutMs: timeoutSeconds * 1000 } : {}),
    });
    view.done();
    if (process.stdout.isTTY) out(record.status);
    if (record.error) out(`error: ${String(record.error)}`);
    process.exitCode = record.status === 'Finished' ? 0 : 1;
  } catch (e) {
    view.done();
    if (!isTocsinError(e, 'WAIT_TIMEOUT')) throw e;
    out(`still ${(e as WaitTimeoutError).record.status} after ${timeoutSeconds} s`);
    process.exitCode = 2;
  }
}

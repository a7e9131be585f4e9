/**
 * Starting a Lua worker through the handler's supervisor. `create()` of a handler factory is
 * synchronous, yet a script that fails to load must be reported there as a config error (with its Lua
 * line); so the first worker can be waited for *blocking*: the main thread sleeps in Atomics.wait
 * until the worker flags its load result in shared memory. That needs nothing from the main thread's
 * event loop: the spawn request is delivered to the supervisor by its own loop (the supervisor may
 * still be starting), and the worker needs only the supervisor's (a start takes ~100-150 ms).
 * Later workers (pool members, replacements) start without blocking and report through a message.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { LOAD_FAILED, LOAD_PENDING, LOAD_STATE, STATE_BYTES, stateViews, type WorkerSetup } from './protocol.js';
import type { SupervisedWorker, Supervisor } from './supervisor-client.js';

/** Script and limits: the part of WorkerSetup that is the same for every worker of a handler. */
export type ScriptSetup = Omit<WorkerSetup, 'state' | 'callPort' | 'replyPort' | 'checkOnly'>;

export interface SpawnedWorker {
  readonly control: SupervisedWorker;
  /** Host end of the call channel: `calls` out; `loaded`, `results` and `send` in. */
  readonly callPort: MessagePort;
  /** Host end of the reply channel (replies to `send`). */
  readonly replyPort: MessagePort;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

/** Longest a blocking start may take before it counts as failed. */
const BLOCKING_START_LIMIT_MS = 15_000;

export function spawnWorker(supervisor: Supervisor, script: ScriptSetup, checkOnly: boolean): SpawnedWorker {
  const state = new SharedArrayBuffer(STATE_BYTES);
  const calls = new MessageChannel();
  const replies = new MessageChannel();
  const setup: WorkerSetup = { ...script, checkOnly, state, callPort: calls.port2, replyPort: replies.port2 };
  const control = supervisor.spawn(setup);
  replies.port1.unref(); // read only with receiveMessageOnPort
  return { control, callPort: calls.port1, replyPort: replies.port1, ...stateViews(state) };
}

/** Blocks until the worker has loaded the script: undefined when loaded, else the Lua error. */
export function waitForLoad(spawned: SpawnedWorker): string | undefined {
  const waited = Atomics.wait(spawned.i32, LOAD_STATE, LOAD_PENDING, BLOCKING_START_LIMIT_MS);
  if (waited === 'timed-out') return `the Lua worker did not start within ${BLOCKING_START_LIMIT_MS} ms`;
  // Always take the load message off the reply port, so only replies to `send` are left on it.
  const received = receiveMessageOnPort(spawned.replyPort);
  if (Atomics.load(spawned.i32, LOAD_STATE) !== LOAD_FAILED) return undefined;
  const message = received?.message as { error?: string } | undefined;
  return message?.error ?? 'the script failed to load';
}

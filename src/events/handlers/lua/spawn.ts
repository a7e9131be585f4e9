/**
 * Starting a Lua worker through the handler's supervisor, without blocking (a start takes
 * ~100-150 ms): the worker reports its load through a message on the call port. The script was
 * checked at create() already (script-check.ts), so a worker that fails to load is rare.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { STATE_BYTES, stateViews, type WorkerSetup } from './protocol.js';
import type { SupervisedWorker, Supervisor } from './supervisor-client.js';

/** Script and limits: the part of WorkerSetup that is the same for every worker of a handler. */
export type ScriptSetup = Omit<WorkerSetup, 'state' | 'callPort' | 'replyPort'>;

export interface SpawnedWorker {
  readonly control: SupervisedWorker;
  /** Host end of the call channel: `calls` out; `loaded`, `results` and `send` in. */
  readonly callPort: MessagePort;
  /** Host end of the reply channel (replies to `send`). */
  readonly replyPort: MessagePort;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

export function spawnWorker(supervisor: Supervisor, script: ScriptSetup): SpawnedWorker {
  const state = new SharedArrayBuffer(STATE_BYTES);
  const calls = new MessageChannel();
  const replies = new MessageChannel();
  const setup: WorkerSetup = { ...script, state, callPort: calls.port2, replyPort: replies.port2 };
  const control = supervisor.spawn(setup);
  replies.port1.unref(); // read only with receiveMessageOnPort
  return { control, callPort: calls.port1, replyPort: replies.port1, ...stateViews(state) };
}

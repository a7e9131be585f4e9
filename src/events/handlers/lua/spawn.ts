/**
 * Starting a Lua worker thread. `create()` of a handler factory is synchronous, yet a script that fails
 * to load must be reported there as a config error (with its Lua line); so the first worker can be
 * started *blocking*: the main thread sleeps in Atomics.wait until the worker flags its load result in
 * shared memory (a worker starts in ~80-130 ms and needs nothing from the main thread's event loop).
 * Later workers (pool members, replacements) start without blocking and report through a message.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { LOAD_FAILED, LOAD_PENDING, LOAD_STATE, STATE_BYTES, stateViews, type WorkerSetup } from './protocol.js';

/** Script and limits: the part of WorkerSetup that is the same for every worker of a handler. */
export type ScriptSetup = Omit<WorkerSetup, 'state' | 'replyPort' | 'checkOnly'>;

export interface SpawnedWorker {
  readonly worker: Worker;
  /** Host end of the reply channel (replies to `send`). */
  readonly replyPort: MessagePort;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
}

/** Longest a blocking start may take before it counts as failed. */
const BLOCKING_START_LIMIT_MS = 15_000;

/**
 * V8 heap limits for a worker. Lua's own memory lives in WebAssembly memory, capped by
 * LuaMemoryLimit; these bound what the JS side (parse_xml results, message copies) can take, so a
 * worker that runs away there dies with ERR_WORKER_OUT_OF_MEMORY instead of taking the server.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

export function spawnWorker(script: ScriptSetup, checkOnly: boolean): SpawnedWorker {
  const state = new SharedArrayBuffer(STATE_BYTES);
  const { port1, port2 } = new MessageChannel();
  const setup: WorkerSetup = { ...script, checkOnly, state, replyPort: port2 };
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: setup,
    transferList: [port2],
    resourceLimits: RESOURCE_LIMITS,
    // A script's print() is routed to log(); nothing should reach the server's stdout or stderr.
    stdout: true,
    stderr: true,
  });
  port1.unref();
  return { worker, replyPort: port1, ...stateViews(state) };
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

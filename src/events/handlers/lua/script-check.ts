/**
 * Checking a LuaHandler script at create(), host side: the script is compiled, its top level run
 * and its `handler` looked for in the shared checking thread (script-checker.ts), so a bad script
 * is a config error with its Lua line, at start and in check-config, before any worker exists.
 *
 * `create()` of a handler factory is synchronous, so the host waits *blocking*: it sleeps in
 * Atomics.wait until the checker flags the result in shared memory. That needs nothing from the
 * main thread's event loop: a new thread starts and reads its messages on its own.
 *
 * The thread is started by the first check, serves every LuaHandler section of the config, and
 * ends once idle for IDLE_MS; it is unref'd and never holds the process open.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { LOAD_FAILED, LOAD_PENDING, LOAD_STATE, STATE_BYTES, stateViews } from './protocol.js';
import type { CheckRequest } from './script-checker.js';
import type { ScriptSetup } from './spawn.js';

/** Longest one check may take (the thread's start included) before it counts as failed. */
const CHECK_LIMIT_MS = 15_000;
/** The thread ends after this long without a check (start-up reads every section at once). */
const IDLE_MS = 2000;
/** Like a Lua worker's (supervisor.ts): JS-side memory of a runaway top level is bounded. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

let thread: Worker | undefined;
let idle: NodeJS.Timeout | undefined;

function checker(): Worker {
  clearTimeout(idle);
  if (thread) return thread;
  const started = new Worker(new URL('./script-checker.js', import.meta.url), { resourceLimits: RESOURCE_LIMITS, stdout: true, stderr: true });
  started.stdout.resume();
  started.stderr.resume();
  started.on('error', () => {}); // seen as a check that never ends; the next check starts a new thread
  started.on('exit', () => {
    if (thread === started) thread = undefined;
  });
  started.unref();
  thread = started;
  return started;
}

function stop(worker: Worker): void {
  if (thread === worker) thread = undefined;
  void worker.terminate();
}

/** Blocks until the script is checked: undefined when it loads, else the reason (with its Lua line). */
export function checkScript(script: ScriptSetup): string | undefined {
  const worker = checker();
  const state = new SharedArrayBuffer(STATE_BYTES);
  const { i32 } = stateViews(state);
  const reply = new MessageChannel();
  const request: CheckRequest = {
    source: script.source,
    chunkName: script.chunkName,
    timeoutMs: script.timeoutMs,
    memoryLimit: script.memoryLimit,
    state,
    replyPort: reply.port2,
  };
  worker.postMessage(request, [reply.port2]);
  const waited = Atomics.wait(i32, LOAD_STATE, LOAD_PENDING, CHECK_LIMIT_MS);
  const received = receiveMessageOnPort(reply.port1);
  reply.port1.close();
  if (waited === 'timed-out') {
    // Stuck where LuaTimeout cannot reach (a long C call in the top level), or the thread died.
    stop(worker);
    return `the script's top level did not finish within ${CHECK_LIMIT_MS} ms`;
  }
  idle = setTimeout(() => stop(worker), IDLE_MS).unref();
  if (Atomics.load(i32, LOAD_STATE) !== LOAD_FAILED) return undefined;
  return (received?.message as { error?: string } | undefined)?.error ?? 'the script failed to load';
}

/**
 * Entry point of the script-checking thread (started by script-check.ts from the compiled
 * `dist/.../lua/script-checker.js`): for each request it makes a fresh sandboxed Lua state, loads
 * the script into it as a worker would (compile, run the top level under LuaTimeout and
 * LuaMemoryLimit, look for `handler`), closes the state and flags the outcome in shared memory for
 * the host, which waits blocked in create().
 *
 * One thread checks every LuaHandler section of a config, and its states share one wasm instance:
 * a state costs a few ms where a thread costs ~100-200 ms to start (25 sections took ~8 s with a
 * supervisor thread and a worker thread started, one section after the other, for each).
 *
 * The top level runs with the script API of a worker outside any event: `log` is dropped (the
 * worker that runs the script later logs it), `send` and `append_file` refuse as they do there.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { LuaFactory } from 'wasmoon';
import { SandboxedLua, type ScriptApi } from './lua-engine.js';
import { LOAD_FAILED, LOAD_OK, LOAD_STATE, stateViews } from './protocol.js';
import { parseXml } from './xml.js';

/** One script to check; `state`'s LOAD_STATE slot is set and notified when done. */
export interface CheckRequest {
  readonly source: string;
  readonly chunkName: string;
  readonly timeoutMs: number;
  readonly memoryLimit: number;
  readonly state: SharedArrayBuffer;
  /** The error text (or none) goes here, before the flag is set. */
  readonly replyPort: MessagePort;
}

const OUTSIDE_AN_EVENT = 'only available while handling an event';
const api: ScriptApi = {
  log: () => {},
  send: () => OUTSIDE_AN_EVENT,
  appendFile: () => OUTSIDE_AN_EVENT,
  parseXml,
};

if (!parentPort) throw new Error('script-checker.ts must run as a worker thread');
let factory: LuaFactory | undefined;

async function check(request: CheckRequest): Promise<string | undefined> {
  let lua: SandboxedLua | undefined;
  try {
    factory ??= new LuaFactory();
    lua = await SandboxedLua.create({ timeoutMs: request.timeoutMs, memoryLimit: request.memoryLimit }, api, factory);
    return lua.load(request.source, request.chunkName);
  } catch (e) {
    // Not a Lua error (those come back as text): the wasm instance may be in any state, so the
    // next script gets a new one.
    factory = undefined;
    return e instanceof Error ? e.message : String(e);
  } finally {
    try {
      lua?.close();
    } catch {
      factory = undefined;
    }
  }
}

// One check at a time, in order: the host sends the next only after this one's flag, but a host
// that gave up waiting (its limit passed) may have sent more.
let queue = Promise.resolve();
parentPort.on('message', (request: CheckRequest) => {
  queue = queue.then(async () => {
    const error = await check(request);
    request.replyPort.postMessage(error === undefined ? {} : { error });
    request.replyPort.close();
    const { i32 } = stateViews(request.state);
    Atomics.store(i32, LOAD_STATE, error === undefined ? LOAD_OK : LOAD_FAILED);
    Atomics.notify(i32, LOAD_STATE);
  });
});

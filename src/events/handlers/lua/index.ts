/**
 * LuaHandler (`LibraryName=LuaHandler`, idol-reference.md §4.2, decisions.md "Handlers"): runs
 * `handler(request, xml)` of a sandboxed Lua 5.4 script (wasmoon) in worker threads.
 *
 * Layout of this folder, host side → worker side:
 * - options.ts       the section's keys → LuaHandlerOptions
 * - lua-handler.ts   the handler: checks the script at create(), starts its threads on the first
 *                    event, routes events to worker slots
 * - script-check.ts / script-checker.ts  the check at create(), host side / the checking thread
 *                    shared by every section: compile, run the top level, find `handler`
 * - worker-slot.ts   one worker seen from the host: batching, answers, `send`, replacement
 * - spawn.ts         starting a worker; protocol.ts the messages and shared state
 * - supervisor-client.ts / supervisor.ts  the handler's supervisor thread, host side / thread:
 *                    creates the workers and terminates them (on request, or as runaways)
 * - watchdog.ts      the hard time limit, run in the supervisor (terminate a script that does not stop)
 * - worker.ts        the worker thread; lua-engine.ts the Lua state, its limits and calls
 * - prelude.ts       the sandbox and script API in Lua; xml.ts, append-file.ts, host-request.ts
 *                    the API's host functions; lua-values.ts JS ↔ Lua stack values
 * Script authors' documentation: examples/lua/README.md.
 */
import type { HandlerFactory } from '../../handler.js';
import { loadLuaHandler } from './lua-handler.js';
import { readLuaOptions } from './options.js';

export const luaHandlerFactory: HandlerFactory = {
  libraryName: 'LuaHandler',
  defaultPolicy: { retries: 3, retryIntervalMs: 10_000 },
  create(section, context, start) {
    const options = readLuaOptions(section);
    if (!options) return undefined;
    const handler = loadLuaHandler(options, context, section.name, start);
    if (typeof handler === 'string') {
      section.error('LuaScript', handler);
      return undefined;
    }
    return handler;
  },
};

export { LuaHandler, loadLuaHandler, type LuaHandlerStats } from './lua-handler.js';
export { DEFAULT_HARD_STOP_GRACE_MS, DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT_MS, readLuaOptions, type LuaHandlerOptions } from './options.js';

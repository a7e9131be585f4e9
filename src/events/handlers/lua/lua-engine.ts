/**
 * One sandboxed Lua 5.4 state (wasmoon), owned by a worker: loads the script once and calls
 * `handler(request, xml)` per event through the raw C API (no per-call thread or wrapper objects).
 *
 * Limits inside the engine (the soft ones; the supervisor terminating the worker is the hard one):
 * - time: a count hook every 1000 instructions raises an error once preciseNow() passes the deadline
 *   (not Date.now(), whose whole ms would let a call overrun by up to 1 ms more, eating into
 *   LuaHardStopGrace).
 *   Our own hook rather than wasmoon's functionTimeout, whose hook errors on the thread that set it
 *   (not the running coroutine) and keeps the first deadline it was given. Measured: a loop, even
 *   one under pcall, stops within ~2 ms of the limit (a hard stop 3 ms past it won none of 120
 *   races on a quiet machine).
 * - memory: wasmoon's traced allocator with setMemoryMax; an allocation past it fails with Lua's
 *   "not enough memory" and the state stays usable (dependencies.md §1).
 */
import { LuaFactory, LuaReturn, LuaType, decorateFunction, LuaRawResult, type LuaEngine, type LuaWasm } from 'wasmoon';
import { LuaStack, type PlainValue } from './lua-values.js';
import { PRELUDE, PRELUDE_CHUNK } from './prelude.js';
import { preciseNow, type CallResult, type FailureKind, type LogLevel } from './protocol.js';

const HOOK_EVERY = 1000;
const MASK_COUNT = 8;
const NO_MEMORY = 'not enough memory';

/** What the script API does; the worker supplies it. Errors are returned as text, never thrown. */
export interface ScriptApi {
  log(level: LogLevel, text: string): void;
  send(section: string, text: string): string | undefined;
  appendFile(path: string, text: string): string | undefined;
  parseXml(xml: string): { ok: true; value: PlainValue } | { ok: false; error: string };
}

export interface EngineLimits {
  readonly timeoutMs: number;
  readonly memoryLimit: number;
}

function guard(fn: () => string | void | undefined): string | undefined {
  try {
    return fn() ?? undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export class SandboxedLua {
  /** preciseNow() after which the hook stops the script; Infinity between calls. */
  deadline = Infinity;
  private readonly lua: LuaWasm;
  private readonly L: number;
  private readonly stack: LuaStack;
  private readonly timeoutText: string;
  /** The count hook's slot in the wasm function table, freed by close(). */
  private hook = 0;

  private constructor(
    private readonly engine: LuaEngine,
    private readonly limits: EngineLimits,
  ) {
    this.lua = engine.global.lua;
    this.L = engine.global.address;
    this.stack = new LuaStack(this.lua);
    this.timeoutText = `LuaTimeout of ${limits.timeoutMs} ms exceeded`;
  }

  /**
   * A new state. Each factory is one wasm instance: a worker makes its own; the script checker
   * (script-checker.ts) makes many short-lived states in one, a few ms each where a new instance
   * costs ~10 ms.
   */
  static async create(limits: EngineLimits, api: ScriptApi, factory: LuaFactory = new LuaFactory()): Promise<SandboxedLua> {
    const engine = await factory.createEngine({ traceAllocations: true, enableProxy: false, injectObjects: false });
    const lua = new SandboxedLua(engine, limits);
    lua.installHook();
    lua.runPrelude(api);
    // Set after the prelude so the limit is the script's own budget.
    engine.global.setMemoryMax(limits.memoryLimit);
    return lua;
  }

  private installHook(): void {
    const { lua } = this;
    const hook = lua.module.addFunction((L: number) => {
      if (preciseNow() <= this.deadline) return;
      lua.luaL_where(L, 0);
      this.stack.pushString(L, this.timeoutText);
      lua.lua_concat(L, 2);
      lua.lua_error(L);
    }, 'vii');
    this.hook = hook;
    // Set on the main state before any coroutine exists: lua_newthread copies it to every coroutine.
    lua.lua_sethook(this.L, hook, MASK_COUNT, HOOK_EVERY);
  }

  /** Frees the state and its hook, leaving the wasm instance to the factory's next state. */
  close(): void {
    this.engine.global.close();
    this.lua.module.removeFunction(this.hook);
  }

  private runPrelude(api: ScriptApi): void {
    const { lua, L } = this;
    // Host functions return undefined (no value: nil in Lua) or an error text, and never throw:
    // a JS exception crossing into Lua arrives as an opaque userdata error.
    const host = {
      expired: () => (preciseNow() > this.deadline ? this.timeoutText : undefined),
      log: (level: LogLevel, text: string) => guard(() => api.log(level, String(text))),
      send: (section: string, text: string) => guard(() => api.send(String(section), String(text))),
      append_file: (path: string, text: string) => guard(() => api.appendFile(String(path), String(text))),
      parse_xml: decorateFunction(
        (thread: { address: number }, xml: string) => {
          const parsed = api.parseXml(String(xml));
          if (parsed.ok) this.stack.pushPlain(thread.address, parsed.value);
          else this.stack.pushString(thread.address, parsed.error);
          return new LuaRawResult(1);
        },
        { receiveThread: true },
      ),
    };
    this.check(lua.luaL_loadbufferx(L, PRELUDE, lua.module.lengthBytesUTF8(PRELUDE), PRELUDE_CHUNK, 't'), 'prelude');
    this.engine.global.pushValue(host);
    this.check(lua.lua_pcallk(L, 1, 0, 0, 0, null), 'prelude');
  }

  private check(status: number, what: string): void {
    if (status === LuaReturn.Ok) return;
    const message = this.stack.errorText(this.L, -1);
    this.lua.lua_settop(this.L, 0);
    throw new Error(`${what}: ${message}`);
  }

  /**
   * Compiles and runs the script's top level (text only: precompiled bytecode is refused), then
   * checks it defined `handler`. Returns an error message, or undefined when loaded.
   */
  load(source: string, chunkName: string): string | undefined {
    const { lua, L } = this;
    const status = lua.luaL_loadbufferx(L, source, lua.module.lengthBytesUTF8(source), chunkName, 't');
    if (status !== LuaReturn.Ok) return this.takeError();
    this.deadline = preciseNow() + this.limits.timeoutMs;
    const run = lua.lua_pcallk(L, 0, 0, 0, 0, null);
    this.deadline = Infinity;
    if (run !== LuaReturn.Ok) return this.describe(this.takeError()).message;
    const type = lua.lua_getglobal(L, 'handler');
    lua.lua_settop(L, 0);
    if (type !== LuaType.Function) return `${chunkName.slice(1)}: the script does not define a global function 'handler'`;
    return undefined;
  }

  /** Calls `handler(request, xml)` once. */
  call(seq: number, request: Readonly<Record<string, string>>, xml: string): CallResult {
    const { stack, L } = this;
    if (stack.getGlobal(L, 'handler') !== LuaType.Function) {
      stack.setTop(L, 0);
      return { seq, ok: false, kind: 'error', message: "global 'handler' is not a function" };
    }
    stack.pushStringTable(L, request);
    stack.pushString(L, xml);
    this.deadline = preciseNow() + this.limits.timeoutMs;
    const status = stack.pcall(L, 2, 1);
    this.deadline = Infinity;
    if (status !== LuaReturn.Ok) return { seq, ok: false, ...this.describe(this.takeError()) };
    const returnedFalse = stack.isFalse(L, -1);
    stack.setTop(L, 0);
    return returnedFalse ? { seq, ok: false, kind: 'false', message: 'handler returned false' } : { seq, ok: true };
  }

  private takeError(): string {
    const message = this.stack.errorText(this.L, -1);
    this.lua.lua_settop(this.L, 0);
    return message;
  }

  /** Classifies a failure by the messages the hook and the allocator raise. */
  private describe(message: string): { kind: FailureKind; message: string } {
    if (message === NO_MEMORY) {
      return { kind: 'memory', message: `LuaMemoryLimit of ${this.limits.memoryLimit} bytes exhausted (not enough memory)` };
    }
    if (message.includes(this.timeoutText)) return { kind: 'timeout', message };
    return { kind: 'error', message };
  }
}

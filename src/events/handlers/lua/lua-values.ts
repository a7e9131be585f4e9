/**
 * Pushing JS values onto a Lua stack through the raw exports of wasmoon's emscripten module.
 *
 * Why not wasmoon's wrappers: its `lua_pushlstring` goes through ccall, copies the string onto the
 * emscripten stack, and decodes the pushed string back into JS as its return value; for the request
 * table and the event document that was 70 % of a `return true` call (40k calls/s in-thread). Here a
 * string is UTF-8 encoded straight into one reusable scratch buffer in wasm memory and pushed with
 * lua_pushlstring (Lua copies it), so nothing is allocated per string. With enableProxy (wasmoon's
 * default) JS objects would also arrive as proxies, not tables.
 */
import { LuaType, type LuaWasm } from 'wasmoon';

type LuaState = number;

/** A JSON-like value: what parse_xml produces and what the request table holds. */
export type PlainValue = string | number | boolean | null | undefined | readonly PlainValue[] | { readonly [key: string]: PlainValue };

/** The C functions used here, as exported by the emscripten module (pointers are numbers). */
interface RawModule {
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _lua_pushlstring(L: LuaState, pointer: number, length: number): number;
  _lua_pushnumber(L: LuaState, n: number): void;
  _lua_pushboolean(L: LuaState, b: number): void;
  _lua_pushnil(L: LuaState): void;
  _lua_createtable(L: LuaState, narr: number, nrec: number): void;
  _lua_setfield(L: LuaState, index: number, key: number): void;
  _lua_rawset(L: LuaState, index: number): void;
  _lua_getglobal(L: LuaState, name: number): number;
  _lua_pcallk(L: LuaState, nargs: number, nresults: number, errfunc: number, ctx: number, k: number): number;
  _lua_settop(L: LuaState, index: number): void;
  _lua_type(L: LuaState, index: number): number;
  _lua_toboolean(L: LuaState, index: number): number;
}

const encoder = new TextEncoder();

export class LuaStack {
  private readonly raw: RawModule;
  private scratch = 0;
  private capacity = 0;

  constructor(private readonly lua: LuaWasm) {
    this.raw = lua.module as unknown as RawModule;
  }

  /** Encodes `text` (NUL-terminated) into the scratch buffer; returns its byte length. */
  private encode(text: string): number {
    const needed = text.length * 3 + 1; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (needed > this.capacity) {
      if (this.scratch) this.raw._free(this.scratch);
      this.capacity = Math.max(needed, 4096);
      this.scratch = this.raw._malloc(this.capacity);
      if (!this.scratch) throw new Error('out of wasm memory for a string');
    }
    // Read HEAPU8 now: any wasm call may have grown memory and replaced the view.
    const heap = this.raw.HEAPU8;
    const { written } = encoder.encodeInto(text, heap.subarray(this.scratch, this.scratch + this.capacity - 1));
    heap[this.scratch + written] = 0;
    return written;
  }

  pushString(L: LuaState, text: string): void {
    const length = this.encode(text);
    this.raw._lua_pushlstring(L, this.scratch, length);
  }

  /** t[key] = value-on-top, for the table just below the top. */
  private setField(L: LuaState, key: string): void {
    this.encode(key);
    this.raw._lua_setfield(L, -2, this.scratch);
  }

  /** Pushes `value`; arrays become sequences (1-based), objects become tables with string keys. */
  pushPlain(L: LuaState, value: PlainValue): void {
    const raw = this.raw;
    if (value === null || value === undefined) raw._lua_pushnil(L);
    else if (typeof value === 'string') this.pushString(L, value);
    else if (typeof value === 'number') raw._lua_pushnumber(L, value);
    else if (typeof value === 'boolean') raw._lua_pushboolean(L, value ? 1 : 0);
    else if (isArray(value)) {
      raw._lua_createtable(L, value.length, 0);
      for (let i = 0; i < value.length; i++) {
        // A float key with an integral value is stored as an integer key, so t[1] finds it.
        raw._lua_pushnumber(L, i + 1);
        this.pushPlain(L, value[i]);
        raw._lua_rawset(L, -3);
      }
    } else {
      const keys = Object.keys(value);
      raw._lua_createtable(L, 0, keys.length);
      for (const key of keys) {
        this.pushPlain(L, value[key]);
        this.setField(L, key);
      }
    }
  }

  /** Pushes a table of string values (the request parameters). */
  pushStringTable(L: LuaState, record: Readonly<Record<string, string>>): void {
    const keys = Object.keys(record);
    this.raw._lua_createtable(L, 0, keys.length);
    for (const key of keys) {
      this.pushString(L, record[key] ?? '');
      this.setField(L, key);
    }
  }

  /** Pushes global `name`; returns its Lua type. */
  getGlobal(L: LuaState, name: string): LuaType {
    this.encode(name);
    return this.raw._lua_getglobal(L, this.scratch) as LuaType;
  }

  pcall(L: LuaState, nargs: number, nresults: number): number {
    return this.raw._lua_pcallk(L, nargs, nresults, 0, 0, 0);
  }

  setTop(L: LuaState, index: number): void {
    this.raw._lua_settop(L, index);
  }

  /** Whether the value at `index` is the boolean false (not nil). */
  isFalse(L: LuaState, index: number): boolean {
    return this.raw._lua_type(L, index) === LuaType.Boolean && this.raw._lua_toboolean(L, index) === 0;
  }

  /** Text of the error value at `index`, as the standalone `lua` interpreter prints it. */
  errorText(L: LuaState, index: number): string {
    const type = this.lua.lua_type(L, index);
    if (type === LuaType.String || type === LuaType.Number) return this.lua.lua_tolstring(L, index, null);
    return `(error object is a ${this.lua.lua_typename(L, type)} value)`;
  }
}

function isArray(value: object): value is readonly PlainValue[] {
  return Array.isArray(value);
}

/**
 * A LuaHandler section → one frozen, typed options object (idol-reference.md §4.2, decisions.md
 * "Handlers"). IDOL documents only `LuaScript`; the limits and the pool size are Tocsin's.
 * `Retries` and `RetryInterval` are read by the event engine, not here.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { SectionReader } from '../../../config/types.js';

export interface LuaHandlerOptions {
  /** `LuaScript` (required): the script, resolved against the config file's folder. */
  readonly scriptPath: string;
  /** `LuaTimeout` (default 5000 ms; a bare number is ms): longest run of one `handler` call. */
  readonly timeoutMs: number;
  /**
   * `LuaHardStopGrace` (default 3 ms; a bare number is ms): how long past LuaTimeout a script the
   * engine could not stop (a long C call) may run before its worker is terminated.
   */
  readonly hardStopGraceMs: number;
  /** `LuaMemoryLimit` (default 64MB): most memory the Lua state may hold. */
  readonly memoryLimit: number;
  /** `LuaAllowedPaths` (default none): folders `append_file` may write in. */
  readonly allowedPaths: readonly string[];
  /** `LuaWorkers` (default 1): worker threads, each with its own Lua state and globals. */
  readonly workers: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_WORKERS = 1;
/**
 * Measured (bench/lua-handler.ts, 2 cores, LuaTimeout=100, 40 runs, an otherwise quiet machine):
 * with 3 ms the worker is gone 4.9 / 6.1 ms past LuaTimeout (p50 / p99; terminate() takes ~2-3 ms
 * of that), 5.6 / 9.0 ms with the main thread saturated; with 5 ms, 7.6 / 11.3 ms saturated, past
 * the 10 ms. The engine's own limit stops a Lua loop within ~2 ms of
 * LuaTimeout: at 4-5 ms the hard stop won none of 100 races against it (a loop, a pcall loop);
 * with two CPU hogs running it won 1 in 40 at 5 ms, 2-5 in 40 at 4 ms, none at 10 ms. When it wins
 * the call fails all the same, but its worker and globals are replaced: a longer grace trades the
 * promptness of the hard stop for fewer such replacements.
 */
export const DEFAULT_HARD_STOP_GRACE_MS = 3;
const MIN_TIMEOUT_MS = 10;
const MAX_TIMEOUT_MS = 3_600_000;
const MAX_HARD_STOP_GRACE_MS = 60_000;

/** A getter returns undefined for a bad value as for an absent one; `has` tells them apart. */
function bad(section: SectionReader, key: string, value: unknown): boolean {
  return value === undefined && section.has(key);
}

/** Reads the section; undefined when any value is wrong (the problems are on the reader). */
export function readLuaOptions(section: SectionReader): LuaHandlerOptions | undefined {
  const scriptPath = section.path('LuaScript', { required: true });
  let timeoutMs = section.duration('LuaTimeout', { bareUnit: 'ms' });
  if (timeoutMs !== undefined && (timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS)) {
    section.error('LuaTimeout', `must be between ${MIN_TIMEOUT_MS} ms and ${MAX_TIMEOUT_MS / 60_000} minutes`);
    timeoutMs = undefined;
  }
  const hardStopGraceMs = section.duration('LuaHardStopGrace', { bareUnit: 'ms', min: 0, max: MAX_HARD_STOP_GRACE_MS });
  // The floor leaves room for the sandbox itself (~100 KB); the ceiling stays well inside 32-bit wasm memory.
  const memoryLimit = section.bytes('LuaMemoryLimit', { min: 1024 * 1024, max: 1024 * 1024 * 1024 });
  const workers = section.int('LuaWorkers', { min: 1, max: 32 });
  const allowedPaths = readAllowedPaths(section);
  if (
    scriptPath === undefined ||
    bad(section, 'LuaTimeout', timeoutMs) ||
    bad(section, 'LuaHardStopGrace', hardStopGraceMs) ||
    bad(section, 'LuaMemoryLimit', memoryLimit) ||
    bad(section, 'LuaWorkers', workers)
  ) {
    return undefined;
  }
  return Object.freeze({
    scriptPath,
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
    hardStopGraceMs: hardStopGraceMs ?? DEFAULT_HARD_STOP_GRACE_MS,
    memoryLimit: memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    allowedPaths,
    workers: workers ?? DEFAULT_WORKERS,
  });
}

/** Folders resolve like paths (against the folder of the file the key is in); missing ones warn. */
function readAllowedPaths(section: SectionReader): readonly string[] {
  const base = section.has('LuaAllowedPaths') ? dirname(section.locate('LuaAllowedPaths').file) : section.baseDir;
  const dirs = section.list('LuaAllowedPaths').map((p) => (isAbsolute(p) ? p : resolve(base, p)));
  for (const dir of dirs) {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) section.warning('LuaAllowedPaths', `${dir} is not a directory; append_file cannot write there`);
  }
  return Object.freeze(dirs);
}

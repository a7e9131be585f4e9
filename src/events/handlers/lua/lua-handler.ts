/**
 * LuaHandler: a small pool of worker slots running one script (decisions.md "Handlers").
 *
 * Each worker has its own Lua state, so script globals (a tally, say) are per worker. Events are
 * routed by action token (by queue for queue events), so all events of one action reach the same
 * worker, in order, and see the same globals; with the default `LuaWorkers=1` there is one state.
 *
 * `deliver` makes one attempt; the event engine owns retries (Retries / RetryInterval).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DeliveryError, type EventDelivery, type EventHandler, type HandlerContext } from '../../handler.js';
import type { LuaHandlerOptions } from './options.js';
import type { HardStop } from './protocol.js';
import { checkScript } from './script-check.js';
import type { ScriptSetup } from './spawn.js';
import { Supervisor } from './supervisor-client.js';
import { WorkerSlot } from './worker-slot.js';

export interface LuaHandlerStats {
  /** Runaway scripts stopped by terminating their worker (the latest 32 per worker). */
  readonly hardStops: readonly HardStop[];
  /** Workers started to replace one that was terminated or died. */
  readonly restarts: number;
}

/** The threads of a started handler: its supervisor and one slot per LuaWorkers. */
interface Pool {
  readonly slots: readonly WorkerSlot[];
  readonly supervisor: Supervisor;
}

/**
 * The handler's threads start on its first delivery, not at create(): a thread takes ~100-200 ms
 * to start, and a config with 25 LuaHandler sections kept the port closed for ~8 s while they
 * started one after the other (issue 18). The script was checked at create() all the same.
 */
export class LuaHandler implements EventHandler {
  private pool: Pool | undefined;
  private closed = false;

  /** `start` makes the pool; without it (check-config) the handler takes no events. */
  constructor(private readonly start?: () => Pool) {}

  deliver(event: EventDelivery, signal: AbortSignal): Promise<void> {
    if (!this.start) return Promise.reject(new DeliveryError('the Lua handler was not started', { retryable: false }));
    if (this.closed) return Promise.reject(new DeliveryError('the Lua handler is closed', { retryable: true }));
    this.pool ??= this.start();
    const slot = this.pool.slots[routeIndex(event.token ?? event.queue, this.pool.slots.length)]!;
    return slot.deliver(event, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    if (!pool) return;
    await Promise.all(pool.slots.map((slot) => slot.close()));
    await pool.supervisor.close();
  }

  /** Whether the worker threads have been started (by a first delivery). */
  get started(): boolean {
    return this.pool !== undefined;
  }

  stats(): LuaHandlerStats {
    const all = (this.pool?.slots ?? []).map((slot) => slot.stats);
    return { hardStops: all.flatMap((s) => s.hardStops), restarts: all.reduce((n, s) => n + s.restarts, 0) };
  }
}

/** FNV-1a: a stable, well spread slot index for a routing key. */
function routeIndex(key: string, size: number): number {
  if (size <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % size;
}

/**
 * Reads the script and checks it (script-check.ts: compiled, top level run, `handler` defined),
 * blocking: returns the handler, or the reason the script cannot be used (path and Lua line) for
 * the caller to record as a config error. With `start` false the handler returned takes no events
 * (check-config); else its threads start on its first delivery.
 */
export function loadLuaHandler(options: LuaHandlerOptions, context: HandlerContext, name: string, start: boolean): LuaHandler | string {
  let source: string;
  try {
    source = readFileSync(options.scriptPath, 'utf8');
  } catch (e) {
    return `cannot read ${options.scriptPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  const script: ScriptSetup = {
    scriptPath: options.scriptPath,
    chunkName: '=' + basename(options.scriptPath),
    source,
    timeoutMs: options.timeoutMs,
    memoryLimit: options.memoryLimit,
    allowedPaths: options.allowedPaths,
  };
  const error = checkScript(script);
  if (error !== undefined) return `${options.scriptPath}: ${error}`;
  if (!start) return new LuaHandler();
  return new LuaHandler(() => {
    const supervisor = new Supervisor(options.timeoutMs + options.hardStopGraceMs);
    const env = { script, supervisor, handlerName: name, log: context.log, send: context.send.bind(context) };
    return { supervisor, slots: Array.from({ length: options.workers }, () => new WorkerSlot(env)) };
  });
}

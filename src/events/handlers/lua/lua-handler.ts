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
import { spawnWorker, waitForLoad, type ScriptSetup } from './spawn.js';
import { Supervisor } from './supervisor-client.js';
import { WorkerSlot } from './worker-slot.js';

export interface LuaHandlerStats {
  /** Runaway scripts stopped by terminating their worker (the latest 32 per worker). */
  readonly hardStops: readonly HardStop[];
  /** Workers started to replace one that was terminated or died. */
  readonly restarts: number;
}

export class LuaHandler implements EventHandler {
  constructor(
    private readonly slots: readonly WorkerSlot[],
    private readonly supervisor?: Supervisor,
  ) {}

  deliver(event: EventDelivery, signal: AbortSignal): Promise<void> {
    const slot = this.slots[routeIndex(event.token ?? event.queue, this.slots.length)];
    if (!slot) return Promise.reject(new DeliveryError('the Lua handler was not started', { retryable: false }));
    return slot.deliver(event, signal);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.close()));
    await this.supervisor?.close();
  }

  stats(): LuaHandlerStats {
    const all = this.slots.map((slot) => slot.stats);
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
 * Reads and loads the script, blocking until the first worker has compiled it and run its top level:
 * returns the handler, or the reason the script cannot be used (path and Lua line) for the caller
 * to record as a config error. With `start` false the checking worker is stopped at once and the
 * handler returned takes no events (check-config).
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
  const supervisor = new Supervisor(options.timeoutMs + options.hardStopGraceMs);
  const first = spawnWorker(supervisor, script, !start);
  const error = waitForLoad(first);
  if (error !== undefined || !start) {
    first.callPort.close();
    first.replyPort.close();
    void supervisor.close();
  }
  if (error !== undefined) return `${options.scriptPath}: ${error}`;
  if (!start) return new LuaHandler([]);
  const env = { script, supervisor, handlerName: name, log: context.log, send: context.send.bind(context) };
  const slots = [new WorkerSlot(env, first)];
  for (let i = 1; i < options.workers; i++) slots.push(new WorkerSlot(env));
  return new LuaHandler(slots, supervisor);
}

/**
 * Entry point of a LuaHandler's supervisor thread (started by supervisor-client.ts from the compiled
 * `dist/.../lua/supervisor.js`). It creates the handler's Lua workers, because only a worker's
 * creator can terminate() it, and enforces their hard time limit (watchdog.ts) from here, where no
 * busy main thread can delay it. It reports to the host how each worker ended: stopped as a
 * runaway, died (an uncaught error, ERR_WORKER_OUT_OF_MEMORY from the resource limits), or
 * terminated on request. Calls and answers never pass through here (protocol.ts).
 *
 * Kept small and free of Lua: it must stay idle and quick to wake.
 */
import { Worker, parentPort } from 'node:worker_threads';
import { preciseNow, stateViews, type HostToSupervisor, type SupervisorToHost, type WorkerSetup } from './protocol.js';
import { watchCalls } from './watchdog.js';

/**
 * V8 heap limits for a Lua worker. Lua's own memory lives in WebAssembly memory, capped by
 * LuaMemoryLimit; these bound what the JS side (parse_xml results, message copies) can take, so a
 * worker that runs away there dies with ERR_WORKER_OUT_OF_MEMORY instead of taking the server.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

interface Supervised {
  readonly worker: Worker;
  readonly unwatch: () => void;
  /** Set once the end of this worker is decided; later exit and error events are not news. */
  ending: boolean;
}

if (!parentPort) throw new Error('supervisor.ts must run as a worker thread');
const host = parentPort;
const workers = new Map<number, Supervised>();

function report(message: SupervisorToHost): void {
  host.postMessage(message);
}

function spawn(id: number, setup: WorkerSetup, hardLimitMs: number): void {
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: setup,
    transferList: [setup.callPort, setup.replyPort],
    resourceLimits: RESOURCE_LIMITS,
    // A script's print() is routed to log(); nothing should reach the server's stdout or stderr.
    stdout: true,
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  const limits = { softMs: setup.timeoutMs, hardMs: hardLimitMs };
  const unwatch = watchCalls(stateViews(setup.state), limits, (seq, limitEnd) => void hardStop(id, seq, limitEnd));
  workers.set(id, { worker, unwatch, ending: false });
  worker.on('error', (error) => died(id, `the Lua worker failed: ${error.message}`));
  worker.on('exit', (code) => died(id, `the Lua worker exited (code ${code})`));
}

/** Ends a worker's supervision; undefined when its end was already decided. */
function end(id: number): Supervised | undefined {
  const entry = workers.get(id);
  if (!entry || entry.ending) return undefined;
  entry.ending = true;
  entry.unwatch();
  return entry;
}

async function hardStop(id: number, seq: number, limitEnd: number): Promise<void> {
  const entry = end(id);
  if (!entry) return;
  const begin = preciseNow();
  await entry.worker.terminate();
  const gone = preciseNow();
  workers.delete(id);
  report({ type: 'hardStop', id, seq, afterLimitMs: tenths(gone - limitEnd), terminateMs: tenths(gone - begin) });
}

function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function died(id: number, reason: string): void {
  if (!end(id)) return;
  workers.delete(id);
  report({ type: 'died', id, reason });
}

async function terminate(id: number): Promise<void> {
  const entry = end(id);
  // Unknown or already ending: its one report is sent (or on its way), which the host also awaits.
  if (!entry) return;
  await entry.worker.terminate();
  workers.delete(id);
  report({ type: 'terminated', id });
}

host.on('message', (message: HostToSupervisor) => {
  if (message.type === 'spawn') spawn(message.id, message.setup, message.hardLimitMs);
  else void terminate(message.id);
});

/**
 * Entry point of a Lua worker thread (spawned by supervisor.ts from the compiled
 * `dist/.../lua/worker.js`). It owns one sandboxed engine, loads the script once, then runs the
 * batches of calls the host posts on the call port, one call at a time, and answers each batch with
 * one message on the same port.
 *
 * Before each call it publishes the call's seq and start time in shared memory: that is what the
 * supervisor's hard time limit watches, so the limit holds even while this thread is stuck in a C
 * call that no hook can interrupt.
 */
import { workerData } from 'node:worker_threads';
import { appendAllowed, realAllowedDirs } from './append-file.js';
import { createHostRequester } from './host-request.js';
import { SandboxedLua, type ScriptApi } from './lua-engine.js';
import {
  RUNNING_SEQ,
  STARTED_AT,
  preciseNow,
  stateViews,
  type CallResult,
  type HostToWorker,
  type LogLine,
  type WorkerSetup,
  type WorkerToHost,
} from './protocol.js';
import { parseXml } from './xml.js';

/** Longest log line kept from a script; the rest is cut (a log call must not flood the server log). */
const MAX_LOG_CHARS = 8192;
/** Finished results are posted before the next call once a batch has run this long (ms), so a
 *  runaway call that gets this worker terminated loses at most this much of other calls' answers. */
const FLUSH_AFTER_MS = 2;

const setup = workerData as WorkerSetup;
const port = setup.callPort;
const { i32, f64 } = stateViews(setup.state);
const requester = createHostRequester(setup.replyPort, i32);
const allowedDirs = realAllowedDirs(setup.allowedPaths);

let results: CallResult[] = [];
let logs: LogLine[] = [];
let currentSeq = 0;
let engine: SandboxedLua | undefined;

function post(message: WorkerToHost): void {
  port.postMessage(message);
}

function flush(): void {
  if (results.length === 0 && logs.length === 0) return;
  post({ type: 'results', results, logs });
  results = [];
  logs = [];
}

const api: ScriptApi = {
  log(level, text) {
    logs.push({ level, text: text.length > MAX_LOG_CHARS ? text.slice(0, MAX_LOG_CHARS) + '…' : text, seq: currentSeq });
  },
  send(section, text) {
    if (currentSeq === 0) return 'only available while handling an event';
    flush(); // the host sees the script's earlier log lines before the sent text
    const seq = currentSeq;
    const reply = requester.request((id) => post({ type: 'send', id, seq, section, text }), engine?.deadline ?? 0);
    if (reply === undefined) return `LuaTimeout of ${setup.timeoutMs} ms exceeded waiting for section ${section}`;
    return reply.error;
  },
  appendFile(path, text) {
    if (currentSeq === 0) return 'only available while handling an event';
    return appendAllowed(path, text, allowedDirs);
  },
  parseXml,
};

function runBatch(message: HostToWorker): void {
  const lua = engine;
  if (!lua) return;
  let lastFlush = preciseNow();
  for (const call of message.calls) {
    const now = preciseNow();
    if (now - lastFlush >= FLUSH_AFTER_MS) {
      flush();
      lastFlush = now;
    }
    f64[STARTED_AT] = now;
    Atomics.store(i32, RUNNING_SEQ, call.seq); // after STARTED_AT: the store is the fence the supervisor relies on
    Atomics.notify(i32, RUNNING_SEQ); // wakes an idle supervisor (~35 ns when none waits)
    currentSeq = call.seq;
    // Not `results.push(lua.call(...))`: that reads `results` before the call, and a `send` inside
    // the call flushes and replaces the array, so the result would go into the one already posted.
    const result = lua.call(call.seq, call.request, call.xml);
    results.push(result);
    currentSeq = 0;
    Atomics.store(i32, RUNNING_SEQ, 0);
  }
  flush();
}

async function start(): Promise<void> {
  let error: string | undefined;
  try {
    engine = await SandboxedLua.create({ timeoutMs: setup.timeoutMs, memoryLimit: setup.memoryLimit }, api);
    error = engine.load(setup.source, setup.chunkName);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  post(error === undefined ? { type: 'loaded', ok: true } : { type: 'loaded', ok: false, error });
  flush();
  if (error === undefined) port.on('message', runBatch);
}

void start();

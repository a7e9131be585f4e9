/**
 * HttpHandler throughput: deliveries/s and p50/p99 latency through `deliver()` against a local
 * node:http sink, next to a bare undici `request()` POST loop to the same sink, at concurrency 8
 * and 32. The sink runs in a worker thread so that it does not share the client's event loop.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/http-handler.js [seconds-per-round] [rounds]
 */
import { setMaxListeners } from 'node:events';
import { Worker } from 'node:worker_threads';
import { request } from 'undici';
import { silentLogger } from '../src/common/logger.js';
import type { EventDelivery, EventHandler } from '../src/events/handler.js';
import { createHttpHandler } from '../src/events/handlers/http/deliver.js';
import { freezeOptions } from '../src/events/handlers/http/options.js';

/** Each variant runs ROUNDS times, interleaved, SECONDS each; medians are printed (a shared 2-core box swings ±40 % run to run). */
const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP_MS = 200;
const DOCUMENT = `<event><type>OnFinish</type><id>bench</id><time>2026-Nov-29 14:02:11</time><server>127.0.0.1:9000</server>` +
  `<action><status>Finished</status><queued_time>2026-Nov-29 14:02:10</queued_time><time_in_queue>0</time_in_queue>` +
  `<process_start_time>2026-Nov-29 14:02:10</process_start_time><time_processing>1</time_processing>` +
  `<process_end_time>2026-Nov-29 14:02:11</process_end_time><token>MTI3LjAuMC4xOjkwMDA6U0xFRVA6MTIzNDU2</token></action></event>`;

const SINK = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(204); res.end(); }); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** Runs `once` in `concurrency` loops for WARMUP_MS, then measures for SECONDS. */
async function measure(concurrency: number, once: (i: number) => Promise<void>): Promise<Result> {
  const latencies: number[] = [];
  let recording = false;
  let stop = false;
  let counter = 0;
  const loop = async () => {
    while (!stop) {
      const started = performance.now();
      await once(counter++);
      if (recording) latencies.push(performance.now() - started);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  recording = true;
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  recording = false;
  const elapsed = (performance.now() - began) / 1000;
  stop = true;
  await Promise.all(loops);
  const sorted = Float64Array.from(latencies).sort();
  return { perSecond: latencies.length / elapsed, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

function median(results: Result[]): Result {
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return { perSecond: mid(results.map((r) => r.perSecond)), p50: mid(results.map((r) => r.p50)), p99: mid(results.map((r) => r.p99)) };
}

function event(i: number): EventDelivery {
  return { id: `bench-${i}`, type: 'OnFinish', handler: 'Bench', queue: 'Sleep', document: DOCUMENT, request: {}, attempt: 1 };
}

function row(name: string, c: number, r: Result): string {
  return `${name.padEnd(28)} c=${String(c).padEnd(3)} ${r.perSecond.toFixed(0).padStart(7)}/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms`;
}

async function main(): Promise<void> {
  const sink = new Worker(SINK, { eval: true });
  const port = await new Promise<number>((resolve) => sink.once('message', resolve));
  const url = `http://127.0.0.1:${port}/hook`;
  // One long-lived signal, as the engine passes; undici adds one abort listener per request on it.
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const plain: EventHandler = createHttpHandler(freezeOptions({ url, timeoutMs: 30_000 }), silentLogger);
  const signed: EventHandler = createHttpHandler(freezeOptions({ url, timeoutMs: 30_000, signingKey: Buffer.from('bench-signing-key') }), silentLogger);
  const bare = async (i: number) => {
    const res = await request(url, {
      method: 'POST',
      body: DOCUMENT,
      headers: { 'content-type': 'application/xml; charset=utf-8', 'x-tocsin-event-type': 'OnFinish', 'x-tocsin-event-id': `bench-${i}` },
    });
    await res.body.dump();
  };
  console.log(`HttpHandler bench: median of ${ROUNDS} interleaved rounds of ${SECONDS} s, ${Buffer.byteLength(DOCUMENT)}-byte document, Node ${process.version}`);
  const variants: Array<[string, (i: number) => Promise<void>]> = [
    ['undici request() (baseline)', bare],
    ['HttpHandler.deliver()', (i) => plain.deliver(event(i), signal)],
    ['deliver() + SigningSecret', (i) => signed.deliver(event(i), signal)],
  ];
  // Warm every path (JIT, connection pools) before any measured run, so order does not favour one.
  for (const [, once] of variants) await measure(8, once);
  for (const c of [8, 32]) {
    const rounds: Result[][] = variants.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [v, [, once]] of variants.entries()) rounds[v]!.push(await measure(c, once));
    }
    const medians = rounds.map(median);
    variants.forEach(([name], v) => console.log(row(name, c, medians[v]!)));
    const [base, handler, withSigning] = medians as [Result, Result, Result];
    console.log(`  ratio deliver/baseline: ${(handler.perSecond / base.perSecond).toFixed(2)} (signed ${(withSigning.perSecond / base.perSecond).toFixed(2)})`);
  }
  await Promise.all([plain.close(), signed.close()]);
  await sink.terminate();
}

await main();

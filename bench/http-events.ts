/**
 * HttpHandler through the whole engine (issue "HttpHandler"): ACTIONS no-op actions (`Noop`,
 * submitted through `scheduler.submit`) at MaximumThreads=8 with `OnFinish` going to an HttpHandler
 * (`MaxConcurrentDeliveries` = CONCURRENCY, default 128: at 32 the deliveries fell behind the
 * actions, and the backlog was read back from the outbox) that POSTs to a local sink, each run in
 * its own child process with a fresh temp DataDirectory. The sink (bench/lib/http-sink.ts) is a node:http server
 * in a worker thread of that child, so it does not share the server's event loop; it answers 204
 * and notes when each body arrived and the `<token>` in it. Printed per run:
 *   - deliveries/s: ACTIONS events from the first submit to the last one received at the sink
 *     (every event is durable from its status change on: the planner appends it in the same
 *     transaction as the Finished status, and the engine delivers from that outbox);
 *   - drained: every event also marked delivered in the outbox (EventInfo pending = 0);
 *   - p50/p99/max latency from the status change (the no-op's run() returning, noted per token)
 *     to receipt at the sink (clock: `performance.timeOrigin + performance.now()` in both threads);
 *   - peak RSS of the child (it includes the sink's worker thread), sampled during the engine part;
 * and the ceiling, in the same child against the same sink: a bare undici `request()` POST loop of
 * pre-rendered event documents (same size, same headers) at the same concurrency, same count, with its
 * send → receipt latency; ratio = engine deliveries/s / ceiling. Before either part, PREWARM bare
 * POSTs warm the sink and undici (without them whichever part ran second gained ~1.5×); runs
 * alternate which part goes first. The figures are medians of RUNS runs.
 *
 * Two loads, each RUNS times: a burst (all ACTIONS submitted at once: the most deliveries/s; the
 * events queue behind the deliveries, so its latency is mostly backlog, ≈ the time to deliver what
 * settled before) and a steady rate of TARGET_DELIVERIES submits/s (the latency below saturation;
 * its deliveries/s is then the pace, if the engine keeps up). The warm-up goes like the measured
 * part. PACE=<submits/s> runs only that load (PACE=0: only the burst).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/http-events.js
 *   ACTIONS=10000 RUNS=3 WARMUP=500 PREWARM=3000 DURABILITY=process,power CONCURRENCY=32 node dist/bench/http-events.js
 *   PACE=2500 RUNS=1 node dist/bench/http-events.js
 *
 * Target (issue): >= 7,800 deliveries/s to a local sink with every event durable (the burst), and
 * p99 < 20 ms from status change to receipt (at 7,800 events/s).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { AsyncActionDefinition } from '../src/queue/action-definition.js';
import type { ActionRecord } from '../src/queue/record.js';
import { actionEventDocument } from '../src/events/document.js';
import { createToken } from '../src/queue/token.js';
import { CONTENT_TYPE, USER_AGENT } from '../src/events/handlers/http/deliver.js';
import { startBenchServer } from './lib/server.js';
import { startHttpSink, type HttpSink, type SinkReceipts } from './lib/http-sink.js';
import { Countdown } from './lib/countdown.js';
import { PeakRss } from './lib/rss.js';
import { runPool } from './lib/pool.js';
import { submitPaced } from './lib/paced.js';
import { runBenchScript, runInChild, type Durability } from './lib/child.js';
import { latencies, mb, ms, perSecond, rate, verdict, type LatencySummary } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { median, now, type SummaryRow } from './lib/summary.js';

const ACTIONS = Number(process.env.ACTIONS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 3);
/** Warm-up actions; a paced run warms up for a second of its pace at least. */
const WARMUP = Number(process.env.WARMUP ?? 500);
const DURABILITIES = (process.env.DURABILITY ?? 'process').split(',').map((d) => d.trim()) as Durability[];
const TARGET_DELIVERIES = 7_800;
const TARGET_P99_MS = 20;
/** Submissions per second of each load: 0 = all at once (the issue's burst); default: the burst and the target rate. */
const PACES = process.env.PACE !== undefined ? [Number(process.env.PACE)] : [0, TARGET_DELIVERIES];
/** Bare POSTs to the sink before anything is measured: the sink and undici are JIT-warm for both parts. */
const PREWARM = Number(process.env.PREWARM ?? 3_000);
const THREADS = 8;
/** In flight at once: the handler's MaxConcurrentDeliveries and the bare loop's concurrency alike. */
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 128);

interface HttpEventsScenario {
  readonly durability: Durability;
  readonly actions: number;
  readonly warmup: number;
  readonly ceilingFirst: boolean;
  readonly pace: number;
  readonly prewarm: number;
}

interface Ceiling {
  readonly perSec: number;
  /** Request sent → body received at the sink. */
  readonly latency: LatencySummary;
  readonly documentBytes: number;
  readonly received: number;
}

interface HttpEventsResult extends HttpEventsScenario {
  readonly deliveriesPerSec: number;
  readonly settledPerSec: number;
  readonly drainedMs: number;
  readonly latency: LatencySummary;
  /** Requests the sink received in the measured part, distinct tokens among them, tokens never received. */
  readonly received: number;
  readonly distinct: number;
  readonly missing: number;
  readonly documentBytes: number;
  readonly peakRss: number;
  readonly ceiling: Ceiling;
}

const config = (durability: Durability, port: number) => `[Actions]
MaximumThreads=${THREADS}
MaximumQueueSize=1000000
Durability=${durability}
OnFinish=Hook

[Hook]
LibraryName=HttpHandler
URL=http://127.0.0.1:${port}/e
MaxConcurrentDeliveries=${CONCURRENCY}
`;

/** Polls the outbox until no event is pending; resolves with the time it saw that. */
async function outboxDrained(eventCounts: () => Promise<{ state: string; count: number }[]>): Promise<number> {
  for (;;) {
    const counts = await eventCounts();
    if (!counts.some((c) => c.state === 'pending' && c.count > 0)) return now();
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Token → first receipt time. */
function firstReceipts(r: SinkReceipts): Map<string, number> {
  const first = new Map<string, number>();
  r.tokens.forEach((t, i) => {
    if (!first.has(t)) first.set(t, r.receivedAt[i]!);
  });
  return first;
}

/** The engine part: the server with its HttpHandler against `sink`. */
async function engine(s: HttpEventsScenario, sink: HttpSink): Promise<Omit<HttpEventsResult, keyof HttpEventsScenario | 'ceiling'>> {
  const returned = new Map<string, number>();
  const noop: AsyncActionDefinition = {
    name: 'Noop',
    run: async (ctx) => {
      returned.set(ctx.token, now());
    },
  };
  const settled = new Countdown();
  const bench = await startBenchServer({ config: config(s.durability, sink.port), actions: [noop] });
  const { scheduler, store } = bench.server;
  scheduler.onSettled(() => settled.tick());
  try {
    const submitAll = (n: number) => Promise.all(Array.from({ length: n }, () => scheduler.submit('Noop', [])));
    // The warm-up goes like the measured part (paced or at once), so that what is measured is the
    // steady state of that load, JIT and pools of every thread warm.
    const submit = (n: number) => (s.pace > 0 ? submitPaced(n, s.pace, () => scheduler.submit('Noop', [])) : submitAll(n));
    await Promise.all([sink.expect(s.warmup), settled.expect(s.warmup), submit(s.warmup)]);
    await outboxDrained(() => store.eventCounts());
    await sink.collect();
    returned.clear();

    const rss = new PeakRss();
    const allReceived = sink.expect(s.actions);
    const allSettled = settled.expect(s.actions);
    const t0 = now();
    const submitted = await submit(s.actions);
    const tokens = submitted.map((r) => r.token);
    await Promise.all([allReceived, allSettled]);
    const drainedAt = await outboxDrained(() => store.eventCounts());
    const peakRss = rss.stop();
    const receipts = await sink.collect();
    const first = firstReceipts(receipts);
    const samples: number[] = [];
    let missing = 0;
    let last = 0;
    for (const t of tokens) {
      const at = first.get(t);
      if (at === undefined) {
        missing++;
        continue;
      }
      last = Math.max(last, at);
      samples.push(at - returned.get(t)!);
    }
    return {
      deliveriesPerSec: perSecond(s.actions - missing, last - t0),
      settledPerSec: perSecond(s.actions, settled.at - t0),
      drainedMs: drainedAt - t0,
      latency: latencies(samples),
      received: receipts.receivedAt.length,
      distinct: first.size,
      missing,
      documentBytes: receipts.bytes / Math.max(1, receipts.receivedAt.length),
      peakRss,
    };
  } finally {
    await bench.close();
  }
}

/** A record shaped like a finished Noop action, for the ceiling's documents. */
function sampleRecord(token: string): ActionRecord {
  const t = Date.now();
  return { id: 1, token, queue: 'Noop', status: 'Finished', priority: 0, params: [], queuedAt: t, startedAt: t, endedAt: t, attempts: 1, reports: [] };
}

/**
 * The ceiling: `count` bare undici `request()` POSTs (global dispatcher) of pre-rendered event
 * documents with the handler's headers, `CONCURRENCY` in flight, to the same sink.
 */
async function ceiling(count: number, warmup: number, sink: HttpSink): Promise<Ceiling> {
  const server = '127.0.0.1:9000';
  const docs = Array.from({ length: count }, () => {
    const id = randomUUID();
    const t = createToken('127.0.0.1', 9000, 'Noop', Date.now());
    return { id, token: t, body: Buffer.from(actionEventDocument('OnFinish', id, Date.now(), server, sampleRecord(t)), 'utf8') };
  });
  const sentAt = new Float64Array(count);
  const post = async (i: number) => {
    const doc = docs[i % count]!;
    sentAt[i] = now();
    const res = await request(`http://127.0.0.1:${sink.port}/e`, {
      method: 'POST',
      body: doc.body,
      headers: { 'content-type': CONTENT_TYPE, 'user-agent': USER_AGENT, 'x-tocsin-event-type': 'OnFinish', 'x-tocsin-event-id': doc.id },
    });
    await res.body.dump();
    if (res.statusCode !== 204) throw new Error(`sink answered HTTP ${res.statusCode}`);
  };
  if (warmup > 0) {
    await Promise.all([sink.expect(warmup), runPool(warmup, CONCURRENCY, post)]);
    await sink.collect();
  }
  const allReceived = sink.expect(count);
  const t0 = now();
  await runPool(count, CONCURRENCY, post);
  const lastAt = await allReceived;
  const receipts = await sink.collect();
  const first = firstReceipts(receipts);
  const samples = docs.flatMap((d, i) => {
    const at = first.get(d.token);
    return at === undefined ? [] : [at - sentAt[i]!];
  });
  return {
    perSec: perSecond(count, lastAt - t0),
    latency: latencies(samples),
    documentBytes: receipts.bytes / Math.max(1, receipts.receivedAt.length),
    received: receipts.receivedAt.length,
  };
}

/** One run, in this (child) process: the engine and the ceiling against one sink. */
async function runScenario(s: HttpEventsScenario): Promise<HttpEventsResult> {
  const sink = await startHttpSink();
  try {
    await ceiling(s.prewarm, 0, sink);
    let c: Ceiling | undefined;
    if (s.ceilingFirst) c = await ceiling(s.actions, s.warmup, sink);
    const e = await engine(s, sink);
    c ??= await ceiling(s.actions, s.warmup, sink);
    return { ...s, ...e, ceiling: c };
  } finally {
    await sink.close();
  }
}

/** All runs (each in a child process), the table; rows for run.ts's summary. */
export async function runHttpEvents(): Promise<SummaryRow[]> {
  console.log(
    `\n== HttpHandler through the engine: ${ACTIONS.toLocaleString('en-US')} no-op actions, MaximumThreads=${THREADS}, OnFinish → HttpHandler ` +
      `(MaxConcurrentDeliveries=${CONCURRENCY}) → local sink (worker thread), ${PACES.map((p) => (p > 0 ? `paced at ${rate(p)} submits/s` : 'submitted at once')).join(' and ')}, ` +
      `warm-up ${WARMUP} (a second of the pace at least; +${PREWARM} bare POSTs), ${RUNS} run(s) each ==`,
  );
  const script = fileURLToPath(import.meta.url);
  const results: HttpEventsResult[] = [];
  for (const pace of PACES) {
    for (const durability of DURABILITIES) {
      for (let run = 0; run < RUNS; run++) {
        const warmup = Math.max(WARMUP, pace);
        results.push(await runInChild<HttpEventsResult>(script, { durability, actions: ACTIONS, warmup, ceilingFirst: run % 2 === 1, pace, prewarm: PREWARM } satisfies HttpEventsScenario));
      }
    }
  }
  const rows = results.map((r) => [
    r.pace > 0 ? `${rate(r.pace)}/s` : 'burst',
    r.durability,
    r.ceilingFirst ? 'ceiling' : 'engine',
    rate(r.deliveriesPerSec),
    rate(r.settledPerSec),
    ms(r.drainedMs),
    `${ms(r.latency.p50)} / ${ms(r.latency.p99)} / ${ms(r.latency.max)}`,
    rate(r.ceiling.perSec),
    `${ms(r.ceiling.latency.p50)} / ${ms(r.ceiling.latency.p99)}`,
    (r.deliveriesPerSec / r.ceiling.perSec).toFixed(3),
    mb(r.peakRss),
    `${Math.round(r.documentBytes)} / ${Math.round(r.ceiling.documentBytes)}`,
    r.missing === 0 && r.received === r.actions ? 'ok' : `${r.received} got, ${r.missing} missing`,
  ]);
  console.log(
    formatTable(
      ['load', 'durability', 'first', 'deliveries/s', 'actions/s', 'drained ms', 'latency ms p50 / p99 / max', 'ceiling/s', 'ceiling p50 / p99', 'vs ceiling', 'peak RSS', 'bytes engine / ceiling', 'received'],
      rows,
    ),
  );
  console.log('deliveries/s = first submit → last event received at the sink; actions/s = all settled; drained = all also marked delivered in the outbox');
  console.log('latency = status change (run() returned) → body received at the sink; ceiling latency = request sent → body received');
  console.log(`ceiling = bare undici request() POST loop, concurrency ${CONCURRENCY}, same sink, same count, pre-rendered documents; peak RSS includes the sink thread`);
  const summary = summarize(results);
  for (const row of summary) console.log(`median ${row.scenario}: ${row.throughput}, latency p50/p99 ${row.latency}, peak RSS ${row.peakRss}; target ${row.target}`);
  return summary;
}

/**
 * One row per load and durability. The burst is judged by deliveries/s (its latency is backlog by
 * construction), a paced load by its p99 and by keeping up with its pace.
 */
function summarize(results: readonly HttpEventsResult[]): SummaryRow[] {
  return PACES.flatMap((pace) => DURABILITIES.flatMap((durability) => {
    const runs = results.filter((r) => r.durability === durability && r.pace === pace);
    if (runs.length === 0) return [];
    const perSec = median(runs.map((r) => r.deliveriesPerSec));
    const ceilingPerSec = median(runs.map((r) => r.ceiling.perSec));
    const ratio = median(runs.map((r) => r.deliveriesPerSec / r.ceiling.perSec));
    const p99 = median(runs.map((r) => r.latency.p99));
    const complete = runs.every((r) => r.missing === 0);
    const met = pace > 0 ? perSec >= pace * 0.98 && p99 < TARGET_P99_MS : perSec >= TARGET_DELIVERIES;
    const target = pace > 0 ? `p99<${TARGET_P99_MS}ms at ${rate(pace)}/s` : `>=${rate(TARGET_DELIVERIES)}/s`;
    return [
      {
        bench: 'http-events',
        scenario: `OnFinish→HttpHandler/${durability}, ${pace > 0 ? `paced ${rate(pace)}/s` : 'burst'}`,
        throughput: `${rate(perSec)} deliveries/s (ceiling ${rate(ceilingPerSec)}/s, ratio ${ratio.toFixed(2)})`,
        latency: `${ms(median(runs.map((r) => r.latency.p50)))} / ${ms(p99)} ms`,
        peakRss: mb(median(runs.map((r) => r.peakRss))),
        target: `${target}: ${verdict(complete && met)}`,
      },
    ];
  }));
}

await runBenchScript<HttpEventsScenario>(import.meta.url, runScenario, runHttpEvents);

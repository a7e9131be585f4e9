/**
 * Event engine throughput (issue "event engine"): ACTIONS no-op actions (`Noop`, bulk library
 * submission) at MaximumThreads=8 with `OnStart` and `OnFinish` going to a TextFileHandler, for
 * `[Actions] Durability=process` and `=power`, each run in its own child process with a fresh temp
 * DataDirectory. Printed per run:
 *   - actions/s: all settled (`scheduler.onSettled`);
 *   - events/s: all 2N lines appended to the file;
 *   - end-to-end actions/s: every action settled AND both its events written (the events are durable
 *     from the status change on: the planner appends them in the same transaction);
 *   - outbox drained: every event also marked delivered in the store (EventInfo pending = 0);
 *   - p50/p99 latency from the status change to the line written. The handler is `TimedTextFile`,
 *     a code-defined library that delegates to the real TextFileHandler and notes the time after
 *     its write; the status change is, for OnStart, the earlier of the claim transaction's start
 *     and run() entry (the line can be written before run() is entered), for OnFinish the return
 *     of run() (the document's `<time>` has only whole seconds);
 *   - peak RSS;
 *   - the main thread's CPU time per action (lib/thread-cpu.ts), steadier than the rates on a
 *     shared VM: it tells two builds apart in fewer runs;
 * and the ceiling: the same work with no queue (8-wide pool; per action `await noop()` and two
 * fs.writeSync appends of event documents to a file), with the ratio.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/events.js
 *   ACTIONS=10000 RUNS=3 WARMUP=500 node dist/bench/events.js
 *
 * Target (issue): >= 14,000 actions/s with both events durable and written, p99 < 20 ms.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AsyncActionDefinition } from '../src/queue/action-definition.js';
import type { EventHandler, HandlerFactory } from '../src/events/handler.js';
import { textFileHandlerFactory } from '../src/events/handlers/textfile.js';
import { actionEventDocument } from '../src/events/document.js';
import type { ActionRecord } from '../src/queue/record.js';
import { startBenchServer } from './lib/server.js';
import { tocsinConfig } from './lib/tocsin-config.js';
import { Countdown } from './lib/countdown.js';
import { PeakRss } from './lib/rss.js';
import { threadCpuMs } from './lib/thread-cpu.js';
import { CommitProbe, describeCommits, type ClaimTimes, type CommitStats } from './lib/commit-probe.js';
import { runPool } from './lib/pool.js';
import { runBenchScript, runInChild, type Durability } from './lib/child.js';
import { latencies, mb, ms, perSecond, rate, verdict, type LatencySummary } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { median, now, type SummaryRow } from './lib/summary.js';

const ACTIONS = Number(process.env.ACTIONS ?? 10_000);
/** Runs per durability, alternating process and power; the summary takes medians (one slow minute of a shared VM moves one run, not the verdict). */
const RUNS = Number(process.env.RUNS ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 500);
const THREADS = 8;
const TARGET_ACTIONS = 14_000;
const TARGET_P99_MS = 20;

interface EventsScenario {
  readonly durability: Durability;
  readonly actions: number;
  readonly warmup: number;
}

interface EventsResult extends EventsScenario {
  readonly actionsPerSec: number;
  readonly eventsPerSec: number;
  readonly endToEndPerSec: number;
  readonly drainedMs: number;
  readonly latency: LatencySummary;
  readonly onStart: LatencySummary;
  readonly onFinish: LatencySummary;
  /** Claim transaction → run() entered (the OnStart line is often written before run() starts). */
  readonly runLag: LatencySummary;
  readonly commits: CommitStats;
  readonly elapsedMs: number;
  readonly linesInFile: number;
  readonly peakRss: number;
  /** Main-thread CPU time per action over the measured part, µs (undefined off Linux). */
  readonly mainCpuUsPerAction: number | undefined;
}

const config = (durability: Durability) =>
  tocsinConfig({ threads: THREADS, maxQueueSize: 1_000_000, durability, events: { kind: 'file', path: '%DIR%/events.log' }, textFileLibrary: 'TimedTextFile' });

/** The moments noted per action, as slots of its entry in `Marks`. */
const CLAIMED = 0;
const STARTED = 1;
const RETURNED = 2;
const ON_START_WRITTEN = 3;
const ON_FINISH_WRITTEN = 4;

/**
 * The probes' record: per action (by token), one array of its moments (NaN: not yet). One entry
 * per action, not one per moment under a `token|type` string: the probes' own allocations were
 * ~10 % of the main thread's time (GC included) in the measured part.
 */
class Marks {
  private readonly byToken = new Map<string, Float64Array>();

  set(token: string, slot: number, at: number): void {
    let marks = this.byToken.get(token);
    if (!marks) {
      marks = new Float64Array(5).fill(Number.NaN);
      this.byToken.set(token, marks);
    }
    marks[slot] = at;
  }

  /** The moment, or undefined if it was not noted. */
  get(token: string, slot: number): number | undefined {
    const at = this.byToken.get(token)?.[slot];
    return at === undefined || Number.isNaN(at) ? undefined : at;
  }

  clear(): void {
    this.byToken.clear();
  }

  /** The claim slot, as the commit probe's `ClaimTimes`. */
  claims(): ClaimTimes {
    return {
      get: (token) => this.get(token, CLAIMED),
      has: (token) => this.get(token, CLAIMED) !== undefined,
      set: (token, at) => this.set(token, CLAIMED, at),
      clear: () => this.clear(),
    };
  }
}

/** TextFileHandler, with the time each line was written noted in `marks`. */
function timedTextFile(marks: Marks, lines: Countdown): HandlerFactory {
  return {
    libraryName: 'TimedTextFile',
    defaultPolicy: textFileHandlerFactory.defaultPolicy,
    create(section, context, start) {
      const inner = textFileHandlerFactory.create(section, context, start);
      if (!inner) return undefined;
      const handler: EventHandler = {
        async deliver(event, signal) {
          await inner.deliver(event, signal);
          marks.set(event.token!, event.type === 'OnStart' ? ON_START_WRITTEN : ON_FINISH_WRITTEN, now());
          lines.tick();
        },
        close: () => inner.close(),
      };
      return handler;
    },
  };
}

/** Polls the outbox until no event is pending; resolves with the time it saw that. */
async function outboxDrained(eventCounts: () => Promise<{ state: string; count: number }[]>): Promise<number> {
  for (;;) {
    const counts = await eventCounts();
    if (!counts.some((c) => c.state === 'pending' && c.count > 0)) return now();
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One scenario, in this (child) process. */
async function runScenario(s: EventsScenario): Promise<EventsResult> {
  const marks = new Marks();
  const noop: AsyncActionDefinition = {
    name: 'Noop',
    run: async (ctx) => {
      marks.set(ctx.token, STARTED, now());
      marks.set(ctx.token, RETURNED, now());
    },
  };
  const lines = new Countdown();
  const settled = new Countdown();
  const bench = await startBenchServer({ config: config(s.durability), actions: [noop], handlers: [timedTextFile(marks, lines)] });
  const { scheduler, store } = bench.server;
  scheduler.onSettled(() => settled.tick());
  // OnStart's status change is the claim transaction: its events are handed to delivery before
  // commit() returns, and run() is entered after that, so neither would do.
  const probe = new CommitProbe(store, marks.claims());
  try {
    const submitAll = (n: number) => Promise.all(Array.from({ length: n }, () => scheduler.submit('Noop', [])));
    await Promise.all([settled.expect(s.warmup), lines.expect(2 * s.warmup), submitAll(s.warmup)]);
    await outboxDrained(() => store.eventCounts());
    probe.reset(); // clears the marks too

    const rss = new PeakRss();
    const cpu0 = threadCpuMs();
    const allSettled = settled.expect(s.actions);
    const allWritten = lines.expect(2 * s.actions);
    const t0 = now();
    const tokens = (await submitAll(s.actions)).map((r) => r.token);
    await Promise.all([allSettled, allWritten]);
    const cpu1 = threadCpuMs();
    const drainedAt = await outboxDrained(() => store.eventCounts());
    const peakRss = rss.stop();
    const mainCpuUsPerAction = cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / s.actions : undefined;
    // The status change: the earlier of the claim transaction and run() entry (with local claims
    // run() starts first and the start is committed after).
    const onStart = tokens.map((t) => marks.get(t, ON_START_WRITTEN)! - Math.min(marks.get(t, CLAIMED) ?? Infinity, marks.get(t, STARTED)!));
    const runLag = tokens.map((t) => marks.get(t, STARTED)! - marks.get(t, CLAIMED)!);
    const onFinish = tokens.map((t) => marks.get(t, ON_FINISH_WRITTEN)! - marks.get(t, RETURNED)!);
    const linesInFile = readFileSync(join(bench.dir, 'events.log'), 'utf8').split('\n').length - 1;
    return {
      ...s,
      actionsPerSec: perSecond(s.actions, settled.at - t0),
      eventsPerSec: perSecond(2 * s.actions, lines.at - t0),
      endToEndPerSec: perSecond(s.actions, Math.max(settled.at, lines.at) - t0),
      drainedMs: drainedAt - t0,
      latency: latencies([...onStart, ...onFinish]),
      onStart: latencies(onStart),
      onFinish: latencies(onFinish),
      runLag: latencies(runLag),
      commits: probe.snapshot(),
      elapsedMs: Math.max(settled.at, lines.at) - t0,
      linesInFile,
      peakRss,
      mainCpuUsPerAction,
    };
  } finally {
    await bench.close();
  }
}

/** A record shaped like a finished Noop action, for documents of the ceiling's own making. */
function sampleRecord(i: number): ActionRecord {
  const t = Date.now();
  return { id: i, token: `MTI3LjAuMC4xOjkwMDA6Tk9PUDoxNzY0NDI1MzMxMDAwOj${i}`, queue: 'Noop', status: 'Finished', priority: 0, params: [], queuedAt: t, startedAt: t, endedAt: t, attempts: 1, reports: [] };
}

/**
 * The ceiling: the same work with no queue, N × (`await noop()`, two writeSync appends) through an
 * 8-wide pool; `render` also builds each document as the planner does. Actions/s.
 */
async function ceiling(count: number, render: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-ceiling-'));
  const fd = openSync(join(dir, 'events.log'), 'a');
  const fixed = [actionEventDocument('OnStart', randomUUID(), Date.now(), '127.0.0.1:9000', sampleRecord(0)), actionEventDocument('OnFinish', randomUUID(), Date.now(), '127.0.0.1:9000', sampleRecord(0))];
  const noop = async () => {};
  const work = async (i: number) => {
    await noop();
    for (const type of ['OnStart', 'OnFinish'] as const) {
      const doc = render ? actionEventDocument(type, randomUUID(), Date.now(), '127.0.0.1:9000', sampleRecord(i)) : fixed[type === 'OnStart' ? 0 : 1]!;
      writeSync(fd, Buffer.from(doc + '\n', 'utf8'));
    }
  };
  try {
    await runPool(Math.min(count, 1000), THREADS, work); // warm-up
    const t0 = now();
    await runPool(count, THREADS, work);
    return perSecond(count, now() - t0);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** All scenarios (each in a child process), the ceilings, the table; rows for run.ts's summary. */
export async function runEvents(): Promise<SummaryRow[]> {
  console.log(`\n== event engine: ${ACTIONS.toLocaleString('en-US')} no-op actions, MaximumThreads=${THREADS}, OnStart+OnFinish → TextFileHandler, warm-up ${WARMUP}, ${RUNS} run(s) each ==`);
  const script = fileURLToPath(import.meta.url);
  const results: EventsResult[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const durability of ['process', 'power'] as const) results.push(await runInChild<EventsResult>(script, { durability, actions: ACTIONS, warmup: WARMUP } satisfies EventsScenario));
  }
  // Shown grouped by durability, in the order each ran.
  const order = ['process', 'power'];
  results.sort((a, b) => order.indexOf(a.durability) - order.indexOf(b.durability));
  for (const r of results) console.log(`  ${r.durability}: ${describeCommits(r.commits, r.elapsedMs)}`);
  const writeOnly = await ceiling(ACTIONS, false);
  const rendered = await ceiling(ACTIONS, true);
  const rows = results.map((r) => [
    r.durability,
    rate(r.actionsPerSec),
    rate(r.eventsPerSec),
    rate(r.endToEndPerSec),
    ms(r.drainedMs),
    `${ms(r.latency.p50)} / ${ms(r.latency.p99)}`,
    `${ms(r.onStart.p50)} / ${ms(r.onStart.p99)}`,
    `${ms(r.onFinish.p50)} / ${ms(r.onFinish.p99)}`,
    `${ms(r.runLag.p50)} / ${ms(r.runLag.p99)}`,
    mb(r.peakRss),
    r.mainCpuUsPerAction === undefined ? '-' : r.mainCpuUsPerAction.toFixed(0),
    (r.endToEndPerSec / rendered).toFixed(3),
    r.linesInFile === 2 * (r.actions + r.warmup) ? 'ok' : `${r.linesInFile}!`,
  ]);
  console.log(
    formatTable(
      ['durability', 'actions/s', 'events/s', 'end-to-end/s', 'drained ms', 'latency ms p50 / p99', 'OnStart p50 / p99', 'OnFinish p50 / p99', 'claim→run p50 / p99', 'peak RSS', 'main CPU µs/action', 'vs ceiling', 'lines'],
      rows,
    ),
  );
  console.log(`ceiling, no queue (8-wide pool, await noop() + 2 writeSync appends): ${rate(writeOnly)} actions/s with fixed documents, ${rate(rendered)} actions/s rendering each document`);
  console.log('main CPU µs/action = CPU time of the main thread (where the server runs) from submission to the last line written, per action');
  console.log('end-to-end/s = every action settled and both its lines written; drained = also marked delivered in the outbox');
  console.log('latency = status change → line written: OnStart from its claim transaction or run() entry (the earlier), OnFinish from run() returning');
  console.log(`target: >= ${rate(TARGET_ACTIONS)} actions/s end to end, latency p99 < ${TARGET_P99_MS} ms`);
  return summarize(results, writeOnly, rendered);
}

function summarize(results: readonly EventsResult[], writeOnly: number, rendered: number): SummaryRow[] {
  const rows: SummaryRow[] = (['process', 'power'] as const).flatMap((durability) => {
    const runs = results.filter((r) => r.durability === durability);
    if (runs.length === 0) return [];
    const e2e = median(runs.map((r) => r.endToEndPerSec));
    const p99 = median(runs.map((r) => r.latency.p99));
    return [
      {
        bench: 'events',
        scenario: `OnStart+OnFinish/${durability}`,
        throughput: `${rate(e2e)} actions/s, ${rate(median(runs.map((r) => r.eventsPerSec)))} ev/s`,
        latency: `${ms(median(runs.map((r) => r.latency.p50)))} / ${ms(p99)} ms`,
        peakRss: mb(median(runs.map((r) => r.peakRss))),
        target: `>=${rate(TARGET_ACTIONS)}/s & p99<${TARGET_P99_MS}ms: ${verdict(e2e >= TARGET_ACTIONS && p99 < TARGET_P99_MS)}`,
      },
    ];
  });
  rows.push({ bench: 'events', scenario: 'ceiling, no queue', throughput: `${rate(writeOnly)} / ${rate(rendered)} (rendered) actions/s`, latency: '', peakRss: '', target: '' });
  return rows;
}

await runBenchScript<EventsScenario>(import.meta.url, runScenario, runEvents);

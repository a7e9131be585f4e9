/**
 * One throughput scenario of bench/cluster.ts, run in its own (child) process: `nodes` real
 * `tocsin serve` processes on one store (SQLite: one node; PostgreSQL: a fresh database shared by
 * all), each with MaximumThreads=8, OnStart and OnFinish to one TextFileHandler file, the built-in
 * `Sleep` action with Seconds=0 as the no-op (EnableTestActions=true: a code-defined action cannot
 * be handed to a child process). `actions` submissions go over HTTP round-robin to the nodes,
 * `concurrency` in flight, from a worker thread; the bench watches the events file from outside.
 *
 * Measured:
 *   - actions/s: first submission → the last of the 2N lines seen in the file;
 *   - status change → line seen: the store's own started_at / ended_at of each action (ms, the
 *     node's clock, the `now` of its claim and settlement), read from the database afterwards,
 *     to when the bench saw its OnStart / OnFinish line (the event document's <time> has whole
 *     seconds only, so it cannot serve);
 *   - submission → OnFinish line seen, per action (includes the wait in the queue);
 *   - CPU time of the node processes and (local server) of the PostgreSQL backends of the
 *     scenario's database, per action;
 *   - which node ran how many, which node delivered the events (one per handler at a time).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { runHttpLoad, type HttpLoadResult } from './http-load.js';
import { EventFileWatch, type LineSeen } from './event-file-watch.js';
import { startNodeProcess, freePort, type NodeProcess } from './node-process.js';
import { backendPids, benchDatabase, databaseStats, type BenchDatabase, type DatabaseStats } from './pg-database.js';
import { CpuSpan } from './process-cpu.js';
import { PgWaitSampler, type WaitShare } from './pg-waits.js';
import { latencies, perSecond, type LatencySummary } from './stats.js';

export const THREADS = 8;
const PATH = '/action=Sleep&Seconds=0';
/** No new line for this long while lines are missing: the scenario is stuck. */
const STALL_MS = 30_000;

export type StoreKind = 'sqlite' | 'postgres';

export interface ThroughputScenario {
  readonly kind: 'throughput';
  readonly store: StoreKind;
  readonly nodes: number;
  readonly actions: number;
  readonly warmup: number;
  readonly concurrency: number;
  /** Write a V8 CPU profile of each node here (`CPU_PROF=<dir>`). */
  readonly cpuProfDir?: string;
  /** Sample pg_stat_activity during the measured part (`PG_WAITS=1`). */
  readonly pgWaits?: boolean;
  /**
   * Submit every action to the paused queue first, then resume it and time the processing only
   * (`PRELOAD=1`, the default): how graphile-worker's and BullMQ's own benchmarks time a queue,
   * and the only way to see the store's rate rather than the HTTP submission rate.
   */
  readonly preload?: boolean;
}

export interface ThroughputResult extends ThroughputScenario {
  readonly actionsPerSec: number;
  readonly submittedPerSec: number;
  readonly elapsedMs: number;
  readonly errors: number;
  readonly firstError?: string;
  /** Status change (store time) → line seen, OnStart, OnFinish, and both together. */
  readonly onStart: LatencySummary;
  readonly onFinish: LatencySummary;
  readonly statusToLine: LatencySummary;
  /** HTTP request sent → OnFinish line seen. */
  readonly submitToFinish: LatencySummary;
  readonly lines: number;
  readonly duplicates: number;
  readonly perNode: readonly (readonly [string, number])[];
  readonly deliveredBy: string;
  /** CPU ms per 1,000 actions: all node processes, and the database's backends (undefined: not measurable). */
  readonly nodeCpuPerK: number | undefined;
  readonly pgCpuPerK: number | undefined;
  /** PostgreSQL transactions and rows written per action, warm-up, start-up and heartbeats included. */
  readonly pgTransactionsPerAction: number | undefined;
  readonly pgRowsPerAction: number | undefined;
  /** What the database's sessions were doing (PG_WAITS=1). */
  readonly waits?: readonly WaitShare[];
}

function nodeConfig(s: ThroughputScenario, dir: string, k: number, db: BenchDatabase | undefined): string {
  const store = db ? `DatastoreType=postgres\nConnectionString=${db.url}\n` : 'Durability=process\n';
  return `[Server]
Host=127.0.0.1
DataDirectory=${join(dir, `node${k}`)}
NodeName=bench-node-${k}
ShutdownGrace=0
LogLevel=warn

[Actions]
MaximumThreads=${THREADS}
MaximumQueueSize=1000000
EnableTestActions=true
OnStart=EventLog
OnFinish=EventLog
${store}
[EventLog]
LibraryName=TextFileHandler
FilePath=${join(dir, 'events.log')}
`;
}

async function startNodes(s: ThroughputScenario, dir: string, db: BenchDatabase | undefined): Promise<NodeProcess[]> {
  const nodes: NodeProcess[] = [];
  for (let k = 1; k <= s.nodes; k++) {
    mkdirSync(join(dir, `node${k}`));
    const file = join(dir, `node${k}.cfg`);
    writeFileSync(file, nodeConfig(s, dir, k, db));
    const prof = s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`, `--cpu-prof-name=${s.store}-${s.nodes}nodes-node${k}.cpuprofile`] : [];
    nodes.push(await startNodeProcess(file, await freePort(), prof));
  }
  return nodes;
}

/** Waits until `n` distinct actions have both lines in the file; rejects when the file stops growing. */
async function allLines(watch: EventFileWatch, n: number): Promise<void> {
  let count = -1;
  let since = Date.now();
  const stall = setInterval(() => {
    if (watch.lines.length !== count) (count = watch.lines.length), (since = Date.now());
  }, 1000);
  try {
    await Promise.race([
      watch.until(() => watch.distinct('OnFinish') >= n && watch.distinct('OnStart') >= n),
      new Promise<never>((_, reject) => {
        const check = setInterval(() => {
          if (Date.now() - since < STALL_MS) return;
          clearInterval(check);
          reject(new Error(`events file stuck at ${watch.distinct('OnStart')} OnStart / ${watch.distinct('OnFinish')} OnFinish of ${n}`));
        }, 1000);
        check.unref();
      }),
    ]);
  } finally {
    clearInterval(stall);
  }
}

/** token → first time its line of `type` was seen. */
function firstSeen(lines: readonly LineSeen[], type: string): Map<string, number> {
  const first = new Map<string, number>();
  for (const l of lines) if (l.type === type && !first.has(l.token)) first.set(l.token, l.at);
  return first;
}

interface StoreTimes {
  readonly times: Map<string, { startedAt: number; endedAt: number }>;
  readonly perNode: [string, number][];
  readonly deliveredBy: string;
}

async function postgresTimes(db: BenchDatabase, tokens: readonly string[]): Promise<StoreTimes> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const rows = await client.query<{ token: string; started_at: string; ended_at: string; owner: string }>(
      'SELECT token, started_at, ended_at, owner FROM actions WHERE token = ANY($1::text[])',
      [tokens],
    );
    const leases = await client.query<{ handler: string; node: string }>('SELECT handler, node FROM delivery_leases ORDER BY handler');
    const perNode = new Map<string, number>();
    for (const r of rows.rows) perNode.set(r.owner, (perNode.get(r.owner) ?? 0) + 1);
    return {
      times: new Map(rows.rows.map((r) => [r.token, { startedAt: Number(r.started_at), endedAt: Number(r.ended_at) }])),
      perNode: [...perNode].sort(),
      deliveredBy: leases.rows.map((l) => `${l.node} (${l.handler})`).join(', '),
    };
  } finally {
    await client.end();
  }
}

/** Read after the node stopped (one process owns a SQLite store). */
function sqliteTimes(dir: string, tokens: readonly string[]): StoreTimes {
  const db = new Database(join(dir, 'node1', 'tocsin.db'), { readonly: true });
  try {
    const wanted = new Set(tokens);
    const rows = db.prepare<[], { token: string; started_at: number; ended_at: number }>("SELECT token, started_at, ended_at FROM actions WHERE queue = 'Sleep'").all();
    const times = new Map(rows.filter((r) => wanted.has(r.token)).map((r) => [r.token, { startedAt: r.started_at, endedAt: r.ended_at }]));
    return { times, perNode: [['bench-node-1', times.size]], deliveredBy: 'bench-node-1' };
  } finally {
    db.close();
  }
}

/** QueueInfo Pause / Resume of the Sleep queue: cluster-wide, sent to one node. */
async function setPaused(node: NodeProcess, paused: boolean): Promise<void> {
  const res = await fetch(`${node.url}/action=QueueInfo&QueueName=Sleep&QueueAction=${paused ? 'Pause' : 'Resume'}`);
  const body = await res.text();
  if (!body.includes('<response>SUCCESS</response>')) throw new Error(`QueueAction=${paused ? 'Pause' : 'Resume'} failed: ${body.slice(0, 300)}`);
}

function load(nodes: readonly NodeProcess[], count: number, concurrency: number): Promise<HttpLoadResult> {
  return runHttpLoad({ url: nodes[0]!.url, urls: nodes.map((n) => n.url), path: PATH, count, concurrency });
}

interface Measured {
  readonly load: HttpLoadResult;
  readonly lines: LineSeen[];
  readonly nodeCpuMs: number | undefined;
  readonly pgCpuMs: number | undefined;
  readonly waits?: WaitShare[];
}

/** Warm-up, then the measured burst; every line of both in the file before it returns. */
async function drive(s: ThroughputScenario, nodes: readonly NodeProcess[], watch: EventFileWatch, db: BenchDatabase | undefined): Promise<Measured> {
  const warm = await load(nodes, s.warmup, s.concurrency);
  if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} HTTP errors, first: ${warm.firstError}`);
  await allLines(watch, s.warmup);
  watch.mark();
  const nodeCpu = new CpuSpan();
  const pgCpu = new CpuSpan();
  nodeCpu.start(nodes.map((n) => n.pid));
  if (db) pgCpu.start(await backendPids(db.name));
  const sampler = db && s.pgWaits ? new PgWaitSampler(db.name) : undefined;
  let measured: HttpLoadResult;
  if (s.preload) {
    // Time and CPU count from the resume: the processing alone.
    await setPaused(nodes[0]!, true);
    const submitted = await load(nodes, s.actions, s.concurrency);
    nodeCpu.start(nodes.map((n) => n.pid));
    if (db) pgCpu.start(await backendPids(db.name));
    const resumedAt = performance.timeOrigin + performance.now();
    await setPaused(nodes[0]!, false);
    measured = { ...submitted, startedAt: resumedAt, endedAt: resumedAt };
  } else {
    measured = await load(nodes, s.actions, s.concurrency);
  }
  await allLines(watch, s.actions - measured.errors);
  const cpu = { nodeCpuMs: nodeCpu.stop(), pgCpuMs: db ? pgCpu.stop() : undefined };
  const waits = await sampler?.stop();
  return { load: measured, lines: watch.lines, ...cpu, ...(waits ? { waits } : {}) };
}

function summarize(s: ThroughputScenario, m: Measured, store: StoreTimes, stats: DatabaseStats | undefined): ThroughputResult {
  const started = firstSeen(m.lines, 'OnStart');
  const finished = firstSeen(m.lines, 'OnFinish');
  const onStart: number[] = [];
  const onFinish: number[] = [];
  const submitToFinish: number[] = [];
  let last = 0;
  m.load.tokens.forEach((token, i) => {
    const s0 = started.get(token);
    const f0 = finished.get(token);
    const t = store.times.get(token);
    if (s0 === undefined || f0 === undefined) return;
    last = Math.max(last, s0, f0);
    submitToFinish.push(f0 - m.load.sentAt[i]!);
    if (t) onStart.push(s0 - t.startedAt), onFinish.push(f0 - t.endedAt);
  });
  const done = s.actions - m.load.errors;
  const perK = (cpu: number | undefined) => (cpu === undefined || done === 0 ? undefined : (cpu * 1000) / done);
  return {
    ...s,
    actionsPerSec: perSecond(done, last - m.load.startedAt),
    submittedPerSec: perSecond(done, m.load.endedAt - m.load.startedAt),
    elapsedMs: last - m.load.startedAt,
    errors: m.load.errors,
    ...(m.load.firstError ? { firstError: m.load.firstError } : {}),
    onStart: latencies(onStart),
    onFinish: latencies(onFinish),
    statusToLine: latencies([...onStart, ...onFinish]),
    submitToFinish: latencies(submitToFinish),
    lines: m.lines.length,
    duplicates: m.lines.length - started.size - finished.size,
    perNode: store.perNode,
    deliveredBy: store.deliveredBy,
    nodeCpuPerK: perK(m.nodeCpuMs),
    pgCpuPerK: perK(m.pgCpuMs),
    pgTransactionsPerAction: stats ? stats.transactions / (s.warmup + s.actions) : undefined,
    pgRowsPerAction: stats ? stats.rowsWritten / (s.warmup + s.actions) : undefined,
    ...(m.waits ? { waits: m.waits } : {}),
  };
}

export async function runThroughput(s: ThroughputScenario): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-cluster-'));
  const db = s.store === 'postgres' ? await benchDatabase() : undefined;
  const watch = new EventFileWatch(join(dir, 'events.log'));
  let nodes: NodeProcess[] = [];
  try {
    nodes = await startNodes(s, dir, db);
    const measured = await drive(s, nodes, watch, db);
    const tokens = measured.load.tokens.filter((t) => t !== '');
    await Promise.all(nodes.map((n) => n.stop()));
    // The nodes' sessions have ended, so the database's figures are complete.
    const stats = db ? await databaseStats(db.name) : undefined;
    const store = db ? await postgresTimes(db, tokens) : sqliteTimes(dir, tokens);
    return summarize(s, measured, store, stats);
  } catch (e) {
    for (const n of nodes) process.stderr.write(`--- ${n.url} stderr (tail) ---\n${n.stderr().slice(-3000)}\n`);
    throw e;
  } finally {
    watch.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

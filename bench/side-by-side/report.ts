/**
 * The side-by-side table: one row per figure, the median over runs of each system, the ceiling
 * where one applies, and the ratios Tocsin/peer and Tocsin/ceiling (for a "lower is better" row
 * a ratio under 1 is Tocsin ahead). Rows are data; the printed table, latest.json and the chart
 * all read them.
 */
import type { CeilingsResult } from './ceilings.js';
import type { CrashResult } from './crash.js';
import { crashRows } from './crash-rows.js';
import type { EventsToFileResult } from './events-to-file.js';
import { medianOf, perSystem, row, type Pick, type Row } from './row.js';
import type { ScaleResult } from './scale.js';
import { scaleRows } from './scale-rows.js';
import type { Sizes } from './sizes.js';
import type { SubmissionResult } from './submission.js';
import { HEADS, type SystemId } from './systems.js';
import type { WebhookLoad, WebhookResult } from './webhook.js';
import { rate } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';

/** Every result of one system (or of the ceilings) over the runs. */
export interface Runs {
  readonly eventsToFile: Partial<Record<SystemId, EventsToFileResult[]>>;
  readonly webhook: Partial<Record<SystemId, WebhookResult[]>>;
  readonly submission: SubmissionResult[];
  readonly scale: Partial<Record<SystemId, ScaleResult[]>>;
  readonly crash: Partial<Record<SystemId, CrashResult[]>>;
  readonly ceilings: CeilingsResult[];
}

export type { Row };

function loadOf(r: WebhookResult, perSec: number): WebhookLoad {
  return r.loads.find((l) => l.perSec === perSec) ?? { perSec, eventsPerSec: Number.NaN, latency: { p50: Number.NaN, p99: Number.NaN, max: Number.NaN }, received: 0, expected: 0 };
}

export function buildRows(runs: Runs, s: Sizes): Row[] {
  const paces = s.paces.map((p) => p.perSec);
  const httpInFlight = s.httpInFlight;
  const w1 = runs.eventsToFile;
  const c = (pick: Pick<CeilingsResult>) => medianOf(runs.ceilings, pick);
  const rows: Row[] = [
    row('W1 events to a file', 'enqueue, bulk', 'jobs/s', 'higher', perSystem(w1, (r) => r.enqueueBulkPerSec)),
    row('W1 events to a file', 'enqueue, one at a time', 'jobs/s', 'higher', perSystem(w1, (r) => r.enqueueOnePerSec)),
    row('W1 events to a file', 'completed', 'jobs/s', 'higher', perSystem(w1, (r) => r.completedPerSec), { name: 'job loop + appends', value: c((r) => r.jobsWithLinesPerSec) }),
    row('W1 events to a file', 'time to last line', 'ms', 'lower', perSystem(w1, (r) => r.lastLineMs), { name: 'job loop + appends', value: c((r) => r.jobsWithLinesMs) }),
    row('W1 events to a file', 'peak RSS (node process)', 'MB', 'lower', perSystem(w1, (r) => r.peakRss / 1048576)),
  ];
  for (const pace of [0, ...paces]) {
    const name = pace === 0 ? 'W2 webhook, burst' : `W2 webhook, paced ${rate(pace)}/s`;
    const ceiling = pace === 0 ? { name: 'bare undici POST loop', value: c((r) => r.postsPerSec) } : undefined;
    rows.push(
      row(name, 'events', 'events/s', 'higher', perSystem(runs.webhook, (r) => loadOf(r, pace).eventsPerSec), ceiling),
      row(name, 'latency p50 (job end → receipt)', 'ms', 'lower', perSystem(runs.webhook, (r) => loadOf(r, pace).latency.p50)),
      row(name, 'latency p99', 'ms', 'lower', perSystem(runs.webhook, (r) => loadOf(r, pace).latency.p99)),
      // A system far behind is measured on what arrived within the wait (sizes.ts lateMs): this says how much.
      row(name, 'received within the wait', '%', 'higher', perSystem(runs.webhook, (r) => (100 * loadOf(r, pace).received) / Math.max(1, loadOf(r, pace).expected))),
    );
  }
  // The peers' figures here are W1's enqueue phases (add / addJob awaited one by one; addBulk / addJobs).
  const sub = (pick: Pick<SubmissionResult>, peer: Pick<EventsToFileResult>): Partial<Record<SystemId, number>> => {
    const values = perSystem(w1, peer);
    delete values.tocsin;
    const t = medianOf(runs.submission, pick);
    return t === undefined ? values : { ...values, tocsin: t };
  };
  rows.push(
    row('submission over the wire', 'one at a time (Tocsin ACI HTTP; peers add/addJob)', 'jobs/s', 'higher', sub((r) => r.onePerSec, (r) => r.enqueueOnePerSec)),
    row('submission over the wire', `${httpInFlight} in flight (Tocsin ACI HTTP; peers addBulk/addJobs)`, 'jobs/s', 'higher', sub((r) => r.manyPerSec, (r) => r.enqueueBulkPerSec)),
    ...scaleRows(runs.scale, s.scaleWaiting),
    ...crashRows(runs.crash, s.crashJobs, s.crashJobMs, s.crashKillAfterMs),
    row('ceilings', 'bare append loop', 'lines/s', 'higher', {}, { name: 'append loop', value: c((r) => r.appendsPerSec) }),
    row('ceilings', 'in-memory job loop, no persistence', 'jobs/s', 'higher', {}, { name: 'job loop', value: c((r) => r.jobsPerSec) }),
  );
  return rows;
}

function figure(v: number | undefined, unit: string, note?: string): string {
  if (v === undefined) return note ?? '-';
  if (unit === '×') return v.toFixed(2);
  if (unit === 'ms') return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
  return rate(v);
}

const ratio = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}×`);

/** Column heads and cells of the table: absolute figures, then the ratios. */
function tableCells(rows: readonly Row[], present: readonly SystemId[]): { headers: string[]; cells: string[][] } {
  const peers = present.filter((s) => s !== 'tocsin');
  const headers = ['workload', 'figure', 'unit', ...present.map((s) => HEADS[s]), 'ceiling', ...peers.map((p) => `T/${HEADS[p]}`), 'T/ceiling'];
  const cells = rows.map((r) => [
    r.workload,
    r.figure,
    r.unit,
    ...present.map((s) => figure(r.values[s], r.unit, r.notes?.[s])),
    figure(r.ceiling, r.unit),
    ...peers.map((p) => ratio(r.ratios[p])),
    ratio(r.ratios.ceiling),
  ]);
  return { headers, cells };
}

/** The printed table. */
export function formatRows(rows: readonly Row[], present: readonly SystemId[]): string {
  const { headers, cells } = tableCells(rows, present);
  return formatTable(headers, cells);
}

/** The same table in Markdown (bench/results/latest.md, for the README). */
export function markdownRows(rows: readonly Row[], present: readonly SystemId[]): string {
  const { headers, cells } = tableCells(rows, present);
  const line = (c: readonly string[]) => `| ${c.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i < 3 ? '---' : '---:'))), ...cells.map(line)].join('\n');
}

/** What the table's rows mean, printed under it and written to latest.md. */
export function tableNotes(s: Sizes): string[] {
  return [
    'W1: enqueue with the workers paused; completed/s and time to last line from their resume. Tocsin enqueues through its library API (in process), the peers over the wire to Redis / PostgreSQL.',
    'W2: latency from the job function returning to receipt at the sink; Tocsin posts from its durable outbox (HttpHandler), the peers from their completion event (not durable).',
    "Submission: Tocsin over ACI HTTP with its queue paused; the peers' figures are W1's enqueue phases. Peak RSS: the node process only (Redis, PostgreSQL not counted).",
    `Scale: a queue per backlog, loaded in bulk, no job events; ${s.scaleSubmits} submissions awaited one by one (Tocsin in process, the peers over the wire), then ${rate(s.scaleClaims)} jobs timed through the workers after ${s.scaleWarmIn}.`,
    `Crash: the worker process gets SIGKILL ${s.crashKillAfterMs / 1000} s after it starts, a new one is started at once, every setting at its default; completion events POSTed to a sink process (Tocsin from its outbox). ` +
      `Lost: a job whose body ended but no completion event came (${s.crashEventGraceMs / 1000} s allowed after the last end); run twice: its body started twice; recovery bounded at ${s.crashBoundMs / 1000} s ` +
      "(BullMQ moves a stalled job back once its 30 s lock has expired; graphile-worker frees a crashed worker's jobs after 4 hours).",
    ...(s.extraColumns ? [] : ['--quick: scale and crash not run on BullMQ with AOF, nor scale on Tocsin with PostgreSQL (the full form runs them); the crash kills the worker, not Redis.']),
    'T/x = Tocsin / x: above 1 is Tocsin ahead for /s rows, below 1 for ms, MB, jobs and × rows.',
  ];
}

/**
 * The side-by-side table: one row per figure, the median over runs of each system, the ceiling
 * where one applies, and the ratios Tocsin/peer and Tocsin/ceiling (for a "lower is better" row
 * a ratio under 1 is Tocsin ahead). Rows are data; the printed table, latest.json and the chart
 * all read them.
 */
import type { CeilingsResult } from './ceilings.js';
import type { EventsToFileResult } from './events-to-file.js';
import type { SubmissionResult } from './submission.js';
import { HEADS, SYSTEMS, type SystemId } from './systems.js';
import type { WebhookLoad, WebhookResult } from './webhook.js';
import { median } from '../lib/summary.js';
import { rate } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';

/** Every result of one system (or of the ceilings) over the runs. */
export interface Runs {
  readonly eventsToFile: Partial<Record<SystemId, EventsToFileResult[]>>;
  readonly webhook: Partial<Record<SystemId, WebhookResult[]>>;
  readonly submission: SubmissionResult[];
  readonly ceilings: CeilingsResult[];
}

export interface Row {
  readonly workload: string;
  readonly figure: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** Medians over runs; absent: not measured (skipped or failed). */
  readonly values: Partial<Record<SystemId, number>>;
  readonly ceiling?: number;
  readonly ceilingName?: string;
  /** Tocsin / each peer, and Tocsin / ceiling. */
  readonly ratios: Partial<Record<SystemId | 'ceiling', number>>;
}

type Pick<R> = (r: R) => number;

function medianOf<R>(runs: readonly R[] | undefined, pick: Pick<R>): number | undefined {
  const values = (runs ?? []).map(pick).filter(Number.isFinite);
  return values.length > 0 ? median(values) : undefined;
}

function row(workload: string, figure: string, unit: string, better: Row['better'], values: Partial<Record<SystemId, number>>, ceiling?: { name: string; value: number | undefined }): Row {
  const ratios: Row['ratios'] = {};
  const t = values.tocsin;
  if (t !== undefined) {
    for (const peer of SYSTEMS) {
      const v = values[peer];
      if (peer !== 'tocsin' && v !== undefined && v > 0) ratios[peer] = t / v;
    }
    if (ceiling?.value !== undefined && ceiling.value > 0) ratios.ceiling = t / ceiling.value;
  }
  return { workload, figure, unit, better, values, ratios, ...(ceiling?.value !== undefined ? { ceiling: ceiling.value, ceilingName: ceiling.name } : {}) };
}

function perSystem<R>(runs: Partial<Record<SystemId, R[]>>, pick: Pick<R>): Partial<Record<SystemId, number>> {
  const out: Partial<Record<SystemId, number>> = {};
  for (const s of SYSTEMS) {
    const v = medianOf(runs[s], pick);
    if (v !== undefined) out[s] = v;
  }
  return out;
}

function loadOf(r: WebhookResult, perSec: number): WebhookLoad {
  return r.loads.find((l) => l.perSec === perSec) ?? { perSec, eventsPerSec: Number.NaN, latency: { p50: Number.NaN, p99: Number.NaN, max: Number.NaN }, received: 0, expected: 0 };
}

export function buildRows(runs: Runs, paces: readonly number[], httpInFlight: number): Row[] {
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
    row('ceilings', 'bare append loop', 'lines/s', 'higher', {}, { name: 'append loop', value: c((r) => r.appendsPerSec) }),
    row('ceilings', 'in-memory job loop, no persistence', 'jobs/s', 'higher', {}, { name: 'job loop', value: c((r) => r.jobsPerSec) }),
  );
  return rows;
}

function figure(v: number | undefined, unit: string): string {
  if (v === undefined) return '-';
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
    ...present.map((s) => figure(r.values[s], r.unit)),
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

/**
 * One row of bench/run.ts's closing table; each bench returns its rows.
 */
export interface SummaryRow {
  readonly bench: string;
  readonly scenario: string;
  /** Main throughput figure, with its unit. */
  readonly throughput: string;
  readonly latency: string;
  readonly peakRss: string;
  /** Target and whether it was met, or '' when the row has none. */
  readonly target: string;
}

export const SUMMARY_HEADERS = ['bench', 'scenario', 'throughput', 'latency p50/p99', 'peak RSS', 'target'];

export function summaryCells(r: SummaryRow): string[] {
  return [r.bench, r.scenario, r.throughput, r.latency, r.peakRss, r.target];
}

/** Wall-clock epoch ms with sub-ms precision, comparable across threads and with Date.now(). */
export const now = (): number => performance.timeOrigin + performance.now();

/** Median of run figures (runs of one scenario on a noisy box). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

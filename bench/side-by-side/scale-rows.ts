/**
 * The scale workload's rows (scale.ts): per figure, its value with each backlog waiting, and the
 * cost with the largest backlog over the cost with the smallest, per system (flat = 1×; for the
 * claims the cost of one is 1 / the rate, so the row reads the same way: above 1 is slower).
 */
import { perSystem, row, type Pick, type Row } from './row.js';
import type { ScaleResult } from './scale.js';
import { SYSTEMS, type SystemId } from './systems.js';
import { rate } from '../lib/stats.js';

interface Figure {
  readonly name: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly pick: Pick<ScaleResult>;
  /** The cost of one job from the figure. */
  readonly cost: (v: number) => number;
}

const FIGURES: readonly Figure[] = [
  { name: 'submit one (awaited), p50', unit: 'ms', better: 'lower', pick: (r) => r.submit.p50, cost: (v) => v },
  { name: 'submit one (awaited), p99', unit: 'ms', better: 'lower', pick: (r) => r.submit.p99, cost: (v) => v },
  { name: 'claimed and completed', unit: 'jobs/s', better: 'higher', pick: (r) => r.claimsPerSec, cost: (v) => 1 / v },
];

type ScaleRuns = Partial<Record<SystemId, ScaleResult[]>>;

function withWaiting(runs: ScaleRuns, waiting: number): ScaleRuns {
  const out: ScaleRuns = {};
  for (const s of SYSTEMS) {
    const own = runs[s]?.filter((r) => r.waiting === waiting);
    if (own && own.length > 0) out[s] = own;
  }
  return out;
}

export function scaleRows(runs: ScaleRuns, waiting: readonly number[]): Row[] {
  const fewest = Math.min(...waiting);
  const most = Math.max(...waiting);
  const workload = `scale (${waiting.map(rate).join(' / ')} waiting, no events)`;
  const rows: Row[] = [];
  for (const f of FIGURES) {
    const bySize = new Map(waiting.map((w) => [w, perSystem(withWaiting(runs, w), f.pick)] as const));
    for (const [w, values] of bySize) rows.push(row(workload, `${f.name}, ${rate(w)} waiting`, f.unit, f.better, values));
    const flat: Partial<Record<SystemId, number>> = {};
    for (const s of SYSTEMS) {
      const small = bySize.get(fewest)?.[s];
      const large = bySize.get(most)?.[s];
      if (small !== undefined && large !== undefined) flat[s] = f.cost(large) / f.cost(small);
    }
    rows.push(row(workload, `${f.name}: cost with ${rate(most)} / with ${rate(fewest)} waiting (flat = 1×)`, '×', 'lower', flat));
  }
  return rows;
}

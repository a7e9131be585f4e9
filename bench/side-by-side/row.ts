/**
 * One row of the side-by-side table, and how one is made from the runs: the median over runs of
 * each system (a run's NaN is no figure), the ceiling where one applies, and the ratios
 * Tocsin/peer and Tocsin/ceiling. A `neither` row (a count that sets the scene) has no ratios.
 */
import { SYSTEMS, type SystemId } from './systems.js';
import { median } from '../lib/summary.js';

export interface Row {
  readonly workload: string;
  readonly figure: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower' | 'neither';
  /** A cell's text where a system has no figure, e.g. "not within 60 s". */
  readonly notes?: Partial<Record<SystemId, string>>;
  /** Medians over runs; absent: not measured (skipped or failed). */
  readonly values: Partial<Record<SystemId, number>>;
  readonly ceiling?: number;
  readonly ceilingName?: string;
  /** Tocsin / each peer, and Tocsin / ceiling. */
  readonly ratios: Partial<Record<SystemId | 'ceiling', number>>;
}

export type Pick<R> = (r: R) => number;

export function medianOf<R>(runs: readonly R[] | undefined, pick: Pick<R>): number | undefined {
  const values = (runs ?? []).map(pick).filter(Number.isFinite);
  return values.length > 0 ? median(values) : undefined;
}

export function row(workload: string, figure: string, unit: string, better: Row['better'], values: Partial<Record<SystemId, number>>, ceiling?: { name: string; value: number | undefined }): Row {
  const ratios: Row['ratios'] = {};
  const t = values.tocsin;
  if (t !== undefined && better !== 'neither') {
    for (const peer of SYSTEMS) {
      const v = values[peer];
      if (peer !== 'tocsin' && v !== undefined && v > 0) ratios[peer] = t / v;
    }
    if (ceiling?.value !== undefined && ceiling.value > 0) ratios.ceiling = t / ceiling.value;
  }
  return { workload, figure, unit, better, values, ratios, ...(ceiling?.value !== undefined ? { ceiling: ceiling.value, ceilingName: ceiling.name } : {}) };
}

export function perSystem<R>(runs: Partial<Record<SystemId, R[]>>, pick: Pick<R>): Partial<Record<SystemId, number>> {
  const out: Partial<Record<SystemId, number>> = {};
  for (const s of SYSTEMS) {
    const v = medianOf(runs[s], pick);
    if (v !== undefined) out[s] = v;
  }
  return out;
}


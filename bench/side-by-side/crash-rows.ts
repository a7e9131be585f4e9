/**
 * The crash workload's rows (crash.ts): what the kill interrupted (context, no ratios), what was
 * lost or done twice, and the recovery times; a system whose recovery did not end within the
 * bound in most runs gets "not within N s" with how many jobs had not ended, instead of a figure.
 */
import type { CrashResult } from './crash.js';
import { medianOf, perSystem, row, type Pick, type Row } from './row.js';
import { SYSTEMS, type SystemId } from './systems.js';
import { rate } from '../lib/stats.js';

type CrashRuns = Partial<Record<SystemId, CrashResult[]>>;

/** A recovery row: the median where most runs recovered, else a note; `waitedFor`: the jobs it is about (none: a note). */
function recoveryRow(workload: string, figure: string, runs: CrashRuns, pick: Pick<CrashResult>, unfinished: Pick<CrashResult>, waitedFor: Pick<CrashResult>): Row {
  const values: Partial<Record<SystemId, number>> = {};
  const notes: Partial<Record<SystemId, string>> = {};
  for (const s of SYSTEMS) {
    const own = runs[s] ?? [];
    if (own.length === 0) continue;
    if (own.every((r) => waitedFor(r) === 0)) {
      notes[s] = 'none to wait for';
      continue;
    }
    const recovered = own.filter((r) => Number.isFinite(pick(r)));
    if (2 * recovered.length > own.length) values[s] = medianOf(recovered, pick)!;
    else notes[s] = `not within ${own[0]!.boundMs / 1000} s (${rate(medianOf(own, unfinished) ?? Number.NaN)} not ended)`;
  }
  return { ...row(workload, figure, 'ms', 'lower', values), notes };
}

export function crashRows(runs: CrashRuns, jobs: number, jobMs: number, killAfterMs: number): Row[] {
  const workload = `crash: kill -9 ${killAfterMs / 1000} s into ${rate(jobs)} jobs of ${jobMs} ms`;
  const count = (figure: string, better: Row['better'], pick: Pick<CrashResult>) => row(workload, figure, 'jobs', better, perSystem(runs, pick));
  return [
    count('ended before the kill', 'neither', (r) => r.endedBeforeKill),
    count('interrupted (running at the kill)', 'neither', (r) => r.interrupted),
    count('completion events lost (ended, no event)', 'lower', (r) => r.lost),
    count('run twice (body started twice)', 'lower', (r) => r.runTwice),
    count('of those, ended before the kill', 'lower', (r) => r.endedRunAgain),
    row(workload, 'duplicate completion events', 'events', 'lower', perSystem(runs, (r) => r.duplicateEvents)),
    row(workload, 'of those, redelivered (same event id)', 'events', 'lower', perSystem(runs, (r) => r.redelivered)),
    recoveryRow(workload, 'restart → interrupted jobs run again', runs, (r) => r.interruptedRerunMs, (r) => r.interruptedUnfinished, (r) => r.interrupted),
    recoveryRow(workload, `restart → all ${rate(jobs)} ended`, runs, (r) => r.recoveryMs, (r) => r.unfinished, (r) => r.jobs),
    count('not ended within the bound', 'lower', (r) => r.unfinished),
  ];
}

/**
 * The test action `Sleep` (decisions.md): sleeps `Seconds` (fractions allowed), reporting
 * progress; `Fail=true` ends it in Error; `ReportErrors=N` raises N OnErrorReport events on the way.
 * Pausable and stoppable. Enabled only with `[Actions] EnableTestActions=true`.
 */
import { TocsinError } from '../common/errors.js';
import { el } from '../common/xnode.js';
import { boolParam, intParam } from '../aci/param-values.js';
import type { AsyncActionDefinition, ParamReader } from '../queue/action-definition.js';
import { SLEEP_ACTION } from '../config/load-settings.js';

const STEP_MS = 50;

function seconds(params: ParamReader): number {
  const value = params.get('Seconds') ?? '0';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 86_400) {
    throw new TocsinError('PARAM_INVALID', `Sleep: Seconds="${value.slice(0, 100)}" is not a number of seconds between 0 and 86400`);
  }
  return n;
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    // The listener goes when the step ends: one per 50 ms step would otherwise pile up on the signal.
    const done = () => (clearTimeout(timer), signal.removeEventListener('abort', done), resolve());
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export const sleepAction: AsyncActionDefinition = {
  name: SLEEP_ACTION,
  validate(params) {
    seconds(params);
    boolParam(params, 'Fail', SLEEP_ACTION);
    intParam(params, 'ReportErrors', SLEEP_ACTION, { min: 0, max: 1000 });
  },
  async run(ctx) {
    const totalMs = seconds(ctx.params) * 1000;
    const reports = intParam(ctx.params, 'ReportErrors', SLEEP_ACTION) ?? 0;
    for (let i = 1; i <= reports; i++) ctx.reportError(`Sleep: reported error ${i} of ${reports}`);
    let slept = 0;
    while (slept < totalMs) {
      await ctx.checkpoint();
      const step = Math.min(STEP_MS, totalMs - slept);
      await wait(step, ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      slept += step;
      ctx.progress(slept / totalMs, 'sleeping');
    }
    if (boolParam(ctx.params, 'Fail', SLEEP_ACTION)) throw new Error(`Sleep failed on request (Fail=true) after ${totalMs / 1000} s`);
    return { result: [el('slept_seconds', totalMs / 1000)] };
  },
};

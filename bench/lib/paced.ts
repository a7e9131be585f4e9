/**
 * Submissions at a steady pace: the latency of a system below saturation, rather than its backlog.
 */
import { now } from './summary.js';

/** `n` calls of `submit` at `pace` per second (checked every millisecond or so), not awaited one by one. */
export async function submitPaced<T>(n: number, pace: number, submit: () => Promise<T>): Promise<T[]> {
  const all: Promise<T>[] = [];
  const t0 = now();
  for (;;) {
    const due = Math.min(n, Math.floor(((now() - t0) * pace) / 1000) + 1);
    while (all.length < due) all.push(submit());
    if (all.length >= n) return Promise.all(all);
    await new Promise((r) => setTimeout(r, 1));
  }
}

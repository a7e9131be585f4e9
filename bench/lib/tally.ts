/**
 * A running count that can be awaited: `reach(n)` resolves with the time (epoch ms) the count
 * reached `n`, or undefined if it had not by `deadlineMs` from the call (a system that loses
 * events must not hang the bench; the count it got to is then reported).
 */
import { now } from './summary.js';

export class Tally {
  count = 0;
  private waiters: { target: number; resolve: (at: number | undefined) => void }[] = [];

  tick(): void {
    this.count++;
    if (this.waiters.length === 0) return;
    const at = now();
    this.waiters = this.waiters.filter((w) => (w.target <= this.count ? (w.resolve(at), false) : true));
  }

  reach(target: number, deadlineMs = Infinity): Promise<number | undefined> {
    if (this.count >= target) return Promise.resolve(now());
    return new Promise((resolve) => {
      const timer = Number.isFinite(deadlineMs) ? setTimeout(() => resolve(undefined), deadlineMs) : undefined;
      this.waiters.push({
        target,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

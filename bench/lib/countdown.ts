import { now } from './summary.js';

/** Resolves when `target` calls of `tick()` have come in since `expect(target)`; `at` is when. */
export class Countdown {
  private count = 0;
  private target = Infinity;
  private done: (() => void) | undefined;
  at = 0;

  tick(): void {
    if (++this.count === this.target) {
      this.at = now();
      this.done?.();
    }
  }

  expect(target: number): Promise<void> {
    this.count = 0;
    this.target = target;
    return new Promise((resolve) => (this.done = resolve));
  }
}


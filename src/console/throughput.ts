/**
 * Actions this node ended, per second and queue, over the last few minutes: the console's
 * throughput chart. Kept in memory from the scheduler's settlements, so drawing the chart costs the
 * store nothing (decisions.md "Web console"). With a shared store each node charts its own work.
 */
import type { ActionRecord } from '../queue/record.js';

/** Per queue, one count per second from `start` (epoch seconds) on; the last point is the current second. */
export interface ThroughputSeries {
  readonly start: number;
  readonly queues: Readonly<Record<string, { readonly finished: readonly number[]; readonly failed: readonly number[] }>>;
}

interface Ring {
  /** The epoch second each slot counts; a slot whose stamp is stale counts 0. */
  readonly stamp: Float64Array;
  readonly finished: Uint32Array;
  readonly failed: Uint32Array;
}

export class ThroughputWindow {
  private readonly rings = new Map<string, Ring>();

  constructor(
    queues: readonly string[],
    private readonly seconds = 300,
    private readonly clock: () => number = Date.now,
  ) {
    for (const q of queues) this.rings.set(q, { stamp: new Float64Array(seconds).fill(-1), finished: new Uint32Array(seconds), failed: new Uint32Array(seconds) });
  }

  /** A final record from the scheduler: Finished counts as finished, Error and Stopped as failed. */
  record(action: Pick<ActionRecord, 'queue' | 'status'>): void {
    const ring = this.rings.get(action.queue);
    if (!ring) return;
    const second = Math.floor(this.clock() / 1000);
    const i = second % this.seconds;
    if (ring.stamp[i] !== second) {
      ring.stamp[i] = second;
      ring.finished[i] = 0;
      ring.failed[i] = 0;
    }
    if (action.status === 'Finished') ring.finished[i]! += 1;
    else ring.failed[i]! += 1;
  }

  series(): ThroughputSeries {
    const now = Math.floor(this.clock() / 1000);
    const start = now - this.seconds + 1;
    const queues: Record<string, { finished: number[]; failed: number[] }> = {};
    for (const [name, ring] of this.rings) {
      const finished: number[] = [];
      const failed: number[] = [];
      for (let s = start; s <= now; s++) {
        const i = s % this.seconds;
        const live = ring.stamp[i] === s;
        finished.push(live ? ring.finished[i]! : 0);
        failed.push(live ? ring.failed[i]! : 0);
      }
      queues[name] = { finished, failed };
    }
    return { start, queues };
  }
}

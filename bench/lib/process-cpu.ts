/**
 * CPU time (user + system, all threads) of another process on this machine, from Linux's
 * /proc/<pid>/stat: a `tocsin serve` child, or a PostgreSQL backend when the server is local.
 * Clock ticks (10 ms) are coarse: read it over a second or more. Undefined when the process is
 * gone, is not on this machine, or off Linux.
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence from the last ')').
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * CPU used by a set of processes between `start()` and `stop()`, ms. A process must be alive at
 * both reads to count (a PostgreSQL backend the pool closed in between is missed: a lower bound).
 */
export class CpuSpan {
  private readonly before = new Map<number, number>();

  start(pids: readonly number[]): void {
    this.before.clear();
    for (const pid of pids) {
      const ms = processCpuMs(pid);
      if (ms !== undefined) this.before.set(pid, ms);
    }
  }

  /** Total ms over the processes seen at both ends; undefined when none was. */
  stop(): number | undefined {
    let total: number | undefined;
    for (const [pid, before] of this.before) {
      const after = processCpuMs(pid);
      if (after !== undefined) total = (total ?? 0) + after - before;
    }
    return total;
  }
}

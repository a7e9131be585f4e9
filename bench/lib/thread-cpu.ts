/**
 * CPU time of the calling thread (the main thread, where the whole server runs), from Linux's
 * /proc/thread-self/stat. Wall-clock rates on a shared VM swing with what its neighbours do; the
 * main thread's CPU time per action swings much less, so it tells two builds apart in fewer runs.
 * Clock ticks (10 ms) are coarse: read it over a second or more. Undefined off Linux.
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which may hold spaces, hence from the last ')').
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

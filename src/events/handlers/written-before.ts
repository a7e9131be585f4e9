/**
 * Which events an earlier run of the server already appended to a file (decisions.md "Events",
 * TextFileHandler): read once, from the last TAIL_BYTES of the file as this run found it, before
 * this run writes to it. An event delivered but not yet recorded when the server was killed is
 * delivered again after the restart; its line is then at the file's tail, and the handler skips
 * it instead of writing it twice.
 *
 * Only whole lines count (a line ends with a newline: one write() put it there, so the event in it
 * is complete). A line counts once: an event found once is skipped once.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * How far back to look. What a kill leaves unrecorded is the deliveries in flight
 * (MaxConcurrentDeliveries) and the outcomes waiting for their commit: tens of events per handler
 * in the kill test (test/faults/kill-loop.test.ts). 1 MiB holds ~1,500 event lines of ~0.7 KB;
 * an event further back is written again (a duplicate, as before), never lost.
 */
export const TAIL_BYTES = 1 << 20;

const EVENT_ID = /^<event><type>[^<]*<\/type><id>([^<]+)<\/id>/;

/** Counts of event ids in the whole lines at the end of `path`; empty when the file is missing. */
export function eventIdsAtTail(path: string, tailBytes = TAIL_BYTES): Map<string, number> {
  const ids = new Map<string, number>();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return ids; // no file yet: nothing was written before
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - tailBytes);
    const buffer = Buffer.alloc(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    const text = buffer.subarray(0, read).toString('utf8');
    const lines = text.split('\n');
    lines.pop(); // after the last newline: empty, or a line not whole
    if (start > 0) lines.shift(); // the first line may begin before the tail
    for (const line of lines) {
      const id = EVENT_ID.exec(line)?.[1];
      if (id !== undefined) ids.set(id, (ids.get(id) ?? 0) + 1);
    }
    return ids;
  } finally {
    closeSync(fd);
  }
}

/** Takes one line of `id` from the counts, if one is left; true when it did. */
export function takeWritten(ids: Map<string, number>, id: string): boolean {
  const n = ids.get(id);
  if (n === undefined) return false;
  if (n <= 1) ids.delete(id);
  else ids.set(id, n - 1);
  return true;
}

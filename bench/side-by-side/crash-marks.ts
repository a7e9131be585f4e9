/**
 * The crash workload's record of job bodies (written by crash-worker.ts: `s <key>` as a body
 * starts, `e <key>` as it ends), read as it grows: how often each job's body started, and which
 * have ended.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class JobMarks {
  readonly starts = new Map<string, number>();
  readonly ended = new Set<string>();
  private offset = 0;
  private partial = '';

  constructor(private readonly path: string) {}

  /** Reads what was appended since the last call; returns the keys whose body ended in it. */
  read(): string[] {
    const fd = openSync(this.path, 'r');
    let text: string;
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      text = this.partial + buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const ended: string[] = [];
    for (const line of lines) {
      const key = line.slice(2);
      if (line.startsWith('s ')) this.starts.set(key, (this.starts.get(key) ?? 0) + 1);
      else if (line.startsWith('e ')) {
        this.ended.add(key);
        ended.push(key);
      }
    }
    return ended;
  }

  /** Jobs whose body started more than once. */
  runTwice(): number {
    let n = 0;
    for (const count of this.starts.values()) if (count > 1) n++;
    return n;
  }

  /** Jobs whose body started but had not ended (as of the last read). */
  unended(): Set<string> {
    return new Set([...this.starts.keys()].filter((key) => !this.ended.has(key)));
  }
}

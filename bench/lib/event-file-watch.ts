/**
 * Watches a TextFileHandler's file from outside the servers that append to it: on every inotify
 * change (fs.watch), and every POLL_MS in case one is coalesced or lost, it reads what was
 * appended and notes, per complete line, the event type, the action's token and when the bench
 * saw it (`Date.now()`, ms, the clock the stores write their times with). The time seen is the
 * write plus this process's scheduling delay: a busy 2-core box adds a little.
 */
import { closeSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export interface LineSeen {
  readonly type: string;
  readonly token: string;
  /** Epoch ms when the bench read the line. */
  readonly at: number;
}

const POLL_MS = 10;
const TYPE = /^<event><type>([A-Za-z]+)<\/type>/;
const TOKEN = /<token>([^<]+)<\/token>/;

export class EventFileWatch {
  /** Lines seen since the last mark(), in file order. */
  lines: LineSeen[] = [];
  /** Per event type, the distinct tokens of those lines (an event delivered twice is written twice). */
  private tokens = new Map<string, Set<string>>();
  private readonly fd: number;
  private readonly watcher: FSWatcher;
  private readonly timer: NodeJS.Timeout;
  private offset = 0;
  private partial = '';
  private readonly buffer = Buffer.alloc(1 << 20);
  /** A character split between two reads is held back, not mangled. */
  private readonly decoder = new StringDecoder('utf8');
  private waiter: { check: () => boolean; resolve: () => void } | undefined;

  /** Creates the file empty (the handler appends to it), then watches it. */
  constructor(readonly path: string) {
    writeFileSync(path, '');
    this.fd = openSync(path, 'r');
    this.watcher = watch(path, () => this.read());
    this.timer = setInterval(() => this.read(), POLL_MS);
  }

  /** Forget the lines seen so far (after a warm-up); those appended from now on are kept. */
  mark(): void {
    this.read();
    this.lines = [];
    this.tokens = new Map();
  }

  /** Distinct actions with a line of `type` since the last mark(). */
  distinct(type: string): number {
    return this.tokens.get(type)?.size ?? 0;
  }

  /** Resolves once `check()` holds, tested after every read. */
  until(check: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = { check, resolve };
      this.read();
    });
  }

  private read(): void {
    let text = '';
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      if (n === 0) break;
      this.offset += n;
      text += this.decoder.write(this.buffer.subarray(0, n));
    }
    if (text === '' && !this.waiter) return;
    const at = Date.now();
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      const seen = { type: TYPE.exec(line)?.[1] ?? '?', token: TOKEN.exec(line)?.[1] ?? '', at };
      this.lines.push(seen);
      let set = this.tokens.get(seen.type);
      if (!set) this.tokens.set(seen.type, (set = new Set()));
      set.add(seen.token);
    }
    if (this.waiter?.check()) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve();
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.watcher.close();
    closeSync(this.fd);
  }
}

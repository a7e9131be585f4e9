/**
 * TextFileHandler (idol-reference.md §4.3, decisions.md "Handlers"): appends the event document and
 * a newline to `FilePath`, creating the file and its folder if missing.
 *
 * The events handed over in one turn of the event loop go out in ONE synchronous write() on a file
 * opened with O_APPEND: the kernel positions every write at the end, and no other write of ours can
 * run in between, so an event is never split or interleaved with another. (One write per turn, not
 * per event: the syscall per event was most of this handler's cost.) A write error (disk full, no
 * permission) fails the deliveries of that write, which the engine retries; the file is reopened on
 * the next attempt (it may have been moved or fixed). After a short write, the events written whole
 * succeed and the rest fail.
 *
 * Exactly once across a kill -9 (written-before.ts): an event stored before this run started may
 * have been appended by the run that was killed before recording it; if its line is at the file's
 * tail, the delivery succeeds without writing it again. Off when two TextFileHandler sections name
 * the same file: a line cannot tell which section wrote it.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeliveryError, type EventDelivery, type EventHandler, type HandlerFactory } from '../handler.js';
import { eventIdsAtTail, takeWritten } from './written-before.js';

interface PendingLine {
  readonly line: string;
  resolve(): void;
  reject(error: unknown): void;
}

/** Sections per file (resolved path), across every server in this process: recognition needs one. */
const writersOf = new Map<string, number>();

export class TextFileHandler implements EventHandler {
  private fd: number | undefined;
  private pending: PendingLine[] = [];
  private readonly startedAt = Date.now();
  /** Event ids in the whole lines at the file's tail, read at the first event stored before this run. */
  private writtenBefore: Map<string, number> | undefined;
  private closed = false;

  constructor(private readonly path: string) {
    writersOf.set(path, (writersOf.get(path) ?? 0) + 1);
  }

  deliver(event: Pick<EventDelivery, 'id' | 'document' | 'createdAt'>): Promise<void> {
    if (event.createdAt !== undefined && event.createdAt < this.startedAt && this.alreadyWritten(event.id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) queueMicrotask(() => this.writePending());
      this.pending.push({ line: event.document + '\n', resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.closeFile();
    if (this.closed) return;
    this.closed = true;
    const n = (writersOf.get(this.path) ?? 1) - 1;
    if (n > 0) writersOf.set(this.path, n);
    else writersOf.delete(this.path);
  }

  private alreadyWritten(id: string): boolean {
    if (this.writtenBefore === undefined) {
      if ((writersOf.get(this.path) ?? 0) > 1) return false;
      // Once, at the first event from before this run (they come first: the engine reads its
      // backlog before new events). A line this run wrote there is in the file all the same.
      this.writtenBefore = eventIdsAtTail(this.path);
    }
    return this.writtenBefore.size > 0 && takeWritten(this.writtenBefore, id);
  }

  private writePending(): void {
    const lines = this.pending;
    this.pending = [];
    const data = Buffer.from(lines.length === 1 ? lines[0]!.line : lines.map((l) => l.line).join(''), 'utf8');
    let written = 0;
    let failure: DeliveryError | undefined;
    try {
      this.fd ??= this.open();
      written = writeSync(this.fd, data);
      if (written !== data.length) throw Object.assign(new Error(`short write (${written} of ${data.length} bytes)`), { code: 'ESHORTWRITE' });
    } catch (e) {
      this.closeFile();
      const err = e as NodeJS.ErrnoException;
      failure = new DeliveryError(`cannot append to ${this.path}: ${err.code ?? ''} ${err.message}`.trim(), { retryable: true, cause: e });
    }
    if (failure === undefined) {
      for (const l of lines) l.resolve();
      return;
    }
    let end = 0;
    for (const l of lines) {
      end += Buffer.byteLength(l.line, 'utf8');
      if (end <= written) l.resolve();
      else l.reject(failure);
    }
  }

  private open(): number {
    mkdirSync(dirname(this.path), { recursive: true });
    return openSync(this.path, 'a');
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed or gone: nothing to release
    }
    this.fd = undefined;
  }
}

export const textFileHandlerFactory: HandlerFactory = {
  libraryName: 'TextFileHandler',
  defaultPolicy: { retries: 3, retryIntervalMs: 10_000 },
  create(section) {
    const path = section.path('FilePath', { required: true });
    return path ? new TextFileHandler(path) : undefined;
  },
};

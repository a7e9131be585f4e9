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
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeliveryError, type EventHandler, type HandlerFactory } from '../handler.js';

interface PendingLine {
  readonly line: string;
  resolve(): void;
  reject(error: unknown): void;
}

class TextFileHandler implements EventHandler {
  private fd: number | undefined;
  private pending: PendingLine[] = [];

  constructor(private readonly path: string) {}

  deliver(event: { document: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) queueMicrotask(() => this.writePending());
      this.pending.push({ line: event.document + '\n', resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.closeFile();
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

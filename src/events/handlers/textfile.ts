/**
 * TextFileHandler (idol-reference.md §4.3, decisions.md "Handlers"): appends the event document and
 * a newline to `FilePath`, creating the file and its folder if missing.
 *
 * Each event is one synchronous write() on a file opened with O_APPEND: the kernel positions every
 * write at the end, and no other write of ours can run in between, so an event is never split or
 * interleaved with another. A write error (disk full, no permission) fails the delivery, which the
 * engine retries; the file is reopened on the next attempt (it may have been moved or fixed).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DeliveryError, type EventHandler, type HandlerFactory } from '../handler.js';

class TextFileHandler implements EventHandler {
  private fd: number | undefined;

  constructor(private readonly path: string) {}

  async deliver(event: { document: string }): Promise<void> {
    const data = Buffer.from(event.document + '\n', 'utf8');
    try {
      this.fd ??= this.open();
      const written = writeSync(this.fd, data);
      if (written !== data.length) throw Object.assign(new Error(`short write (${written} of ${data.length} bytes)`), { code: 'ESHORTWRITE' });
    } catch (e) {
      this.closeFile();
      const err = e as NodeJS.ErrnoException;
      throw new DeliveryError(`cannot append to ${this.path}: ${err.code ?? ''} ${err.message}`.trim(), { retryable: true, cause: e });
    }
  }

  async close(): Promise<void> {
    this.closeFile();
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

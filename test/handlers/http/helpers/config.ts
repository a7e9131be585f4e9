/**
 * Builds an HttpHandler section the way the server does: a config file written to a temp dir, read
 * by the real reader (src/config), so problems carry real file:line locations.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from '../../../../src/common/logger.js';
import { readConfigDocument } from '../../../../src/config/parse.js';
import { createProblemSink } from '../../../../src/config/problems.js';
import { createSectionReader } from '../../../../src/config/section-reader.js';
import type { ProblemSink, SectionReader } from '../../../../src/config/types.js';
import type { HandlerContext } from '../../../../src/events/handler.js';

export interface LoadedSection {
  readonly file: string;
  readonly section: SectionReader;
  readonly sink: ProblemSink;
  readonly context: HandlerContext;
  readonly log: ReturnType<typeof createMemoryLogger>;
}

/** `text` is the whole config file; `name` the handler section to read. */
export function loadSection(text: string, name = 'Http'): LoadedSection {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-http-cfg-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tocsin.cfg');
  writeFileSync(file, text);
  const sink = createProblemSink();
  const doc = readConfigDocument(file, sink);
  const log = createMemoryLogger();
  const context: HandlerContext = {
    log,
    dataDirectory: dir,
    send: () => Promise.reject(new Error('send is not used by HttpHandler')),
    readSection: (other) => (doc.sections.has(other.toLowerCase()) ? createSectionReader(doc, other, sink) : undefined),
  };
  return { file, section: createSectionReader(doc, name, sink), sink, context, log };
}

/** `[Http]` with the given keys, then any extra sections. */
export function httpSection(keys: Record<string, string | number | boolean>, extra = ''): string {
  const lines = Object.entries(keys).map(([k, v]) => `${k}=${String(v)}`);
  return `[Http]\nLibraryName=HttpHandler\n${lines.join('\n')}\n${extra}`;
}

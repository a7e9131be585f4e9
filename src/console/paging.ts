/**
 * Keyed paging for the console's lists, newest first: a page asks the store for the rows after the
 * key of the last row shown, so a page never costs an OFFSET scan nor grows with the pages before
 * it. Keys are unique and never change while a row lives: actions by (queue time, id), events by
 * seq. So consecutive pages show each row once, in order, even when rows change status between
 * two page reads (an action keeps its place whatever its status).
 */
import { TocsinError } from '../common/errors.js';

/** The last row's key: [queuedAt, id] for actions, [seq] for events. */
export type PageKey = readonly number[];

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key in a cursor of `length` numbers; undefined for no cursor (the first page). */
export function decodeCursor(text: string | null | undefined, length: number): PageKey | undefined {
  if (!text) return undefined;
  try {
    const key = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === length && key.every((n) => Number.isSafeInteger(n))) return key as number[];
  } catch {
    // Fall through: any malformed cursor is the same error.
  }
  throw new TocsinError('PARAM_INVALID', 'The console page cursor is not valid (reload the list)');
}

export interface PageSource<T> {
  /** From each source, at most `limit` rows after `after` (all from the start without it), in page order. */
  fetch(after: PageKey | undefined, limit: number): Promise<readonly (readonly T[])[]>;
  key(row: T): PageKey;
  /** The page order (negative when a comes first), as every source sorts. */
  order(a: T, b: T): number;
}

export interface Page<T> {
  readonly rows: readonly T[];
  readonly next?: string;
}

/** One page of at most `limit` rows after `cursor`, merged in page order from every source. */
export async function keyedPage<T>(source: PageSource<T>, cursor: PageKey | undefined, limit: number): Promise<Page<T>> {
  // One extra row tells whether a next page exists.
  const merged = (await source.fetch(cursor, limit + 1)).flat().sort(source.order);
  const rows = merged.slice(0, limit);
  const last = rows[rows.length - 1];
  return merged.length > limit && last ? { rows, next: encodeCursor(source.key(last)) } : { rows };
}

/**
 * Keyset paging for the console's lists, newest first, over Store listings that filter by a time
 * bound (`queuedBefore`, `createdBefore`) and sort by it. A page never costs an OFFSET scan: the
 * next page asks for rows before the last time shown.
 *
 * Times tie (many actions queued in one millisecond), and the bound is strict. So a cursor holds
 * the last time shown and the keys of the rows shown at exactly that time: the next page asks for
 * rows before time + 1, that many more, and drops the rows already shown. The store breaks ties in
 * a fixed order (id / seq), so the rows skipped are exactly those already seen.
 */
import { TocsinError } from '../common/errors.js';

export interface Cursor {
  /** The time (epoch ms) of the last row shown. */
  readonly t: number;
  /** Keys of the rows shown with exactly that time. */
  readonly seen: readonly string[];
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(text: string | null | undefined): Cursor | undefined {
  if (!text) return undefined;
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.t === 'number' && Number.isFinite(c.t) && Array.isArray(c.seen) && c.seen.every((s) => typeof s === 'string')) return { t: c.t, seen: c.seen };
  } catch {
    // Fall through: any malformed cursor is the same error.
  }
  throw new TocsinError('PARAM_INVALID', 'The console page cursor is not valid (reload the list)');
}

export interface PageSource<T> {
  /** Rows newest first, all with time < `before` (when given), at most `limit` of each source. */
  fetch(before: number | undefined, limit: number): Promise<readonly (readonly T[])[]>;
  time(row: T): number;
  key(row: T): string;
  /** Tie order among equal times, as the store sorts (descending): positive when a comes after b. */
  tieOrder(a: T, b: T): number;
}

export interface Page<T> {
  readonly rows: readonly T[];
  readonly next?: string;
}

/** One page of at most `limit` rows after `cursor`, merged newest first from every source. */
export async function keysetPage<T>(source: PageSource<T>, cursor: Cursor | undefined, limit: number): Promise<Page<T>> {
  const seen = new Set(cursor?.seen ?? []);
  // One extra row tells whether a next page exists.
  const lists = await source.fetch(cursor ? cursor.t + 1 : undefined, limit + 1 + seen.size);
  const merged = lists
    .flat()
    .filter((r) => !(cursor && source.time(r) === cursor.t && seen.has(source.key(r))))
    .sort((a, b) => source.time(b) - source.time(a) || source.tieOrder(a, b));
  const rows = merged.slice(0, limit);
  const last = rows[rows.length - 1];
  if (merged.length <= limit || !last) return { rows };
  const t = source.time(last);
  const atT = rows.filter((r) => source.time(r) === t).map(source.key);
  // Rows at t shown on earlier pages stay seen: the next fetch returns them again.
  const keep = cursor && cursor.t === t ? [...cursor.seen, ...atT] : atT;
  return { rows, next: encodeCursor({ t, seen: keep }) };
}

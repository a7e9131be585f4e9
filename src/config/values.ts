/**
 * Pure parsers for IDOL config values (idol-reference.md §9.5). Each returns a result instead of
 * throwing; `reason` is a predicate phrase ("is not an integer") so the caller can put either the
 * quoted value or, for secrets, "the value" in front of it.
 */

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}
function fail(reason: string): ParseResult<never> {
  return { ok: false, reason };
}

// §9.5 lists TRUE/true/ON/on/Y/y/1 and FALSE/false/OFF/off/N/n/0; we match without case and also
// take yes/no, which people write by habit.
const TRUE_WORDS = new Set(['true', 'on', 'y', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'n', 'no', '0']);

export function parseBoolean(text: string): ParseResult<boolean> {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return fail('is not a boolean (use true/false, on/off, y/n or 1/0)');
}

/** Whole numbers only: `12abc`, `1.5`, `1e3` and the empty string are refused (Number() would take some). */
export function parseInteger(text: string): ParseResult<number> {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return fail('is not an integer');
  const n = Number(t);
  if (!Number.isSafeInteger(n)) return fail('is too large');
  return ok(n);
}

export function parseNumber(text: string): ParseResult<number> {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return fail('is not a number');
  const n = Number(t);
  if (!Number.isFinite(n)) return fail('is too large');
  return ok(n);
}

const DURATION_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A duration in milliseconds: `250ms`, `30s`, `5m`, `2h`, `7d` (fractions such as `1.5h` allowed).
 * A bare number is in `bareUnit`, because IDOL mixes `RetryInterval=10` (seconds) with
 * `LuaTimeout=5000` (ms). Negative durations are refused.
 */
export function parseDuration(text: string, bareUnit: 'ms' | 's'): ParseResult<number> {
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = (match?.[2] || bareUnit).toLowerCase();
  const factor = DURATION_MS[unit];
  if (match === null || factor === undefined) {
    return fail('is not a duration (use a number with ms, s, m, h or d, e.g. 30s)');
  }
  return ok(Math.round(Number(match[1]) * factor));
}

// Binary multiples (KB = 1024), as memory limits are usually meant.
const BYTE_FACTORS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

/** A byte count: `64MB`, `512KB`, `1GB`, `100` (bytes). */
export function parseByteSize(text: string): ParseResult<number> {
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i.exec(text.trim());
  const factor = BYTE_FACTORS[(match?.[2] || 'b').toLowerCase()];
  if (match === null || factor === undefined) {
    return fail('is not a byte size (use a number with KB, MB or GB, e.g. 64MB)');
  }
  const n = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(n)) return fail('is too large');
  return ok(n);
}

/**
 * A comma list (§9.5): `cat,"wing,beak"` or `cat,wing\,beak`; inside quotes `\"` is a quote.
 * A quote opens a quoted part only at the start of an item, so `5" disk` stays literal; any other
 * backslash is kept as written, so Windows paths survive. Whitespace around items is trimmed (but not
 * inside quotes) and empty items are dropped. An unterminated quote is an error.
 */
export function parseList(text: string): ParseResult<string[]> {
  const items: string[] = [];
  let item = '';
  let keep = 0; // length of `item` that trimming must not cut (ends after the last quoted part)
  let inQuote = false;
  const push = (): void => {
    const kept = item.slice(0, keep) + item.slice(keep).trimEnd();
    if (kept !== '') items.push(kept);
    item = '';
    keep = 0;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    const next = text[i + 1];
    if (inQuote) {
      if (c === '\\' && next === '"') {
        item += '"';
        i++;
      } else if (c === '"') {
        inQuote = false;
        keep = item.length;
      } else {
        item += c;
      }
    } else if (c === '\\' && next === ',') {
      item += ',';
      keep = item.length;
      i++;
    } else if (c === ',') {
      push();
    } else if (c === '"' && item.trim() === '') {
      inQuote = true;
      item = '';
    } else if (item === '' && /\s/.test(c)) {
      // leading whitespace of an item
    } else {
      item += c;
    }
  }
  if (inQuote) return fail('has an unterminated quote');
  push();
  return ok(items);
}

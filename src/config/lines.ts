/**
 * The grammar of one config line (idol-reference.md §9.5), with no file access: parse.ts decides what
 * each line means for the document. Keeping the two apart lets the include logic read as data flow.
 */
import { showName } from './shown-text.js';

/** `< "file.cfg" [Section] Param=Default`; everything after the path is optional. */
export interface IncludeRef {
  readonly path: string;
  readonly section?: string;
  /** Parameter name, possibly with `*`/`?` wildcards. */
  readonly param?: string;
  readonly defaultValue?: string;
}

export type ConfigLine =
  | { readonly kind: 'blank' }
  | { readonly kind: 'header'; readonly name: string; readonly include?: IncludeRef }
  | { readonly kind: 'include'; readonly include: IncludeRef }
  | { readonly kind: 'entry'; readonly key: string; readonly value: string }
  | { readonly kind: 'bad'; readonly message: string };

/** Splits file text into lines: drops a UTF-8 BOM, accepts LF, CRLF and lone CR. */
export function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
}

export function classifyLine(raw: string): ConfigLine {
  const line = raw.trim();
  // Comments are whole lines only: a value keeps `;`, `//` and `#` (URLs, cipher lists, passwords).
  if (line === '' || line.startsWith('//') || line.startsWith(';')) return { kind: 'blank' };
  if (line.startsWith('[')) return classifyHeader(line);
  if (line.startsWith('<')) {
    const include = parseInclude(line.slice(1));
    return typeof include === 'string' ? { kind: 'bad', message: include } : { kind: 'include', include };
  }
  const eq = line.indexOf('=');
  // The line itself is not quoted back: it may be a mistyped `Password: ...` line.
  if (eq < 0) return { kind: 'bad', message: 'expected Key=Value, a [Section] heading, a // comment or a < include' };
  const key = line.slice(0, eq).trim();
  if (key === '') return { kind: 'bad', message: 'a line starts with "=" and has no key' };
  return { kind: 'entry', key, value: line.slice(eq + 1).trim() };
}

function classifyHeader(line: string): ConfigLine {
  const match = /^\[([^\]]*)\]\s*(.*)$/.exec(line);
  if (match === null) return { kind: 'bad', message: 'section heading has no closing "]"' };
  const name = (match[1] ?? '').trim();
  const rest = match[2] ?? '';
  if (name === '') return { kind: 'bad', message: 'empty section name "[]"' };
  if (rest === '') return { kind: 'header', name };
  if (!rest.startsWith('<')) {
    return { kind: 'bad', message: `unexpected text after section heading [${showName(name)}]` };
  }
  const include = parseInclude(rest.slice(1));
  if (typeof include === 'string') return { kind: 'bad', message: include };
  // `[Mine] < "file.cfg" [Shared]` merges one named section; a whole file or one parameter has no
  // meaning after a heading.
  if (include.section === undefined || include.param !== undefined) {
    return { kind: 'bad', message: `[${showName(name)}] < "file" must be followed by exactly one [Section] to merge` };
  }
  return { kind: 'header', name, include };
}

/** Parses what follows `<`; returns an error message on bad syntax. */
function parseInclude(text: string): IncludeRef | string {
  let rest = text.trim();
  let path: string;
  if (rest.startsWith('"')) {
    const close = rest.indexOf('"', 1);
    if (close < 0) return 'include path has no closing quote';
    path = rest.slice(1, close);
    rest = rest.slice(close + 1).trim();
  } else {
    const match = /^(\S+)\s*(.*)$/.exec(rest);
    path = match?.[1] ?? '';
    rest = match?.[2] ?? '';
  }
  if (path === '') return 'include has no file name';
  if (rest === '') return { path };
  const match = /^\[([^\]]*)\]\s*(.*)$/.exec(rest);
  const section = match?.[1]?.trim() ?? '';
  if (match === null || section === '') return `include of "${showName(path)}" expects [Section] after the file name`;
  const paramText = match[2] ?? '';
  if (paramText === '') return { path, section };
  const eq = paramText.indexOf('=');
  const param = (eq < 0 ? paramText : paramText.slice(0, eq)).trim();
  if (param === '' || /\s/.test(param)) return `include of "${showName(path)}" [${showName(section)}] has a bad parameter name`;
  if (eq < 0) return { path, section, param };
  return { path, section, param, defaultValue: paramText.slice(eq + 1).trim() };
}

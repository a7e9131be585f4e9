/**
 * Typed, validated access to one section of a `ConfigDocument` (the `SectionReader` contract in
 * types.ts). Getters never throw: a bad value is recorded in the sink with the key's file:line and the
 * getter returns the default, so one `check-config` run reports every problem.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../common/errors.js';
import { nearestName } from './suggest.js';
import type {
  ConfigDocument,
  ConfigEntry,
  DurationOptions,
  NumberOptions,
  ProblemSink,
  ProblemSeverity,
  SectionReader,
  SourceLocation,
  ValueOptions,
} from './types.js';
import {
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseInteger,
  parseList,
  parseNumber,
  type ParseResult,
} from './values.js';

/** The reader plus `markKnown`, for keys a caller handles without a getter (e.g. numbered lists). */
export interface TrackingSectionReader extends SectionReader {
  markKnown(...keys: readonly string[]): void;
}

export function createSectionReader(doc: ConfigDocument, name: string, sink: ProblemSink): TrackingSectionReader {
  return new Reader(doc, name, sink);
}

class Reader implements TrackingSectionReader {
  readonly name: string;
  readonly exists: boolean;
  readonly location: SourceLocation;
  readonly baseDir: string;
  private readonly entries: ReadonlyMap<string, ConfigEntry>;
  /** Keys read by code, lower-case → spelling in code (the spelling suggestions use). */
  private readonly known = new Map<string, string>();
  /** Keys read with secret(): their values never go into a message, whatever getter reports. */
  private readonly secrets = new Set<string>();
  private finished = false;

  constructor(
    doc: ConfigDocument,
    name: string,
    private readonly sink: ProblemSink,
  ) {
    const section = doc.sections.get(name.toLowerCase());
    this.name = section?.name ?? name;
    this.exists = section !== undefined;
    this.location = section ? { file: section.file, line: section.line } : { file: doc.mainFile, line: 0 };
    this.baseDir = dirname(this.location.file);
    this.entries = section?.entries ?? new Map();
  }

  markKnown(...keys: readonly string[]): void {
    for (const key of keys) if (!this.known.has(key.toLowerCase())) this.known.set(key.toLowerCase(), key);
  }

  /** Asking whether a key is set counts as knowing it. An empty value counts as absent. */
  has(key: string): boolean {
    return this.entry(key) !== undefined;
  }

  locate(key: string): SourceLocation {
    const entry = this.entries.get(key.toLowerCase());
    return entry ? { file: entry.file, line: entry.line } : this.location;
  }

  string(key: string, options?: ValueOptions<string>): string | undefined {
    return this.read(key, options, (text) => ({ ok: true, value: text }));
  }

  secret(key: string, options?: ValueOptions<string>): string | undefined {
    this.secrets.add(key.toLowerCase());
    return this.string(key, options);
  }

  int(key: string, options?: NumberOptions): number | undefined {
    return this.number(key, options, parseInteger);
  }

  float(key: string, options?: NumberOptions): number | undefined {
    return this.number(key, options, parseNumber);
  }

  bool(key: string, options?: ValueOptions<boolean>): boolean | undefined {
    return this.read(key, options, parseBoolean);
  }

  duration(key: string, options: DurationOptions): number | undefined {
    return this.read(key, options, (text) => {
      const result = parseDuration(text, options.bareUnit);
      if (!result.ok) return result;
      if (options.min !== undefined && result.value < options.min) return { ok: false, reason: `is shorter than the minimum ${options.min} ms` };
      if (options.max !== undefined && result.value > options.max) return { ok: false, reason: `is longer than the maximum ${options.max} ms` };
      return result;
    });
  }

  bytes(key: string, options?: NumberOptions): number | undefined {
    return this.number(key, options, parseByteSize);
  }

  list(key: string, options?: ValueOptions<readonly string[]>): readonly string[] {
    return this.read(key, options, parseList) ?? [];
  }

  oneOf<T extends string>(key: string, values: readonly T[], options?: ValueOptions<T>): T | undefined {
    return this.read(key, options, (text): ParseResult<T> => {
      const match = values.find((v) => v.toLowerCase() === text.toLowerCase());
      return match !== undefined ? { ok: true, value: match } : { ok: false, reason: `is not one of ${values.join(', ')}` };
    });
  }

  /**
   * A path written in the file resolves against the folder of the file where that key was written
   * (an included file's own folder). A default resolves against `baseDir`; pass an absolute default
   * to mean something else.
   */
  path(key: string, options?: ValueOptions<string>): string | undefined {
    const entry = this.entry(key);
    const text = this.string(key, options);
    if (text === undefined) return undefined;
    if (/^file:/i.test(text)) {
      try {
        return fileURLToPath(text);
      } catch {
        this.badValue(key, 'is not a valid file:// URL');
        return undefined;
      }
    }
    return isAbsolute(text) ? text : resolve(entry ? dirname(entry.file) : this.baseDir, text);
  }

  quoted(key: string): string {
    const entry = this.entries.get(key.toLowerCase());
    if (this.secrets.has(key.toLowerCase())) return 'the value';
    if (entry?.written !== undefined) return `${quote(entry.written)} once expanded`;
    return quote(entry?.value ?? '');
  }

  error(key: string, message: string, code: ErrorCode = 'CONFIG_VALUE'): void {
    this.report('error', code, key, message, this.locate(key));
  }

  warning(key: string, message: string, code: ErrorCode = 'CONFIG_VALUE'): void {
    this.report('warning', code, key, message, this.locate(key));
  }

  /** Warns once about every key no getter read, suggesting the closest key that was read. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const known = [...this.known.values()];
    for (const [lower, entry] of this.entries) {
      if (this.known.has(lower)) continue;
      const guess = nearestName(entry.key, known);
      const hint = guess === undefined ? '' : `; did you mean ${guess}?`;
      this.report('warning', 'CONFIG_UNKNOWN_KEY', entry.key, `unknown key${hint}`, entry);
    }
  }

  /** The entry for a key with a non-empty value; marks the key as known. */
  private entry(key: string): ConfigEntry | undefined {
    this.markKnown(key);
    const entry = this.entries.get(key.toLowerCase());
    return entry !== undefined && entry.value !== '' ? entry : undefined;
  }

  /** The common path of every getter: absent → default or CONFIG_MISSING; bad → CONFIG_VALUE + default. */
  private read<T>(key: string, options: ValueOptions<T> | undefined, parse: (text: string) => ParseResult<T>): T | undefined {
    const entry = this.entry(key);
    if (entry === undefined) {
      // A value whose ${ENV:}/${FILE:} failed was reported by the parser; "not set" would be a second, wrong error.
      if (options?.required && this.entries.get(key.toLowerCase())?.unexpanded !== true) this.missing(key);
      return options?.default;
    }
    const result = parse(entry.value);
    if (!result.ok) {
      this.badValue(key, result.reason);
      return options?.default;
    }
    return result.value;
  }

  private number(key: string, options: NumberOptions | undefined, parse: (text: string) => ParseResult<number>): number | undefined {
    return this.read(key, options, (text) => {
      const result = parse(text);
      if (!result.ok) return result;
      if (options?.min !== undefined && result.value < options.min) {
        return { ok: false, reason: `is less than the minimum ${options.min}` };
      }
      if (options?.max !== undefined && result.value > options.max) {
        return { ok: false, reason: `is more than the maximum ${options.max}` };
      }
      return result;
    });
  }

  private missing(key: string): void {
    const message = this.exists
      ? 'is required but not set'
      : `is required, but the section [${this.name}] is missing`;
    this.report('error', 'CONFIG_MISSING', key, message, this.location);
  }

  /** Secrets' values must never reach a log or terminal, nor expanded text, which often is one. */
  private badValue(key: string, reason: string): void {
    this.report('error', 'CONFIG_VALUE', key, `${this.quoted(key)} ${reason}`, this.locate(key));
  }

  private report(severity: ProblemSeverity, code: ErrorCode, key: string, message: string, at: SourceLocation): void {
    const shown = hideExpansion(message, this.entries.get(key.toLowerCase()));
    this.sink.add({ severity, code, file: at.file, line: at.line, section: this.name, key: this.spelling(key), message: shown });
  }

  /** The key as written in the file when present, else as the code spells it. */
  private spelling(key: string): string {
    return this.entries.get(key.toLowerCase())?.key ?? key;
  }
}

/**
 * The last guard of "messages never show what a reference expanded to": a check that quotes the
 * value, or one item of its list, of an entry that came from `${ENV:}`/`${FILE:}` gets `…` in its
 * place (the fuzzer found a role section and a handler section named through `${ENV:}` shown
 * expanded). Pieces under 4 characters are left: they carry no secret and would garble the text.
 */
function hideExpansion(message: string, entry: ConfigEntry | undefined): string {
  if (entry?.written === undefined || entry.value === '') return message;
  const pieces = [entry.value, ...entry.value.split(',').map((p) => p.trim().replace(/^"|"$/g, ''))]
    .filter((p) => p.length >= 4)
    .sort((a, b) => b.length - a.length);
  let out = message;
  for (const piece of pieces) out = out.replaceAll(piece, '…');
  return out;
}

function quote(text: string): string {
  return `"${text.length > 80 ? `${text.slice(0, 77)}...` : text}"`;
}

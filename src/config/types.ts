/**
 * The contract of the config reader (idol-reference.md §9.5). The reader turns IDOL-style files into a
 * `ConfigDocument` (sections of `Key=Value` entries, each remembering its file and line), and
 * `SectionReader` gives typed, validated access to one section, recording every problem with its
 * location instead of throwing, so that `tocsin check-config` can print them all at once.
 */
import type { ErrorCode } from '../common/errors.js';

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export interface ConfigEntry extends SourceLocation {
  /** The key as written in the file (case kept for messages). */
  readonly key: string;
  /** The value, `${ENV:...}` and `${FILE:...}` expanded (expand.ts). */
  readonly value: string;
  /**
   * The value as written, when it held a reference. Messages quote this, never `value`: expanded
   * text often comes from a secret, whether or not its key is read with secret().
   */
  readonly written?: string;
  /** The expansion failed (already reported, CONFIG_EXPANSION); `value` is empty. */
  readonly unexpanded?: true;
}

export interface ConfigSection extends SourceLocation {
  /** The section name as first written. */
  readonly name: string;
  /** Entries by lower-case key; for a repeated key the last one wins. */
  readonly entries: ReadonlyMap<string, ConfigEntry>;
}

export interface ConfigDocument {
  /** Absolute path of the main file. */
  readonly mainFile: string;
  /** Sections by lower-case name; a section written twice is merged (later keys win). */
  readonly sections: ReadonlyMap<string, ConfigSection>;
}

export type ProblemSeverity = 'error' | 'warning';

export interface ConfigProblem extends SourceLocation {
  readonly severity: ProblemSeverity;
  readonly code: ErrorCode;
  readonly section?: string;
  readonly key?: string;
  /** Never contains the value of a secret key. */
  readonly message: string;
}

/** Options common to the typed getters. */
export interface ValueOptions<T> {
  /** Used when the key is absent (or empty). */
  readonly default?: T;
  /** Absent key is an error. */
  readonly required?: boolean;
}

export interface NumberOptions extends ValueOptions<number> {
  readonly min?: number;
  readonly max?: number;
}

/** `min`/`max` are in milliseconds, like the result. */
export interface DurationOptions extends NumberOptions {
  /** Unit of a bare number: IDOL writes `RetryInterval=10` (seconds) and `LuaTimeout=5000` (ms). */
  readonly bareUnit: 'ms' | 's';
}

/**
 * Typed access to one section. Every getter marks its key as known; `finish()` then reports the
 * keys nobody read as unknown (a warning naming the nearest known key).
 * Getters never throw: a bad value records an error and returns the default (or undefined).
 */
export interface SectionReader {
  readonly name: string;
  /** False when the section is not in the document (getters then return defaults). */
  readonly exists: boolean;
  readonly location: SourceLocation;
  /** Directory of the file that holds this section; relative paths resolve against it. */
  readonly baseDir: string;

  has(key: string): boolean;
  /** Location of a key, or of the section when the key is absent. */
  locate(key: string): SourceLocation;
  string(key: string, options?: ValueOptions<string>): string | undefined;
  /** Like string(), but the value never appears in any message. */
  secret(key: string, options?: ValueOptions<string>): string | undefined;
  int(key: string, options?: NumberOptions): number | undefined;
  float(key: string, options?: NumberOptions): number | undefined;
  bool(key: string, options?: ValueOptions<boolean>): boolean | undefined;
  /** Milliseconds. Accepts `250ms`, `30s`, `5m`, `2h`, `7d` and a bare number in `bareUnit`. */
  duration(key: string, options: DurationOptions): number | undefined;
  /** Byte size: `64MB`, `512KB`, `1GB`, or a bare number of bytes. */
  bytes(key: string, options?: NumberOptions): number | undefined;
  /** Comma list with quoting and `\,` escapes. Absent key: default or []. */
  list(key: string, options?: ValueOptions<readonly string[]>): readonly string[];
  /** One of `values`, matched without regard to case; returns the spelling from `values`. */
  oneOf<T extends string>(key: string, values: readonly T[], options?: ValueOptions<T>): T | undefined;
  /** A file path resolved against `baseDir`. */
  path(key: string, options?: ValueOptions<string>): string | undefined;

  /**
   * The key's value as a message may show it: `"value"`; `the value` for a key read with secret();
   * for a value that held `${ENV:...}` or `${FILE:...}`, what was written (`"${ENV:HOOK}" once
   * expanded`), as expanded text often comes from a secret whatever getter reads it.
   */
  quoted(key: string): string;
  /** Record an error about a key (for checks that span several keys). */
  error(key: string, message: string, code?: ErrorCode): void;
  warning(key: string, message: string, code?: ErrorCode): void;
  /** Report unread keys as unknown. Call once, after the last getter. */
  finish(): void;
}

/** Collects problems across the whole load. */
export interface ProblemSink {
  add(problem: ConfigProblem): void;
  readonly problems: readonly ConfigProblem[];
  readonly hasErrors: boolean;
}

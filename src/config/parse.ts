/**
 * Reads an IDOL-style config file and everything it includes into one `ConfigDocument`
 * (idol-reference.md §9.5). Problems go to the sink with the file:line where they were written;
 * nothing throws. Every entry keeps the location where it was really written (an included file,
 * not the include line), so later value errors point at the right place.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../common/errors.js';
import { expandReferences, hasReference } from './expand.js';
import { classifyLine, splitLines, type IncludeRef } from './lines.js';
import { describeReadError } from './read-error.js';
import { showName } from './shown-text.js';
import type { ConfigDocument, ConfigEntry, ConfigSection, ProblemSink, SourceLocation } from './types.js';

interface SectionBuild extends ConfigSection {
  readonly entries: Map<string, ConfigEntry>;
}
/** Sections by lower-case name, in the order first written. */
type Sections = Map<string, SectionBuild>;

export function readConfigDocument(file: string, sink: ProblemSink): ConfigDocument {
  const mainFile = resolve(file);
  const loader = new Loader(sink, dirname(mainFile));
  const sections: Map<string, ConfigSection> = loader.load(mainFile, [], undefined) ?? new Map();
  return Object.freeze({ mainFile, sections });
}

/** Finds or creates a section; a section written twice keeps its first spelling and location. */
function sectionIn(sections: Sections, name: string, at: SourceLocation): SectionBuild {
  const lower = name.toLowerCase();
  let section = sections.get(lower);
  if (section === undefined) {
    section = { name, file: at.file, line: at.line, entries: new Map() };
    sections.set(lower, section);
  }
  return section;
}

/** Later keys win. Entries are immutable, so sharing them with the source is safe. */
function mergeInto(target: SectionBuild, source: ConfigSection): void {
  for (const [lower, entry] of source.entries) target.entries.set(lower, entry);
}

function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * How deep includes may nest. Each level is a few frames of recursion: a chain of 5,000 files
 * overflowed the stack (test/fuzz/config-reader.test.ts). IDOL names no limit; real configs nest
 * two or three deep.
 */
const MAX_INCLUDE_DEPTH = 64;

class Loader {
  /** Files already read in this load; `null` when unreadable (reported once). */
  private readonly cache = new Map<string, Sections | null>();

  constructor(
    private readonly sink: ProblemSink,
    private readonly baseDir: string,
  ) {}

  /**
   * The sections of `file` with its own includes applied. `chain` is the stack of files being read,
   * outermost first; `at` is the include line that asked for it (undefined for the main file).
   */
  load(file: string, chain: readonly string[], at: SourceLocation | undefined): Sections | undefined {
    if (chain.includes(file)) {
      const names = [...chain.slice(chain.indexOf(file)), file].map((f) => this.show(f));
      this.problem('CONFIG_INCLUDE', at ?? { file, line: 0 }, `include cycle: ${names.join(' -> ')}`);
      return undefined;
    }
    if (chain.length >= MAX_INCLUDE_DEPTH) {
      this.problem('CONFIG_INCLUDE', at ?? { file, line: 0 }, `includes are nested more than ${MAX_INCLUDE_DEPTH} deep (at ${this.show(file)})`);
      return undefined;
    }
    const cached = this.cache.get(file);
    if (cached !== undefined) return cached ?? undefined;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const what = at === undefined ? 'cannot read the config file' : `cannot include ${this.show(file)}`;
      this.problem('CONFIG_INCLUDE', at ?? { file, line: 0 }, `${what}: ${describeReadError(e)}`);
      this.cache.set(file, null);
      return undefined;
    }
    const sections = this.parseText(file, text, [...chain, file]);
    this.cache.set(file, sections);
    return sections;
  }

  private parseText(file: string, text: string, chain: readonly string[]): Sections {
    const sections: Sections = new Map();
    let current: SectionBuild | undefined;
    splitLines(text).forEach((raw, index) => {
      const at: SourceLocation = { file, line: index + 1 };
      const line = classifyLine(raw);
      switch (line.kind) {
        case 'blank':
          return;
        case 'bad':
          this.problem('CONFIG_SYNTAX', at, line.message);
          return;
        case 'entry':
          if (current === undefined) {
            this.problem('CONFIG_SYNTAX', at, `${showName(line.key)}=... comes before any [Section] heading`);
          } else {
            current.entries.set(line.key.toLowerCase(), this.entry(current.name, line.key, line.value, at));
          }
          return;
        case 'header':
          current = sectionIn(sections, line.name, at);
          if (line.include !== undefined) {
            const source = this.includedSection(line.include, at, chain);
            if (source !== undefined) mergeInto(current, source);
          }
          return;
        case 'include':
          current = this.applyInclude(line.include, at, chain, sections, current);
          return;
      }
    });
    return sections;
  }

  /**
   * The three include forms that stand on their own line. Whole-file and one-section includes act as
   * if the text were pasted there (§9.5 "heading included"), so the last pasted section becomes the
   * current one; a parameter include adds to the current section. Returns the new current section.
   */
  private applyInclude(
    ref: IncludeRef,
    at: SourceLocation,
    chain: readonly string[],
    sections: Sections,
    current: SectionBuild | undefined,
  ): SectionBuild | undefined {
    if (ref.param !== undefined) {
      if (current === undefined) {
        this.problem('CONFIG_SYNTAX', at, `a parameter include (${showName(ref.param)}) must be inside a [Section]`);
      } else {
        this.includeParam(ref, ref.param, at, chain, current);
      }
      return current;
    }
    if (ref.section !== undefined) {
      const source = this.includedSection(ref, at, chain);
      if (source === undefined) return current;
      const target = sectionIn(sections, source.name, source);
      mergeInto(target, source);
      return target;
    }
    const included = this.load(this.target(ref.path, at.file), chain, at);
    let last = current;
    for (const source of included?.values() ?? []) {
      last = sectionIn(sections, source.name, source);
      mergeInto(last, source);
    }
    return last;
  }

  /** `< "file" [Shared] Param` or `Param=Default`; the default applies when nothing matches. */
  private includeParam(
    ref: IncludeRef,
    param: string,
    at: SourceLocation,
    chain: readonly string[],
    current: SectionBuild,
  ): void {
    const pattern = /[*?]/.test(param) ? wildcard(param) : undefined;
    if (pattern !== undefined && ref.defaultValue !== undefined) {
      this.problem('CONFIG_SYNTAX', at, `a wildcard parameter (${showName(param)}) cannot have a default`);
    }
    const source = this.includedSection(ref, at, chain);
    let found = false;
    for (const [lower, entry] of source?.entries ?? []) {
      if (pattern ? pattern.test(entry.key) : lower === param.toLowerCase()) {
        current.entries.set(lower, entry);
        found = true;
      }
    }
    if (!found && pattern === undefined && ref.defaultValue !== undefined) {
      current.entries.set(param.toLowerCase(), this.entry(current.name, param, ref.defaultValue, at));
    }
  }

  /**
   * Every entry is made here, so the value of every key in every section gets its `${ENV:...}` and
   * `${FILE:...}` expanded (expand.ts), whichever getter, or none, reads it later. A value that
   * cannot be expanded is reported here and left empty and `unexpanded`.
   */
  private entry(section: string, key: string, written: string, at: SourceLocation): ConfigEntry {
    if (!hasReference(written)) return { key, value: written, ...at };
    const expanded = expandReferences(written, dirname(at.file));
    if (expanded.ok) return { key, value: expanded.value, written, ...at };
    this.sink.add({ severity: 'error', code: 'CONFIG_EXPANSION', file: at.file, line: at.line, section, key, message: expanded.reason });
    return { key, value: '', written, unexpanded: true, ...at };
  }

  /** Loads the referenced file and returns its named section, reporting a missing one at `at`. */
  private includedSection(ref: IncludeRef, at: SourceLocation, chain: readonly string[]): ConfigSection | undefined {
    const file = this.target(ref.path, at.file);
    const sections = this.load(file, chain, at);
    if (sections === undefined || ref.section === undefined) return undefined;
    const section = sections.get(ref.section.toLowerCase());
    if (section === undefined) {
      this.problem('CONFIG_INCLUDE', at, `${this.show(file)} has no section [${showName(ref.section)}]`);
    }
    return section;
  }

  /**
   * Include paths resolve against the including file's folder, so a nested include works wherever its
   * file lives (for includes in the main file this is §9.5's "relative to the main file").
   */
  private target(path: string, fromFile: string): string {
    if (/^file:/i.test(path)) {
      try {
        return fileURLToPath(path);
      } catch {
        return path; // unreadable: load() reports it at the include line
      }
    }
    return isAbsolute(path) ? resolve(path) : resolve(dirname(fromFile), path);
  }

  /** File names in messages are relative to the main file's folder: short, and what users wrote. */
  private show(file: string): string {
    const rel = relative(this.baseDir, file);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
  }

  private problem(code: ErrorCode, at: SourceLocation, message: string): void {
    this.sink.add({ severity: 'error', code, file: at.file, line: at.line, message });
  }
}

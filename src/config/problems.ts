/**
 * Collecting and printing config problems. The reader never throws on a bad config: every problem is
 * added to one sink with its file:line, so `tocsin check-config` can print them all in one run.
 */
import { isAbsolute, relative } from 'node:path';
import { escapeControls, showMessage, showName } from './shown-text.js';
import type { ConfigProblem, ProblemSink } from './types.js';

export function createProblemSink(): ProblemSink {
  const problems: ConfigProblem[] = [];
  return {
    add(problem: ConfigProblem): void {
      problems.push(problem);
    },
    get problems(): readonly ConfigProblem[] {
      return problems;
    },
    get hasErrors(): boolean {
      return problems.some((p) => p.severity === 'error');
    },
  };
}

/** A path relative to the working directory when it lies inside it (shorter, and what users typed). */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return file;
  return rel;
}

/**
 * One line, compiler style, so editors can jump to it:
 * `config/tocsin.cfg:12: error: [Actions] MaximumThreads: "abc" is not an integer (CONFIG_VALUE)`.
 * Line 0 means "the file as a whole" (e.g. it could not be read) and prints as `file:`.
 * Names and message are shown safe for a terminal (shown-text.ts): long ones cut, controls escaped.
 */
export function formatProblem(p: ConfigProblem): string {
  const where = escapeControls(p.line > 0 ? `${displayPath(p.file)}:${p.line}` : displayPath(p.file));
  let subject = '';
  if (p.section !== undefined) subject += `[${showName(p.section)}] `;
  if (p.key !== undefined) subject += `${showName(p.key)}: `;
  return `${where}: ${p.severity}: ${subject}${showMessage(p.message)} (${p.code})`;
}

/**
 * `${ENV:NAME}` and `${FILE:path}` inside config values, so that secrets (a ConnectionString's
 * password, an HttpHandler's BasicPassword) can live in the environment or in a file of their own
 * rather than in the config file. The reader expands every value once, where it reads the line
 * (parse.ts), so every key of every section gets it and no getter can forget it.
 *
 * - `${ENV:NAME}`: the environment variable; NAME is letters, digits and `_`, not starting with a digit.
 * - `${FILE:path}`: the file's contents (UTF-8) without one trailing newline; a relative path is
 *   relative to the folder of the config file the line is written in, as include paths are.
 * - `$${ENV:...}` / `$${FILE:...}` stand for the literal text `${ENV:...}` / `${FILE:...}`.
 * - Anything else with `${` is left as written, and expanded text is not expanded again.
 * - `ENV` and `FILE` match without regard to case, like every other name in the config.
 *
 * Failure reasons name the reference as written (a variable name, a path), never expanded text.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { describeReadError } from './read-error.js';

export type Expansion =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: string };

// `$` `$`? `{` ENV|FILE `:` body `}`?; a missing `}` means the reference ran to the end of the value.
const REFERENCE = /\$(\$?)\{(ENV|FILE):([^}]*)(\}?)/gi;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quick test, so that values without a reference (nearly all) are not rebuilt. */
export function hasReference(text: string): boolean {
  return /\$\{(?:ENV|FILE):/i.test(text);
}

/** Expands `text`; the first reference that cannot be expanded fails the whole value. */
export function expandReferences(text: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Expansion {
  let failure: string | undefined;
  const value = text.replace(REFERENCE, (whole: string, escape: string, kind: string, body: string, close: string) => {
    if (escape !== '') return whole.slice(1);
    if (failure !== undefined) return '';
    const written = `\${${kind}:${body}${close}`;
    if (close === '') {
      failure = `${written} has no closing "}"`;
      return '';
    }
    const result = kind.toUpperCase() === 'ENV' ? fromEnv(body, env) : fromFile(body, baseDir);
    if (result.ok) return result.value;
    failure = `${written} ${result.reason}`;
    return '';
  });
  return failure === undefined ? { ok: true, value } : { ok: false, reason: failure };
}

function fromEnv(name: string, env: NodeJS.ProcessEnv): Expansion {
  if (!VARIABLE_NAME.test(name)) return { ok: false, reason: 'is not an environment variable name (letters, digits and _, not starting with a digit)' };
  const value = env[name];
  return value === undefined ? { ok: false, reason: 'names an environment variable that is not set' } : { ok: true, value };
}

function fromFile(path: string, baseDir: string): Expansion {
  if (path.trim() === '') return { ok: false, reason: 'names no file' };
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    // One trailing newline goes: `echo secret > file` and editors add it; it is never meant.
    return { ok: true, value: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } catch (e) {
    return { ok: false, reason: `cannot be read: ${describeReadError(e)} (${file})` };
  }
}

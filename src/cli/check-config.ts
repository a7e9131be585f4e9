/**
 * `tocsin check-config FILE`: prints every problem with file:line, and a summary; returns the exit
 * code (1 on any error). Opens nothing: no database, no port, no handler connection.
 */
import { formatProblem } from '../config/problems.js';
import { builtinHandlerRegistry } from '../events/builtin-handlers.js';
import { prepareConfig } from '../prepare-config.js';

export function checkConfig(file: string, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): number {
  const { loaded } = prepareConfig(file, { codeActions: [], registry: builtinHandlerRegistry(), start: false });
  const problems = [...loaded.sink.problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  for (const p of problems) out(formatProblem(p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  out(`${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return errors > 0 ? 1 : 0;
}

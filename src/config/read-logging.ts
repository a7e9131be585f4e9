/**
 * `[Logging]` (IDOL's section name for its logs): `LogLevel` and `LogFile`. `[Server] LogLevel`
 * stays as it was; `[Logging] LogLevel`, when written, wins over it.
 *
 * LogLevel takes Tocsin's names (debug, info, warn, error) and IDOL's (Full, Normal, Warning,
 * Error, Always), so an IDOL config's value carries over: Full is debug, Normal info, Warning
 * warn, Error and Always error (Always is "only what must always be logged": errors here).
 */
import type { LogLevel } from '../common/logger.js';
import type { SectionReader } from './types.js';

export interface LoggingSettings {
  /** `[Logging] LogLevel`, else `[Server] LogLevel`, default info. */
  readonly level: LogLevel;
  /** `[Logging] LogFile`: lines are appended to this file (folder created) instead of stderr. */
  readonly file?: string;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'Full', 'Normal', 'Warning', 'Always'] as const;
const IDOL_LEVELS: Readonly<Record<(typeof LEVELS)[number], LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  Full: 'debug',
  Normal: 'info',
  Warning: 'warn',
  Always: 'error',
};

export function readLogging(r: SectionReader, serverLevel: LogLevel): LoggingSettings {
  const written = r.oneOf('LogLevel', LEVELS);
  const file = r.path('LogFile');
  r.finish();
  return { level: written === undefined ? serverLevel : IDOL_LEVELS[written], ...(file !== undefined ? { file } : {}) };
}

/**
 * Logging interface used everywhere, on pino (decisions.md "Logs"): one JSON line per message,
 * `{"level":"info","time":"2026-…Z","msg":"…",…fields}`, to stderr or `[Logging] LogFile`; pretty
 * (pino-pretty) for a terminal with `tocsin serve --pretty`.
 *
 * Fields are structured. Lines about an action carry `token`, lines about an event `eventId` (and
 * the action's `token` when it has one), so `grep`/`jq` finds everything about one of them.
 * A value is never a secret: callers pass section and key names, never passwords; should one slip
 * into a field anyway, pino's `redact` censors the usual names (REDACTED_FIELDS) at any of the
 * first two levels.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry these fields too (e.g. the handler's section name). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Least level written, default info. */
  readonly level?: LogLevel;
  /** Receives each line (without its newline) instead of a file or stderr (tests, library users). */
  readonly write?: (line: string) => void;
  /** Fields on every line. */
  readonly fields?: LogFields;
  /** Append to this file (created with its folder) instead of stderr: `[Logging] LogFile`. */
  readonly file?: string;
  /** Human-readable lines (pino-pretty), coloured on a terminal: `tocsin serve --pretty`. */
  readonly pretty?: boolean;
}

/**
 * Field names censored wherever they appear at the top level or one level down. Config keys that
 * hold secrets (BasicPassword, ProxyPassword, SSLPrivateKeyPassword, SigningSecret,
 * ConnectionString) in their config and camel spellings, and the usual names.
 */
const SECRET_NAMES = [
  'password',
  'passwd',
  'secret',
  'authorization',
  'cookie',
  'basicPassword',
  'BasicPassword',
  'proxyPassword',
  'ProxyPassword',
  'sslPrivateKeyPassword',
  'SSLPrivateKeyPassword',
  'signingSecret',
  'SigningSecret',
  'connectionString',
  'ConnectionString',
  'PGPASSWORD',
];
export const REDACTED_FIELDS: readonly string[] = [...SECRET_NAMES, ...SECRET_NAMES.map((n) => `*.${n}`)];

/** A line is written whole with one synchronous write: none is lost at process.exit(). */
function destination(options: LoggerOptions): DestinationStream {
  if (options.write) {
    const write = options.write;
    return { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  }
  if (options.pretty) {
    return pretty({
      colorize: options.file === undefined && process.stderr.isTTY === true,
      destination: options.file ?? 2,
      mkdir: true,
      sync: true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
  }
  if (options.file !== undefined) return pino.destination({ dest: options.file, mkdir: true, append: true, sync: true });
  return pino.destination({ fd: 2, sync: true });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const root = pino(
    {
      level: options.level ?? 'info',
      // No pid and host name on every line: one node per process, named in "Tocsin listening".
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: `"level":"warn"` reads and greps as before.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_FIELDS], censor: '[redacted]' },
    },
    destination(options),
  );
  return options.fields ? wrap(root.child(options.fields), options.fields) : wrap(root);
}

function wrap(p: PinoLogger, bound: LogFields = {}): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields === undefined) p[level](message);
      else p[level](withoutBound(fields, bound), message);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(fields), { ...bound, ...fields }),
  };
}

/**
 * pino writes a child's fields and a line's fields side by side, so a key in both (a handler's
 * logger given `handler` again) would appear twice in the JSON; the line's copy is dropped when it
 * says the same.
 */
function withoutBound(fields: LogFields, bound: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const key in fields) {
    if (key in bound && bound[key] === fields[key]) {
      out ??= { ...fields };
      delete out[key];
    }
  }
  return out ?? fields;
}

/** A logger that drops everything (library use without logs). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** A logger that keeps lines in memory, for tests that check what was (and was not) logged. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (line) => lines.push(line) });
  return Object.assign(logger, { lines });
}

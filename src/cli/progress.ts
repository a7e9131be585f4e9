/**
 * How `tocsin wait` shows an action's progress: on a terminal, one line redrawn in place
 * (`[########------------]  40% stage  Processing`); elsewhere (a pipe, a log, CI) a plain line
 * per change, so scripts read `Queued`, `Processing 40% (stage)`, `Finished`.
 */
import type { ActionStatusRecord } from '../client/status-record.js';

const BAR_WIDTH = 24;

export interface ProgressView {
  update(record: ActionStatusRecord): void;
  /** Ends the redrawn line (terminal) before the final lines are printed. */
  done(): void;
}

export function percentOf(record: ActionStatusRecord): number | undefined {
  const percent = record.progress?.percent;
  if (percent === undefined) return record.status === 'Finished' ? 100 : undefined;
  const n = Number(percent);
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : undefined;
}

/** The plain line of a record: `Processing 40% (stage)`. */
export function plainLine(record: ActionStatusRecord): string {
  const progress = record.progress;
  const percent = progress ? ` ${progress.percent}%${progress.stage ? ` (${progress.stage})` : ''}` : '';
  return `${record.status}${percent}`;
}

export function barLine(record: ActionStatusRecord, columns: number): string {
  const percent = percentOf(record);
  const filled = Math.round(((percent ?? 0) / 100) * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const stage = record.progress?.stage ? `  ${record.progress.stage}` : '';
  const line = `${bar} ${percent === undefined ? '  ?' : String(Math.round(percent)).padStart(3)}%  ${record.status}${stage}`;
  // Never wider than the terminal: a wrapped line cannot be redrawn with \r.
  return line.slice(0, Math.max(10, columns - 1));
}

export function progressView(stream: NodeJS.WriteStream): ProgressView {
  if (!stream.isTTY) {
    return { update: (record) => void stream.write(plainLine(record) + '\n'), done() {} };
  }
  let drawn = false;
  return {
    update(record) {
      // \r and "erase to end of line" (ESC [ K): the new line replaces the old one in place.
      stream.write(`\r${barLine(record, stream.columns ?? 80)}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}

/**
 * `tocsin move-store --from <sqlite db> --to <postgres url> [--merge] [--no-delivered]`: copies a
 * single-node store into PostgreSQL (src/store/move/move-store.ts) and prints what it copied. The
 * target is named as host:port/database, never with its password.
 */
import { moveStore, type MoveReport } from '../store/move/move-store.js';

export interface MoveStoreVerbOptions {
  readonly from: string;
  readonly to: string;
  readonly merge?: boolean;
  readonly delivered?: boolean;
}

export async function moveStoreVerb(options: MoveStoreVerbOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const report = await moveStore({ from: options.from, to: options.to, merge: options.merge ?? false, delivered: options.delivered ?? true });
  for (const line of describeMove(report)) out(line);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const total = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);
const detail = (counts: Readonly<Record<string, number>>) => {
  const parts = Object.entries(counts).map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
};

/** The lines printed after a move. */
export function describeMove(r: MoveReport): string[] {
  const lines = [`moved ${r.source} into PostgreSQL at ${r.target}, in one transaction`];
  const skippedActions = r.actionsSkipped > 0 ? `; ${r.actionsSkipped} skipped (the target held their tokens)` : '';
  lines.push(`actions: ${total(r.actions)} copied${detail(r.actions)}${skippedActions}`);
  const skippedEvents = r.eventsSkipped > 0 ? `; ${r.eventsSkipped} skipped (the target held them)` : '';
  const delivered = r.deliveredCopied ? '' : '; delivered events left behind (--no-delivered)';
  lines.push(`events: ${total(r.events)} copied${detail(r.events)}${skippedEvents}${delivered}`);
  const queues = r.queues.map((q) => `${q.name} +${q.waiting}`).join(', ');
  lines.push(`queues: ${r.queues.length}${queues ? ` (waiting actions added: ${queues})` : ''}`);
  if (r.running > 0) {
    lines.push(`${plural(r.running, 'running action')} arrived without a node: the first Tocsin node to start on this database queues them again (attempts counted)`);
  }
  return lines;
}

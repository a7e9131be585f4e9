/**
 * Where the kill loop's duplicates come from. At each kill the server is frozen first (SIGSTOP,
 * then SIGKILL: the same as a kill -9 at the moment of the stop, but the moment can be looked at):
 * what each handler had received by then, and which of those events the store still held pending
 * (delivered, but the outcome not committed: the restart delivers them again). For the HttpHandler
 * the kernel also tells how many answers sat unread in the server's sockets (in flight: the
 * receiver had answered, the server had not heard). Arrivals at the receiver after the freeze and
 * before the restart were in flight from the dead server when it stopped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const ID = /<id>([^<]*)<\/id>/;

/** The event id of each whole line of an event file (the first `<id>` is the event's). */
export function fileIds(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n');
  return end < 0 ? [] : text.slice(0, end).split('\n').map((l) => ID.exec(l)?.[1] ?? '');
}

export function documentId(document: string): string {
  return ID.exec(document)?.[1] ?? '';
}

/** Pending event ids per handler, read from the frozen server's database (WAL readers need no lock). */
export function pendingIds(dbFile: string): Map<string, Set<string>> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const out = new Map<string, Set<string>>();
    const rows = db.prepare("SELECT handler, event_id AS id FROM events WHERE state = 'pending'").all() as { handler: string; id: string }[];
    for (const r of rows) {
      const set = out.get(r.handler) ?? new Set<string>();
      set.add(r.id);
      out.set(r.handler, set);
    }
    return out;
  } finally {
    db.close();
  }
}

/** Connections of process `pid` to `port` with unread bytes (answers the server had not read yet). */
export function unreadAnswers(pid: number, port: number): number | undefined {
  const r = spawnSync('ss', ['-tnpH', 'state', 'established', 'dport', `= :${port}`], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .filter((l) => Number(l.trim().split(/\s+/)[0]) > 0).length;
}

/** What the kills left behind, per handler, and which duplicates that explains. */
export class KillLedger {
  private readonly unrecorded = new Map<string, Set<string>>();
  private readonly late = new Map<string, Set<string>>();
  private unread = 0;
  private kills = 0;

  /** One kill: `arrived` before the freeze, `pending` in the store at it, `unread` answers in the server's sockets. */
  kill(arrived: ReadonlyMap<string, readonly string[]>, pending: ReadonlyMap<string, ReadonlySet<string>>, unread: number | undefined): void {
    this.kills++;
    this.unread += unread ?? 0;
    for (const [handler, ids] of arrived) {
      const still = pending.get(handler) ?? new Set<string>();
      const set = this.unrecorded.get(handler) ?? new Set<string>();
      for (const id of ids) if (still.has(id)) set.add(id);
      this.unrecorded.set(handler, set);
    }
  }

  /** Arrivals from the dead server after its freeze (it had sent them; they were in flight). */
  lateArrivals(handler: string, ids: readonly string[]): void {
    const set = this.late.get(handler) ?? new Set<string>();
    for (const id of ids) set.add(id);
    this.late.set(handler, set);
  }

  /** The breakdown of one handler's duplicates, for the test's diagnostics. */
  line(handler: string, arrivals: readonly string[]): string {
    const unrecorded = this.unrecorded.get(handler) ?? new Set<string>();
    const late = this.late.get(handler) ?? new Set<string>();
    const seen = new Set<string>();
    let fromUnrecorded = 0;
    let fromLate = 0;
    let other = 0;
    for (const id of arrivals) {
      if (!seen.has(id)) {
        seen.add(id);
        continue;
      }
      if (unrecorded.has(id)) fromUnrecorded++;
      else if (late.has(id)) fromLate++;
      else other++;
    }
    const perKill = (n: number) => (n / Math.max(1, this.kills)).toFixed(1);
    const http = handler === 'Http' ? `; answers unread in the server's sockets at the kills ${this.unread} (${perKill(this.unread)} per kill)` : '';
    return (
      `${handler} duplicates: ${fromUnrecorded} delivered before the kill with the outcome not yet committed ` +
      `(${unrecorded.size} such at the kills, ${perKill(unrecorded.size)} per kill), ${fromLate} in flight (reached the receiver after the freeze), ${other} other${http}`
    );
  }
}

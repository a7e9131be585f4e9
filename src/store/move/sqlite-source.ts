/**
 * The SQLite side of `tocsin move-store`: a Tocsin database opened read-only, checked to be one,
 * held against servers for the length of the copy, and read in one snapshot, in id and seq order.
 *
 * What it refuses (MOVE_SOURCE_INVALID): a file that is missing, not SQLite, not a Tocsin store
 * (no schema_migrations, actions, queues and events tables), or written by a newer Tocsin
 * (a schema version this build does not know). Older versions are read as they are: the
 * database is never migrated here, since it is opened read-only.
 *
 * The server lock (database.ts): the copy takes the data directory's lock as a server would, so a
 * running server makes it fail at once (MOVE_SOURCE_BUSY), and a server started during the copy
 * fails at start-up instead of changing the database under it. Where the lock file cannot be
 * written (a read-only directory, another user's file), it is only read: a server holding it
 * holds it exclusively, so even a read fails then.
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TocsinError } from '../../common/errors.js';
import type { ActionRow } from '../action-row.js';
import type { EventDbRow } from '../event-row.js';
import { isLockBusy, takeLock } from '../sqlite/database.js';
import { MIGRATIONS } from '../sqlite/migrations.js';

const REQUIRED_TABLES = ['schema_migrations', 'actions', 'queues', 'events'] as const;
const KNOWN_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

export interface SourceQueue {
  readonly name: string;
  readonly paused: boolean;
  readonly lastEvent: string;
}

/** The file a `--from` names: the database itself, or a data directory holding tocsin.db. */
export function sourceFile(from: string): string {
  return existsSync(from) && statSync(from).isDirectory() ? join(from, 'tocsin.db') : from;
}

export class SqliteSource {
  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
    private readonly lock: Database.Database | undefined,
    /** Schema v2 moved documents into event_documents; v1 keeps them in events. */
    private readonly documentsApart: boolean,
  ) {}

  static open(from: string): SqliteSource {
    const file = sourceFile(from);
    const db = openReadOnly(file);
    let lock: Database.Database | undefined;
    try {
      const documentsApart = checkSchema(db, file);
      lock = holdAgainstServers(file);
      // One snapshot for everything read below (BEGIN alone takes none: the first read does).
      db.exec('BEGIN');
      db.prepare('SELECT COUNT(*) FROM actions').pluck().get();
      return new SqliteSource(file, db, lock, documentsApart);
    } catch (e) {
      db.close();
      lock?.close();
      throw e;
    }
  }

  /** Every queue with a row or an action, by name: pause flag and last queue event as stored. */
  queues(): SourceQueue[] {
    const rows = this.db
      .prepare<[], { name: string; paused: number | null; last_event: string | null }>(
        `SELECT n.name, q.paused, q.last_event
           FROM (SELECT name FROM queues UNION SELECT DISTINCT queue FROM actions) n
           LEFT JOIN queues q ON q.name = n.name
          ORDER BY n.name`,
      )
      .all();
    return rows.map((r) => ({ name: r.name, paused: r.paused === 1, lastEvent: r.last_event ?? 'QueueEmpty' }));
  }

  /** Every action, in id order (arrival order). */
  actions(): IterableIterator<ActionRow> {
    return this.db.prepare<[], ActionRow>('SELECT * FROM actions ORDER BY id').iterate();
  }

  /** Every event with its document, in seq order; delivered ones only when asked for. */
  events(withDelivered: boolean): IterableIterator<EventDbRow> {
    const where = withDelivered ? '' : ` WHERE e.state <> 'delivered'`;
    const sql = this.documentsApart
      ? `SELECT e.*, d.document, d.request FROM events e JOIN event_documents d ON d.id = COALESCE(e.doc_id, e.seq)${where} ORDER BY e.seq`
      : `SELECT e.* FROM events e${where} ORDER BY e.seq`;
    return this.db.prepare<[], EventDbRow>(sql).iterate();
  }

  close(): void {
    try {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    } finally {
      this.db.close();
      this.lock?.close();
    }
  }
}

function invalid(file: string, why: string, cause?: unknown): TocsinError {
  return new TocsinError('MOVE_SOURCE_INVALID', `${file} ${why}`, cause === undefined ? undefined : { cause });
}

function openReadOnly(file: string): Database.Database {
  try {
    return new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw invalid(file, existsSync(file) ? `cannot be opened: ${(e as Error).message}` : 'does not exist', e);
  }
}

/** Throws unless the database is a Tocsin store this build can read; tells whether documents are apart. */
function checkSchema(db: Database.Database, file: string): boolean {
  let tables: Set<string>;
  try {
    tables = new Set(db.prepare<[], string>(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all());
  } catch (e) {
    throw invalid(file, `is not an SQLite database (${(e as Error).message})`, e);
  }
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (missing.length > 0) throw invalid(file, `is not a Tocsin SQLite datastore (no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''})`);
  const version = db.prepare<[], number | null>('SELECT MAX(version) FROM schema_migrations').pluck().get() ?? 0;
  if (version > KNOWN_VERSION) throw invalid(file, `was written by a newer Tocsin (schema version ${version}; this one knows up to ${KNOWN_VERSION})`);
  return tables.has('event_documents');
}

function holdAgainstServers(file: string): Database.Database | undefined {
  try {
    return takeLock(file);
  } catch (e) {
    if (isLockBusy(e)) throw busy(file, e);
  }
  // The lock file could not be written: read it, which fails while a server holds it.
  if (!existsSync(`${file}.lock`)) return undefined;
  let probe: Database.Database | undefined;
  try {
    probe = new Database(`${file}.lock`, { readonly: true, timeout: 0 });
    probe.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    return undefined;
  } catch (e) {
    if (isLockBusy(e)) throw busy(file, e);
    return undefined;
  } finally {
    probe?.close();
  }
}

function busy(file: string, cause: unknown): TocsinError {
  return new TocsinError('MOVE_SOURCE_BUSY', `${file} is in use by a running Tocsin server: stop it first, so that nothing changes during the move`, { cause });
}

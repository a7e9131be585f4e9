/**
 * Opening the SQLite database: the data directory's lock, pragmas for the chosen durability, and
 * migrations.
 *
 * Durability (decisions.md `[Actions] Durability`):
 * - `process`: WAL with synchronous=NORMAL. A commit is in the WAL file (the OS page cache) before
 *   it returns, so it survives a kill -9 of the process; only an OS crash or power loss can lose it.
 * - `power`: WAL with synchronous=FULL: the WAL is fsynced at every commit (one fsync per
 *   group-commit batch), so a commit also survives a power loss.
 * Checkpoints (copying the WAL back into the file) run on their own thread (checkpointer.ts), so
 * the writer's connection has its automatic checkpoint turned off.
 *
 * One Tocsin process owns a data directory (a second one would corrupt the queue counts kept in
 * memory): it holds an exclusive lock on `<file>.lock` for as long as it runs, and a second one
 * fails at start-up. The lock is a separate file because the database itself must stay open to the
 * checkpoint thread's connection.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TocsinError } from '../../common/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Durability = 'process' | 'power';

export interface OpenedDatabase {
  readonly db: Database.Database;
  /** The lock of the data directory (none for ':memory:'). Close it after `db`. */
  readonly lock: Database.Database | undefined;
  readonly synchronous: 'NORMAL' | 'FULL';
}

const synchronousFor = (durability: Durability) => (durability === 'power' ? 'FULL' : 'NORMAL');

export function openDatabase(file: string, durability: Durability): OpenedDatabase {
  const synchronous = synchronousFor(durability);
  if (file === ':memory:') {
    const db = new Database(file);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return { db, lock: undefined, synchronous };
  }
  mkdirSync(dirname(file), { recursive: true });
  const lock = takeLock(file);
  try {
    const db = new Database(file, { timeout: 2000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    // The checkpoint thread copies the WAL back (checkpointer.ts); this connection never does.
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('foreign_keys = ON');
    migrate(db);
    // From here on a locked database (the checkpoint thread's RESTART) fails at once, and the
    // store retries on a timer (sqlite-store.ts `attempt`): the busy handler would sleep the thread.
    db.pragma('busy_timeout = 0');
    return { db, lock, synchronous };
  } catch (e) {
    lock.close();
    throw new TocsinError('STORE_FAILED', `Cannot open the datastore ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * An exclusive lock held by a connection in EXCLUSIVE locking mode after its first write. Also
 * taken by `tocsin move-store`, so that no server opens the database while it is being copied.
 */
export function takeLock(file: string): Database.Database {
  let lock: Database.Database | undefined;
  try {
    lock = new Database(`${file}.lock`, { timeout: 0 });
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER); BEGIN IMMEDIATE; DELETE FROM owner; COMMIT;');
    lock.prepare('INSERT INTO owner (pid) VALUES (?)').run(process.pid);
    return lock;
  } catch (e) {
    lock?.close();
    const why = isLockBusy(e) ? `another Tocsin process is using it (one server per DataDirectory)` : (e as Error).message;
    throw new TocsinError('STORE_FAILED', `Cannot open the datastore ${file}: ${why}`, { cause: e });
  }
}

/** Whether `e` (or the error it wraps) says that another connection holds the lock. */
export function isLockBusy(e: unknown): boolean {
  const err = e as { code?: unknown; cause?: unknown } | undefined;
  if (typeof err?.code === 'string' && err.code.startsWith('SQLITE_BUSY')) return true;
  return err?.cause !== undefined && err.cause !== e && isLockBusy(err.cause);
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
    })();
  }
}

/**
 * Opening the SQLite database: pragmas for the chosen durability, and migrations.
 *
 * Durability (decisions.md `[Actions] Durability`):
 * - `process`: WAL with synchronous=NORMAL. A commit is in the WAL file (the OS page cache) before
 *   it returns, so it survives a kill -9 of the process; only an OS crash or power loss can lose it.
 * - `power`: WAL with synchronous=FULL: the WAL is fsynced at every commit (one fsync per
 *   group-commit batch), so a commit also survives a power loss.
 * The database is opened in EXCLUSIVE locking mode: one Tocsin process owns a data directory
 * (a second one fails at start-up instead of corrupting the queue counts kept in memory).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TocsinError } from '../../common/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Durability = 'process' | 'power';

export function openDatabase(file: string, durability: Durability): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 2000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('foreign_keys = ON');
    // Take the exclusive lock now, so a second server on the same directory fails here.
    db.exec('BEGIN IMMEDIATE; COMMIT;');
  } catch (e) {
    const busy = (e as { code?: string }).code === 'SQLITE_BUSY';
    const why = busy ? `another Tocsin process is using it (one server per DataDirectory)` : (e as Error).message;
    throw new TocsinError('STORE_FAILED', `Cannot open the datastore ${file}: ${why}`, { cause: e });
  }
  migrate(db);
  return db;
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

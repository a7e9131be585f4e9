/**
 * A database file as an older Tocsin left it: the migrations up to `version` applied and recorded,
 * so that a test can fill it the old way and check what the next open migrates.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';

export function databaseAtVersion(file: string, version: number): Database.Database {
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(m.version);
  }
  return db;
}

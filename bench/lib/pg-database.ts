/**
 * The PostgreSQL server the benchmarks use: `TOCSIN_BENCH_PG_URL`, default the `postgres` database
 * of the `postgres` user at 127.0.0.1:5432 (what `.ci/run` starts on our machines). Each scenario
 * gets a fresh database of its own there, created and dropped by the bench; nothing else on the
 * server is touched. When the server cannot be reached the PostgreSQL scenarios are skipped with
 * the reason printed, never failed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const BENCH_PG_URL = process.env.TOCSIN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  /** `tocsin_bench_<12 hex digits>` */
  readonly name: string;
  readonly url: string;
  /** Drops it, ending any session still connected. Safe to call twice. */
  drop(): Promise<void>;
}

/** The URL without its password, for messages. */
export function redact(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

async function onServer<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why the PostgreSQL scenarios cannot run (the server at BENCH_PG_URL does not answer), or undefined. */
export async function pgSkipReason(): Promise<string | undefined> {
  try {
    await onServer('SELECT 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL at ${redact(BENCH_PG_URL)} is not reachable (${(e as Error).message}); set TOCSIN_BENCH_PG_URL=postgres://... to name a server`;
  }
}

/** "PostgreSQL 15.20, synchronous_commit=on, fsync=on, shared_buffers=128MB" */
export async function pgServerFacts(): Promise<string> {
  const rows = await onServer<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM unnest(ARRAY['server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'max_connections']) AS name`,
  );
  const s = new Map(rows.map((r) => [r.name, r.setting]));
  return `PostgreSQL ${s.get('server_version')} at ${redact(BENCH_PG_URL)}: synchronous_commit=${s.get('synchronous_commit')}, fsync=${s.get('fsync')}, shared_buffers=${s.get('shared_buffers')}, max_connections=${s.get('max_connections')}`;
}

/** A new, empty database on the bench server. */
export async function benchDatabase(): Promise<BenchDatabase> {
  // Lower-case letters and digits only: the name needs no quoting in SQL or in a URL.
  const name = `tocsin_bench_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  const url = new URL(BENCH_PG_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    // FORCE (PostgreSQL 13+) ends the sessions of a node that did not stop cleanly.
    drop: () => (dropped ??= onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined)),
  };
}

/** The process ids of the server's backends connected to `database` (for their CPU time). */
export async function backendPids(database: string): Promise<number[]> {
  const rows = await onServer<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  return rows.map((r) => r.pid);
}

export interface DatabaseStats {
  /** Transactions committed or rolled back in the database (pg_stat_database). */
  readonly transactions: number;
  /** Rows inserted, updated and deleted. */
  readonly rowsWritten: number;
}

/**
 * The database's activity since it was created, once every session on it has ended (a backend
 * reports its last figures as it exits; up to `waitMs` is allowed for that).
 */
export async function databaseStats(database: string, waitMs = 3_000): Promise<DatabaseStats> {
  const deadline = Date.now() + waitMs;
  while ((await backendPids(database)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 100));
  const [row] = await onServer<{ x: string; w: string }>(
    'SELECT xact_commit + xact_rollback AS x, tup_inserted + tup_updated + tup_deleted AS w FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  return { transactions: Number(row?.x ?? 0), rowsWritten: Number(row?.w ?? 0) };
}

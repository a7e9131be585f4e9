/**
 * The PostgreSQL connection pool, and what its errors become: a database that cannot be reached
 * is STORE_UNAVAILABLE (ACI `ERRORSTOREUNAVAILABLE`: nothing was stored), anything else
 * STORE_FAILED. Messages name the host and database, never the password.
 */
import pg from 'pg';
import { TocsinError } from '../../common/errors.js';

/** bigint columns (ids, epoch ms) as numbers: they stay far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Where the connection string points, without credentials: `host:port/database`. */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || url.searchParams.get('host') || 'localhost';
    return `${host}:${url.port || '5432'}${url.pathname || '/'}`;
  } catch {
    return 'an unparsable ConnectionString';
  }
}

/**
 * `Durability=process` (decisions.md: a reported change survives a kill -9 of Tocsin) asks no
 * more of PostgreSQL than a commit in its WAL buffers: a Tocsin node that dies takes nothing
 * committed with it, so this node's sessions commit with `synchronous_commit=off` and do not
 * wait for the WAL flush. A crash of the database server itself may then lose its last ~0.6 s
 * (3 × wal_writer_delay), as a power loss may lose SQLite's under `process`. `Durability=power`
 * keeps the server's own setting (on by default: the flush before the commit returns).
 */
export function createPool(connectionString: string, max = 6, durability: 'process' | 'power' = 'process'): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    types,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(durability === 'process' ? { options: '-c synchronous_commit=off' } : {}),
  });
  // A pooled client that breaks while idle must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  if (typeof err?.code === 'string' && UNREACHABLE.has(err.code)) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(message);
}

/** A driver error as a TocsinError naming the operation and the database (never the password). */
export function storeError(what: string, target: string, e: unknown): TocsinError {
  if (e instanceof TocsinError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (isUnreachable(e)) return new TocsinError('STORE_UNAVAILABLE', `The PostgreSQL datastore at ${target} cannot be reached (${what}): ${message}`, { cause: e });
  return new TocsinError('STORE_FAILED', `Datastore ${what} failed (PostgreSQL at ${target}): ${message}`, { cause: e });
}

/**
 * Running a unit of work in one PostgreSQL transaction. A deadlock or serialization failure is
 * tried again (the transaction was rolled back whole, so running it again is safe); a broken
 * connection is destroyed rather than returned to the pool.
 */
import type pg from 'pg';
import { isUnreachable, storeError } from './connection.js';

export type Sql = pg.PoolClient;

export type RunInTransaction = <T>(what: string, work: (sql: Sql) => Promise<T>) => Promise<T>;

const RETRYABLE = new Set(['40P01', '40001']);
const MAX_TRIES = 5;

export async function inTransaction<T>(pool: pg.Pool, target: string, what: string, work: (sql: Sql) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw storeError(what, target, e);
    }
    // A connection that breaks between two statements emits 'error' on the checked-out client,
    // which the pool does not listen to while it is out: unheard, it would end the process. The
    // next statement then fails, and the transaction with it.
    let brokenBetween: Error | undefined;
    const onError = (e: Error) => (brokenBetween = e);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.off('error', onError);
      client.release();
      return result;
    } catch (e) {
      const broken = isUnreachable(e) || brokenBetween !== undefined;
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      client.off('error', onError);
      client.release(broken ? (e as Error) : undefined);
      const code = (e as { code?: string }).code;
      if (code && RETRYABLE.has(code) && tries < MAX_TRIES) continue;
      throw storeError(what, target, e);
    }
  }
}

/** One statement outside a transaction, its errors named. */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, target: string, what: string, text: string, values?: unknown[]): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (e) {
    throw storeError(what, target, e);
  }
}

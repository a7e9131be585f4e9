import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { postgresSkipReason, testDatabase } from '../helpers/postgres.js';

const skip = await postgresSkipReason();

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function tableExists(client: pg.Client, name: string): Promise<boolean> {
  const result = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [name]);
  return result.rows[0]?.found !== null;
}

test('each test database is its own, empty and writable', { skip }, async (t) => {
  const a = await testDatabase();
  const b = await testDatabase();
  const ca = await connect(a.url);
  const cb = await connect(b.url);
  // One hook, in this order: node:test runs t.after hooks first-added first, and a forced drop
  // would end the sessions under the clients.
  t.after(async () => {
    await Promise.all([ca.end(), cb.end()]);
    await Promise.all([a.drop(), b.drop()]);
  });
  assert.notEqual(a.name, b.name);
  assert.equal((await ca.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db, a.name);
  assert.equal((await cb.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db, b.name);

  await ca.query('CREATE TABLE actions (token text PRIMARY KEY)');
  await ca.query("INSERT INTO actions VALUES ('t1')");
  assert.deepEqual((await ca.query('SELECT token FROM actions')).rows, [{ token: 't1' }]);
  assert.equal(await tableExists(ca, 'actions'), true);
  assert.equal(await tableExists(cb, 'actions'), false);
});

test('the server is PostgreSQL 13 or later (drop() relies on DROP DATABASE ... WITH (FORCE))', { skip }, async (t) => {
  const db = await testDatabase();
  const client = await connect(db.url);
  t.after(async () => {
    await client.end();
    await db.drop();
  });
  const version = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v);
  assert.ok(version >= 130000, `server_version_num ${version}`);
});

test('drop() removes the database even while a session is still connected to it', { skip }, async () => {
  const db = await testDatabase();
  const left = await connect(db.url);
  // pg reports the end twice (the server's message, then the closed socket); the first says why.
  const ended = new Promise<Error>((resolve) => left.on('error', resolve));
  await db.drop();
  // The forced drop terminated the session a test forgot to close.
  assert.equal(((await ended) as Error & { code?: string }).code, '57P01');
  await left.end().catch(() => undefined);
  await assert.rejects(connect(db.url), (e: Error & { code?: string }) => e.code === '3D000'); // invalid_catalog_name
  await db.drop(); // a second call is harmless
});

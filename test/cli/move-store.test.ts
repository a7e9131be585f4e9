/**
 * `tocsin move-store` run as a real process against a real PostgreSQL: the counts it prints, its
 * exit codes, refusals on stderr, and never the password of --to.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { postgresSkipReason, testDatabase, type TestDatabase } from '../helpers/postgres.js';
import { PROJECT_ROOT, tempDir, TOCSIN_BIN } from '../helpers/server.js';
import { makeSourceStore } from '../store/move-store-fixture.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function tocsin(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOCSIN_BIN, ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The test database's URL with a password in it: its own (the embedded server's), or else a made
 * up one, which a server that trusts loopback (TOCSIN_TEST_PG_URL's) never asks for.
 */
function withPassword(url: string): { url: string; password: string } {
  const u = new URL(url);
  if (u.password === '') u.password = 'Pw-never-printed-41c7';
  return { url: u.toString(), password: decodeURIComponent(u.password) };
}

const skip = await postgresSkipReason();
const databases: TestDatabase[] = [];
after(async () => {
  for (const db of databases) await db.drop();
});

test('move-store moves a store, prints what it copied, refuses to do it twice, merges when told; never prints the password', { skip }, async () => {
  const db = await testDatabase();
  databases.push(db);
  const { url, password } = withPassword(db.url);
  const target = `127.0.0.1:${new URL(db.url).port || '5432'}/${db.name}`;
  const dir = tempDir();
  const source = await makeSourceStore(dir);

  const moved = await tocsin(['move-store', '--from', source.file, '--to', url]);
  assert.equal(moved.code, 0, moved.stdout + moved.stderr);
  assert.equal(moved.stderr, '');
  const lines = moved.stdout.trim().split('\n');
  assert.equal(lines[0], `moved ${source.file} into PostgreSQL at ${target}, in one transaction`);
  assert.equal(lines[1], `actions: ${source.actions.length} copied (Queued 3, Processing 1, Paused 2, Finished 1, Error 1, Cancelled 1, Stopped 1)`);
  assert.equal(lines[2], `events: ${source.events.length} copied (pending ${source.events.length - 5}, failed 1, delivered 4)`);
  assert.equal(lines[3], 'queues: 2 (waiting actions added: Echo +2, Sleep +2)');
  assert.match(lines[4]!, /^2 running actions arrived without a node: the first Tocsin node to start on this database queues them again/);

  const store = await openPostgresStore({ connectionString: db.url });
  try {
    for (const a of source.actions) assert.equal((await store.getAction(a.token))?.status, a.status);
  } finally {
    await store.close();
  }

  const again = await tocsin(['move-store', '--from', dir, '--to', url]);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, '');
  assert.match(again.stderr, new RegExp(`^tocsin: ${target.replace(/[.]/g, '\\.')} already holds ${source.actions.length} actions: .*--merge.* \\[MOVE_TARGET_NOT_EMPTY\\]\\n$`));

  const merged = await tocsin(['move-store', '--from', dir, '--to', url, '--merge']);
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, new RegExp(`actions: 0 copied; ${source.actions.length} skipped \\(the target held their tokens\\)`));
  assert.match(merged.stdout, new RegExp(`events: 0 copied; ${source.events.length} skipped`));

  for (const run of [moved, again, merged]) assert.ok(!(run.stdout + run.stderr).includes(password), 'the password is never printed');
});

test('move-store: an unreachable target is named without its password; a missing option is an error', { skip }, async () => {
  const source = await makeSourceStore(tempDir());
  const down = await tocsin(['move-store', '--from', source.file, '--to', 'postgres://tocsin:s3cret-Pw@127.0.0.1:1/tocsin']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /127\.0\.0\.1:1\/tocsin cannot be reached .*\[STORE_UNAVAILABLE\]/);
  assert.doesNotMatch(down.stdout + down.stderr, /s3cret/);

  const bad = await tocsin(['move-store', '--from', source.file, '--to', 'mysql://u:s3cret-Pw@db/x']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--to must be a postgres:\/\/user:password@host:port\/database URL \[PARAM_INVALID\]/);
  assert.doesNotMatch(bad.stderr, /s3cret/);

  const missing = await tocsin(['move-store', '--from', source.file]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /required option '--to <url>' not specified/);
});

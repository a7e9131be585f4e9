/**
 * Idempotent submission over real HTTP (decisions.md "Idempotent submission", issue 18): a second
 * submission with the same IdempotencyKey to the same queue answers the first action's token with
 * `<duplicate>true</duplicate>` and queues nothing, however many race, across a kill -9 between
 * the commit and the answer, on SQLite and on PostgreSQL. The client's retries lean on it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { aciError, actionList, getXml, listStatus, queueInfo, type Json } from '../helpers/aci.js';
import { freePort, PROJECT_ROOT, spawnServer, tempDir, TOCSIN_BIN, withServer, writeConfig, type TestServer } from '../helpers/server.js';
import { databasesForThisFile, postgresSkipReason } from '../helpers/postgres.js';
import { startLossyRelay } from '../helpers/lossy-relay.js';
import { AciClient } from '../../src/cli/client.js';
import { DEFAULT_RETRY_POLICY, isRetryable, withRetries } from '../../src/client/retry-policy.js';

const pgSkip = await postgresSkipReason();
const freshDatabase = databasesForThisFile();

/** The [Actions] keys that choose each store. */
const STORES: { name: string; skip: string | undefined; keys: () => Promise<string> }[] = [
  { name: 'SQLite', skip: undefined, keys: async () => '' },
  { name: 'PostgreSQL', skip: pgSkip, keys: async () => `DatastoreType=postgres\nConnectionString=${await freshDatabase()}` },
];

const config = (storeKeys: string, dir?: string) => `
[Server]
${dir ? `DataDirectory=${dir}\nShutdownGrace=0\n` : ''}LogLevel=warn

[Actions]
EnableTestActions=true
PollInterval=50
${storeKeys}

[Echo]
Type=Command
Command=/bin/echo
Arguments=hi
`;

/** A submission over HTTP in simplejson: its responsedata. */
async function submitRaw(url: string, action: string, params: Record<string, string>): Promise<Json> {
  const res = await fetch(`${url}/?${new URLSearchParams({ action, ResponseFormat: 'simplejson', ...params })}`);
  const answer = (JSON.parse(await res.text()) as Json)['autnresponse'] as Json;
  assert.equal(answer['response'], 'SUCCESS', JSON.stringify(answer));
  return answer['responsedata'] as Json;
}

const allActions = async (s: { client: AciClient }, queue: string) => listStatus(s.client, queue);

for (const store of STORES) {
  describe(`IdempotencyKey on ${store.name}`, { skip: store.skip }, () => {
    const run = async <T>(fn: (s: TestServer) => Promise<T>) => withServer({ config: config(await store.keys()) }, fn);

    test('the same key sent 1,000 times at once over HTTP queues one action, and every answer carries its token', () =>
      run(async (s) => {
        const answers = await Promise.all(Array.from({ length: 1000 }, () => submitRaw(s.url, 'Sleep', { Seconds: '0', IdempotencyKey: 'one-of-a-thousand' })));
        const tokens = new Set(answers.map((a) => String(a['token'])));
        assert.equal(tokens.size, 1, 'one token');
        assert.equal(answers.filter((a) => a['duplicate'] === undefined).length, 1, 'one first answer, without the marker');
        assert.equal(answers.filter((a) => a['duplicate'] === 'true').length, 999, 'the others marked duplicate');
        const stored = await allActions(s, 'Sleep');
        assert.deepEqual(stored.map((r) => r['token']), [...tokens], 'one action stored');
      }));

    test('XML: a duplicate answers the first token with <duplicate>true</duplicate>; the key is not a stored parameter', () =>
      run(async (s) => {
        // A long Sleep: GetActionParameters shows waiting and running actions only.
        const first = await getXml(s.url, '/action=Sleep&Seconds=600&Label=a&IdempotencyKey=k-xml');
        const again = await getXml(s.url, '/action=Sleep&Seconds=600&Label=b&idempotencykey=k-xml');
        const [d1, d2] = [first, again].map((r) => r['responsedata'] as Json);
        assert.equal(d1!['duplicate'], undefined);
        assert.equal(d2!['token'], d1!['token']);
        assert.equal(d2!['duplicate'], 'true');
        const params = actionList(await queueInfo(s.client, 'Sleep', 'GetActionParameters', { Token: String(d1!['token']) }));
        const names = JSON.stringify(params);
        assert.match(names, /Label/);
        assert.doesNotMatch(names, /IdempotencyKey|k-xml/i, 'the key is not one of the parameters');
        assert.match(names, /"a"|>a</, 'the first submission\'s parameters are the ones kept');
      }));

    test('different queues with the same key stay independent', () =>
      run(async (s) => {
        const sleep = await submitRaw(s.url, 'Sleep', { Seconds: '0', IdempotencyKey: 'shared' });
        const echo = await submitRaw(s.url, 'Echo', { IdempotencyKey: 'shared' });
        assert.notEqual(sleep['token'], echo['token']);
        assert.equal(sleep['duplicate'], undefined);
        assert.equal(echo['duplicate'], undefined);
        assert.equal((await submitRaw(s.url, 'Echo', { IdempotencyKey: 'shared' }))['token'], echo['token']);
        assert.equal((await submitRaw(s.url, 'sleep', { Seconds: '0', IdempotencyKey: 'shared' }))['token'], sleep['token'], 'action names ignore case: one queue');
        assert.equal((await allActions(s, 'Sleep')).length, 1);
        assert.equal((await allActions(s, 'Echo')).length, 1);
      }));

    test('an empty or over-long key is refused and stores nothing', () =>
      run(async (s) => {
        for (const key of ['', 'k'.repeat(201)]) {
          const error = await aciError(s.client.call('Sleep', { Seconds: '0', IdempotencyKey: key }));
          assert.equal(error.errorcode, 'ERRORPARAMINVALID');
        }
        assert.equal((await allActions(s, 'Sleep')).length, 0);
      }));

    test('kill -9 right after the answer is written, before the client reads it: a restart on the same store answers the same key with the first token', async () => {
      const dir = tempDir();
      const file = writeConfig(dir, config(await store.keys(), dir));
      const port = await freePort();
      let server = await spawnServer(file, port);
      const relay = await startLossyRelay(port, ['swallow'], () => server.child.kill('SIGKILL'));
      try {
        const lost = new AciClient(relay.url).submit('Sleep', { Seconds: '0' }, { idempotencyKey: 'across-a-crash', retry: { attempts: 1 } });
        await assert.rejects(lost, { code: 'REQUEST_MALFORMED' }, 'the client got no answer');
        assert.equal((await server.exited).signal, 'SIGKILL');
        const swallowed = await relay.swallowed[0]!;
        const firstToken = /"token":"([^"]+)"/.exec(swallowed)?.[1];
        assert.ok(firstToken, `the server had answered with a token: ${swallowed}`);

        server = await spawnServer(file, port);
        const again = await server.client.submit('Sleep', { Seconds: '0' }, { idempotencyKey: 'across-a-crash' });
        assert.deepEqual([again.token, again.duplicate], [firstToken, true]);
        assert.deepEqual((await allActions(server, 'Sleep')).map((r) => r['token']), [firstToken], 'one action');
      } finally {
        await relay.close();
        await server.kill9();
      }
    });
  });
}

describe('the client sends again with the same key', () => {
  const run = <T>(fn: (s: TestServer) => Promise<T>) => withServer({ config: config('') }, fn);

  test('an answer lost on a broken connection: the retry gets the first token, marked duplicate; one action', () =>
    run(async (s) => {
      const relay = await startLossyRelay(Number(new URL(s.url).port), ['swallow']);
      try {
        const submission = await new AciClient(relay.url).submit('Sleep', { Seconds: '0' }, { retry: { firstDelayMs: 10 } });
        assert.equal(submission.duplicate, true);
        assert.match(await relay.swallowed[0]!, new RegExp(submission.token.replace(/[+/=]/g, '\\$&')), 'the token of the lost answer');
        assert.deepEqual((await allActions(s, 'Sleep')).map((r) => r['token']), [submission.token]);
      } finally {
        await relay.close();
      }
    }));

  test('a status read whose answer is lost on a broken connection is read again (a read changes nothing)', () =>
    run(async (s) => {
      const token = await new AciClient(s.url).send('Sleep', { Seconds: '0' });
      const relay = await startLossyRelay(Number(new URL(s.url).port), ['swallow']);
      try {
        const record = await new AciClient(relay.url).status(token);
        assert.equal(record['token'], token);
        assert.equal(relay.connections(), 2, 'the first answer was lost, the second read answered');
      } finally {
        await relay.close();
      }
    }));

  test('an answer that does not come in time: the retry gets the first token; one action', () =>
    run(async (s) => {
      const relay = await startLossyRelay(Number(new URL(s.url).port), ['hold']);
      try {
        const submission = await new AciClient(relay.url).submit('Sleep', { Seconds: '0' }, { retry: { timeoutMs: 1000, firstDelayMs: 10 } });
        assert.ok(relay.connections() >= 2, 'sent again after the time-out');
        assert.equal(submission.duplicate, true);
        assert.deepEqual((await allActions(s, 'Sleep')).map((r) => r['token']), [submission.token]);
      } finally {
        await relay.close();
      }
    }));

  test('a refused connection is sent again, up to the policy\'s attempts; an ACI error is not', async () => {
    const closed = new AciClient(`http://127.0.0.1:${await freePort()}`);
    let sends = 0;
    const refused = await withRetries({ ...DEFAULT_RETRY_POLICY, attempts: 3, firstDelayMs: 1 }, () => (sends++, closed.call('Sleep'))).catch((e: unknown) => e);
    assert.equal(sends, 3);
    assert.ok(isRetryable(refused), 'ECONNREFUSED is retryable');
    await run(async (s) => {
      let aciSends = 0;
      const error = await withRetries(DEFAULT_RETRY_POLICY, () => (aciSends++, s.client.call('NoSuchAction'))).catch((e: unknown) => e);
      assert.equal(aciSends, 1, 'an answer is never sent again');
      assert.equal(isRetryable(error), false);
    });
  });

  test('every submission gets a key of its own by default: two sends are two actions', () =>
    run(async (s) => {
      const [a, b] = [await s.client.submit('Sleep', { Seconds: '0' }), await s.client.submit('Sleep', { Seconds: '0' })];
      assert.notEqual(a.idempotencyKey, b.idempotencyKey);
      assert.match(a.idempotencyKey, /^[0-9a-f-]{36}$/);
      assert.notEqual(a.token, b.token);
      assert.equal((await allActions(s, 'Sleep')).length, 2);
    }));

  test('tocsin send retries a lost answer with its key and prints the one token', () =>
    run(async (s) => {
      const relay = await startLossyRelay(Number(new URL(s.url).port), ['swallow']);
      try {
        // Asynchronously: the server answers from this process.
        const child = await promisify(execFile)(process.execPath, [TOCSIN_BIN, 'send', 'Sleep', 'Seconds=0', '--server', relay.url], { cwd: PROJECT_ROOT, encoding: 'utf8' });
        const token = child.stdout.trim();
        assert.match(child.stderr, /duplicate/);
        assert.deepEqual((await allActions(s, 'Sleep')).map((r) => r['token']), [token]);
        assert.equal(relay.connections(), 2);
      } finally {
        await relay.close();
      }
    }));
});

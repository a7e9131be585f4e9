/**
 * The exported client (decisions.md "Client"): wait() follows an action to its end with back-off,
 * typed errors per ACI error family carry their code, and createEventReceiver() takes an
 * HttpHandler's signed events, hands them over typed and drops duplicates by event id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  AciAccessDeniedError,
  AciClient,
  AciClientError,
  AciNotFoundError,
  AciRequestError,
  AciStateError,
  AciUnavailableError,
  createEventReceiver,
  WaitTimeoutError,
  type TocsinEvent,
} from '../../src/index.js';
import { signatureHeaders, decodeSigningSecret } from '../../src/events/handlers/http/signing.js';
import { barLine, progressView } from '../../src/cli/progress.js';
import { startTestServer, waitFor, withServer } from '../helpers/server.js';
import { waitNoPending } from '../helpers/events-server.js';

const CONFIG = '[Actions]\nEnableTestActions=true\nMaximumThreads=2\nPollInterval=50\n';

test('wait() resolves with the final record, telling each change; Error and Stopped end it too', () =>
  withServer({ config: CONFIG }, async (s) => {
    const client = new AciClient(s.url);
    const seen: string[] = [];
    const token = await client.send('Sleep', { Seconds: '0.3' });
    const done = await client.wait(token, { onUpdate: (r) => seen.push(JSON.stringify([r.status, r.progress])) });
    assert.equal(done.status, 'Finished');
    assert.equal(done.token, token);
    assert.match(seen.at(-1)!, /^\["Finished"/);
    assert.ok(seen.some((line) => line.startsWith('["Processing"')), seen.join(' '));
    assert.ok(seen.every((line, i) => i === 0 || line !== seen[i - 1]), `only changes are told: ${seen.join(' ')}`);

    const failed = await client.wait(await client.send('Sleep', { Seconds: '0', Fail: 'true' }));
    assert.equal(failed.status, 'Error');
    assert.match(String(failed.error), /Fail=true/);
  }));

test('wait() gives up after timeoutMs with WAIT_TIMEOUT and the last record, and stops on an abort signal', () =>
  withServer({ config: CONFIG }, async (s) => {
    const client = new AciClient(s.url);
    const token = await client.send('Sleep', { Seconds: '30' });
    await assert.rejects(client.wait(token, { timeoutMs: 150 }), (e: unknown) => {
      assert.ok(e instanceof WaitTimeoutError);
      assert.equal(e.code, 'WAIT_TIMEOUT');
      assert.ok(['Queued', 'Processing'].includes(e.record.status));
      return true;
    });
    const controller = new AbortController();
    const waiting = client.wait(token, { signal: controller.signal, onUpdate: () => controller.abort(new Error('enough')) });
    await assert.rejects(waiting, /enough/);
    await client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Stop', Token: token });
    assert.equal((await client.wait(token)).status, 'Stopped');
  }));

test('ACI errors are thrown as one class per family, each carrying its errorcode', async () => {
  const s = await startTestServer({ config: `${CONFIG}\n[Sleep]\nMaximumQueueSize=1\nMaximumThreads=1\n` });
  try {
    const client = new AciClient(s.url);
    const expectError = async (call: Promise<unknown>, Family: new (...a: never[]) => AciClientError, code: string, retryable = false) => {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof Family, `${String(e)} is a ${Family.name}`);
        assert.ok(e instanceof AciClientError);
        assert.equal(e.code, code);
        assert.equal(e.info.errorcode, code);
        assert.equal(e.retryable, retryable);
        return true;
      });
    };
    await expectError(client.call('NoSuchAction'), AciRequestError, 'ERRORNOTIMPLEMENTED');
    const unknown = Buffer.from(`127.0.0.1:${s.server.port}:SLEEP:${Date.now()}-${'0'.repeat(24)}`).toString('base64');
    await expectError(client.status(unknown), AciNotFoundError, 'ERRORTOKENNOTFOUND');
    const running = await client.send('Sleep', { Seconds: '30' });
    await waitFor(async () => (await client.status(running)).status === 'Processing');
    await expectError(client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Cancel', Token: running }), AciStateError, 'ERRORINVALIDSTATE');
    await client.send('Sleep', { Seconds: '0' });
    await expectError(client.send('Sleep', { Seconds: '0' }), AciUnavailableError, 'ERRORQUEUEFULL', true);
  } finally {
    await s.close();
  }
  const roles = await startTestServer({ config: `${CONFIG}\n[AuthorizationRoles]\n0=Nobody\n[Nobody]\nStandardRoles=Query\nClients=10.9.9.9\n` });
  try {
    await assert.rejects(new AciClient(roles.url).call('GetStatus'), (e: unknown) => e instanceof AciAccessDeniedError && e.code === 'ERRORACCESSDENIED');
  } finally {
    await roles.close();
  }
});

const SECRET = 'whsec_' + Buffer.from('a shared secret for the receiver test').toString('base64');

test('createEventReceiver() takes signed HttpHandler events, typed, and a failed handling is delivered again', async () => {
  const events: TocsinEvent[] = [];
  let failFirst = true;
  const receiver = createEventReceiver({
    secret: SECRET,
    onEvent: (event) => {
      if (failFirst && event.type === 'OnFinish') {
        failFirst = false;
        throw new Error('not ready yet');
      }
      events.push(event);
    },
  });
  const listening = await receiver.listen(0);
  const s = await startTestServer({
    config: `${CONFIG}\nOnStart=Hook\nOnFinish=Hook\nOnQueueEvent=Hook\n[Hook]\nLibraryName=HttpHandler\nURL=${listening.url}\nSigningSecret=${SECRET}\nRetries=2\nRetryInterval=10ms\n`,
  });
  try {
    const token = await s.client.send('Sleep', { Seconds: '0' });
    await s.client.wait(token);
    await waitNoPending(s.client);
    const mine = events.filter((e) => e.type !== 'OnQueueEvent' && e.action.token === token);
    assert.deepEqual(mine.map((e) => e.type), ['OnStart', 'OnFinish']);
    const finish = mine[1]!;
    assert.ok(finish.type === 'OnFinish' && finish.action.status === 'Finished');
    assert.match(finish.id, /\S/);
    assert.match(finish.server, /^127\.0\.0\.1:\d+$/);
    assert.match(finish.document, /^<event><type>OnFinish<\/type>/);
  } finally {
    await s.close();
    await listening.close();
  }
});

test('createEventReceiver() drops a duplicate by event id and refuses a bad signature with 401', async () => {
  const handled: string[] = [];
  const receiver = createEventReceiver({ secret: SECRET, onEvent: (e) => void handled.push(e.id) });
  const listening = await receiver.listen(0);
  try {
    const document = '<event><type>OnQueueEvent</type><id>ev-1</id><time>2026-Dec-06 03:00:00</time><server>127.0.0.1:9000</server><queueevent><queuename>Sleep</queuename><queueEventType>QueueFilling</queueEventType><maxQueueSize>10</maxQueueSize><queueSize>8</queueSize></queueevent></event>';
    const post = (headers: Record<string, string>) => fetch(listening.url, { method: 'POST', body: document, headers: { 'content-type': 'application/xml; charset=utf-8', ...headers } });
    const signed = signatureHeaders(decodeSigningSecret(SECRET)!, 'ev-1', document);
    assert.equal((await post(signed)).status, 204);
    assert.equal((await post(signed)).status, 204, 'a duplicate is answered as delivered');
    assert.deepEqual(handled, ['ev-1']);
    assert.equal(receiver.duplicates, 1);
    const forged = signatureHeaders(decodeSigningSecret('whsec_' + Buffer.from('another secret').toString('base64'))!, 'ev-2', document);
    assert.equal((await post(forged)).status, 401);
    assert.equal((await post({})).status, 401, 'unsigned');
    const notEvent = '<autnresponse><response>SUCCESS</response></autnresponse>';
    const bad = await fetch(listening.url, { method: 'POST', body: notEvent, headers: signatureHeaders(decodeSigningSecret(SECRET)!, 'x', notEvent) });
    assert.equal(bad.status, 400, 'signed, but not an event document');
    assert.deepEqual(handled, ['ev-1']);
  } finally {
    await listening.close();
  }
});

test('tocsin wait draws a bar in place on a terminal, plain lines elsewhere', () => {
  const record = { token: 't', status: 'Processing' as const, progress: { percent: '40', stage: 'copying' } };
  assert.equal(barLine(record, 200), '[##########--------------]  40%  Processing  copying');
  assert.equal(barLine(record, 20).length, 19, 'never wider than the terminal');
  const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 200 }) as unknown as NodeJS.WriteStream;
  let written = '';
  (tty as unknown as PassThrough).setEncoding('utf8').on('data', (t: string) => (written += t));
  const view = progressView(tty);
  view.update(record);
  view.update({ token: 't', status: 'Finished' });
  view.done();
  assert.equal(written, '\r[##########--------------]  40%  Processing  copying\x1b[K\r[########################] 100%  Finished\x1b[K\n');
  const pipe = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
  let plain = '';
  (pipe as unknown as PassThrough).setEncoding('utf8').on('data', (t: string) => (plain += t));
  const lines = progressView(pipe);
  lines.update(record);
  lines.update({ token: 't', status: 'Finished' });
  assert.equal(plain, 'Processing 40% (copying)\nFinished\n');
});

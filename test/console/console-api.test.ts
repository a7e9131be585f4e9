/**
 * The web console's HTTP side without a browser: who may use it (403 and a log line otherwise),
 * the page and its assets, paging by key through actions that share one queue time, the live
 * feed's snapshots following the work, and commands answering with the ACI's error codes.
 * Real server, real SQLite, real HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createToken } from '../../src/queue/token.js';
import type { NewAction } from '../../src/store/store.js';
import type { ActionSummary } from '../../src/console/views.js';
import type { Snapshot } from '../../src/console/snapshot.js';
import { queueInfo } from '../helpers/aci.js';
import { waitFor, withServer, type TestServer } from '../helpers/server.js';

const SLEEP = `[Actions]
EnableTestActions=true
PollInterval=50
MaximumQueueSize=1000
`;

async function getJson<T>(s: TestServer, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${s.url}/console/api/${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

function post(s: TestServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${s.url}/console/api/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

test('a client without the admin role gets 403 from every console path, and each refusal is logged', async () => {
  const config = `${SLEEP}
[AuthorizationRoles]
0=QueryOnly

[QueryOnly]
StandardRoles=query,index,servicestatus
Clients=127.0.0.1
`;
  await withServer({ config }, async (s) => {
    for (const path of ['/console', '/console/app.js', '/console/api/actions', '/console/api/stream']) {
      const res = await fetch(s.url + path);
      assert.equal(res.status, 403, path);
      await res.text();
    }
    const refused = await post(s, 'queue', { queue: 'Sleep', action: 'Pause' });
    assert.equal(refused.status, 403);
    await refused.text();
    assert.equal(await s.server.store.isQueuePaused('Sleep'), false, 'the refused Pause changed nothing');
    const lines = s.log.lines.filter((l) => l.includes('console: access refused')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 5);
    assert.deepEqual(lines.map((l) => l['path']), ['/console', '/console/app.js', '/console/api/actions', '/console/api/stream', '/console/api/queue']);
    assert.ok(lines.every((l) => l['client'] === '127.0.0.1' && l['level'] === 'warn'));
    // The ACI itself still answers this client as before.
    await s.client.call('GetVersion');
  });
});

test('a role that lists Actions=Console may use the console without the whole admin role', async () => {
  const config = `${SLEEP}
[AuthorizationRoles]
0=Operators

[Operators]
StandardRoles=query
Actions=Console
Clients=127.0.0.1
`;
  await withServer({ config }, async (s) => {
    const res = await fetch(`${s.url}/console`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<script type="module" src="\/console\/app.js">/);
  });
});

test('the page, its script and style sheet are served from the package, with a content security policy', async () => {
  await withServer({ config: SLEEP }, async (s) => {
    const page = await fetch(`${s.url}/console`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    await page.text();
    const script = await fetch(`${s.url}/console/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    const code = await script.text();
    assert.ok(code.length > 10_000, 'the bundle holds Preact and uPlot');
    assert.doesNotMatch(code, /https?:\/\/(cdn|unpkg|esm\.sh)/, 'nothing is fetched from elsewhere');
    const etag = script.headers.get('etag')!;
    const again = await fetch(`${s.url}/console/app.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const css = await fetch(`${s.url}/console/app.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(await css.text(), /\.uplot/);
    const missing = await fetch(`${s.url}/console/nothing.js`);
    assert.equal(missing.status, 404);
    await missing.text();
  });
});

test('the action list pages by key: every action once, newest first, across pages that split actions queued in the same millisecond', async () => {
  await withServer({ config: SLEEP }, async (s) => {
    await queueInfo(s.client, 'Sleep', 'Pause');
    // 60 actions with one queue time (one group commit), then 40 more over the ACI.
    const now = Date.now();
    const same: NewAction[] = Array.from({ length: 60 }, () => ({
      token: createToken('127.0.0.1', s.server.port, 'Sleep', now),
      queue: 'Sleep',
      priority: 0,
      params: [['Seconds', '0']],
      queuedAt: now,
      maxQueueSize: 1000,
    }));
    await s.server.store.commit({ now, node: s.server.node, enqueues: same, settlements: [], reports: [], progress: [] });
    for (let i = 0; i < 40; i++) await s.client.send('Sleep', { Seconds: '0' });

    const seen: ActionSummary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await getJson<{ actions: ActionSummary[]; next?: string }>(s, `actions?QueueName=Sleep&MaxResults=25${cursor ? `&Cursor=${cursor}` : ''}`);
      assert.equal(status, 200);
      assert.ok(body.actions.length <= 25);
      seen.push(...body.actions);
      cursor = body.next;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 4);
    assert.equal(seen.length, 100);
    assert.equal(new Set(seen.map((a) => a.token)).size, 100, 'no action twice');
    for (const t of same) assert.ok(seen.some((a) => a.token === t.token), 'every same-millisecond action is listed');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.queuedAt >= seen[i]!.queuedAt, 'newest first');

    // Filters are QueueInfo's: State, and its errors.
    const queued = await getJson<{ actions: ActionSummary[] }>(s, 'actions?State=queued&MaxResults=500');
    assert.equal(queued.body.actions.length, 100);
    const none = await getJson<{ actions: ActionSummary[] }>(s, 'actions?State=Finished');
    assert.deepEqual(none.body.actions, []);
    const bad = await getJson<{ error: { code: string; aciCode: string } }>(s, 'actions?State=sleepy');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.aciCode, 'ERRORPARAMINVALID');
    const badCursor = await getJson<{ error: { code: string } }>(s, 'actions?Cursor=nonsense');
    assert.equal(badCursor.status, 400);
  });
});

/** Reads Server-Sent Events from the console's stream; `snapshots` grows as they arrive. */
async function openStream(s: TestServer): Promise<{ snapshots: Snapshot[]; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${s.url}/console/api/stream`, { signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const snapshots: Snapshot[] = [];
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^event: snapshot\ndata: (.*)$/s.exec(message);
        if (data) snapshots.push(JSON.parse(data[1]!) as Snapshot);
      }
    }
  })().catch(() => undefined);
  return { snapshots, close: () => controller.abort() };
}

test('the live feed sends a snapshot at once and new ones as actions finish and the queue is paused from the console', async () => {
  await withServer({ config: SLEEP }, async (s) => {
    const stream = await openStream(s);
    try {
      const first = await waitFor(() => stream.snapshots[0]);
      const sleep = first.queues.find((q) => q.name === 'Sleep')!;
      assert.equal(sleep.finished, 0);
      assert.equal(sleep.maxQueueSize, 1000);
      await s.client.send('Sleep', { Seconds: '0' });
      await s.client.send('Sleep', { Seconds: '0' });
      const done = await waitFor(() => stream.snapshots.find((x) => x.queues.find((q) => q.name === 'Sleep')!.finished === 2));
      const series = done.throughput.queues['Sleep']!;
      assert.equal(series.finished.reduce((a, b) => a + b, 0), 2, 'the throughput window counted both');

      const res = await post(s, 'queue', { queue: 'Sleep', action: 'Pause' });
      assert.equal(res.status, 200);
      await res.json();
      await waitFor(() => stream.snapshots.find((x) => x.queues.find((q) => q.name === 'Sleep')!.paused));
      assert.equal(await s.server.store.isQueuePaused('Sleep'), true);
      assert.ok(s.log.lines.some((l) => l.includes('console: command') && l.includes('"action":"Pause"')), 'the command is logged');
    } finally {
      stream.close();
    }
  });
});

test('console commands run the QueueInfo and EventInfo code and answer with their error codes; commands from another origin are refused', async () => {
  await withServer({ config: SLEEP }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0' });
    await waitFor(async () => (await s.server.store.getAction(token))?.status === 'Finished');

    const cancel = await post(s, 'queue', { queue: 'Sleep', action: 'Cancel', token });
    assert.equal(cancel.status, 409);
    assert.equal(((await cancel.json()) as { error: { aciCode: string } }).error.aciCode, 'ERRORINVALIDSTATE');

    const unknown = await post(s, 'queue', { queue: 'Sleep', action: 'Duplicate', token });
    assert.equal(unknown.status, 400);
    await unknown.text();

    const noQueue = await post(s, 'queue', { queue: 'Nope', action: 'Pause' });
    assert.equal(noQueue.status, 404);
    assert.equal(((await noQueue.json()) as { error: { aciCode: string } }).error.aciCode, 'ERRORQUEUENOTFOUND');

    const noHandler = await post(s, 'redeliver', { handler: 'Nobody' });
    assert.equal(noHandler.status, 404);
    assert.equal(((await noHandler.json()) as { error: { aciCode: string } }).error.aciCode, 'ERRORHANDLERNOTFOUND');

    const detail = await getJson<{ error: { aciCode: string } }>(s, `action?Token=${encodeURIComponent(token.slice(0, -8) + 'AAAAAAA=')}`);
    assert.equal(detail.status, 404);
    assert.equal(detail.body.error.aciCode, 'ERRORTOKENNOTFOUND');

    // A cross-site form cannot send JSON, and a page elsewhere is named by its Origin.
    const form = await fetch(`${s.url}/console/api/queue`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'queue=Sleep&action=Pause' });
    assert.equal(form.status, 403);
    await form.text();
    const elsewhere = await post(s, 'queue', { queue: 'Sleep', action: 'Pause' }, { Origin: 'http://attacker.example' });
    assert.equal(elsewhere.status, 403);
    await elsewhere.text();
    assert.equal(await s.server.store.isQueuePaused('Sleep'), false, 'neither refused command paused the queue');
  });
});

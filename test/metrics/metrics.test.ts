/**
 * `/metrics` (decisions.md "Metrics"): scraped over real HTTP, the counters move with the work
 * (submissions, runs and their ends, deliveries with a retry), gauges read the store, Node's
 * process metrics are there, and a client without the admin role (or Actions=Metrics) gets 403.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { waitFor } from '../helpers/server.js';
import { waitForStatus } from '../helpers/aci.js';
import { failTimes, recordingLibrary, startEventServer, waitNoPending } from '../helpers/events-server.js';

const CONFIG = `
[Actions]
EnableTestActions=true
MaximumThreads=2
OnStart=Hook
OnFinish=Hook
OnError=Hook

[Hook]
LibraryName=RecordingHandler
Retries=2
RetryInterval=10ms
`;

/** Parses Prometheus text into `name{labels}` → value (labels as written, in order). */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    values.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return values;
}

async function scrape(url: string): Promise<{ status: number; type: string; text: string; values: Map<string, number> }> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, values: parseMetrics(text) };
}

const value = (values: Map<string, number>, key: string) => values.get(key) ?? 0;

test('counters, histograms and gauges at /metrics move with the work; Node process metrics are included', async () => {
  const lib = recordingLibrary();
  const s = await startEventServer({ config: CONFIG, handlers: [lib.factory] });
  try {
    const before = await scrape(s.url);
    assert.equal(before.status, 200);
    assert.match(before.type, /^text\/plain; version=0\.0\.4/);
    assert.match(before.text, /^process_cpu_user_seconds_total /m, 'default process metrics');
    assert.match(before.text, /^nodejs_eventloop_lag_seconds /m);
    assert.equal(value(before.values, 'tocsin_queue_max_threads{queue="Sleep"}'), 2);
    assert.equal(value(before.values, 'tocsin_queue_max_size{queue="Sleep"}'), 10000);

    // The first OnStart delivery fails once (a retry), everything else is delivered at once.
    lib.setBehaviour('Hook', failTimes(1));
    const ok = [await s.client.send('Sleep', { Seconds: '0' }), await s.client.send('Sleep', { Seconds: '0' })];
    const failed = await s.client.send('Sleep', { Seconds: '0', Fail: 'true' });
    for (const token of ok) await waitForStatus(s.client, token, 'Finished');
    await waitForStatus(s.client, failed, 'Error');
    await waitNoPending(s.client);

    const after = await scrape(s.url);
    const v = (key: string) => value(after.values, key);
    assert.equal(v('tocsin_actions_submitted_total{queue="Sleep"}'), 3);
    assert.equal(v('tocsin_actions_started_total{queue="Sleep"}'), 3);
    assert.equal(v('tocsin_actions_finished_total{queue="Sleep",status="Finished"}'), 2);
    assert.equal(v('tocsin_actions_finished_total{queue="Sleep",status="Error"}'), 1);
    assert.equal(v('tocsin_action_duration_seconds_count{queue="Sleep",status="Finished"}'), 2);
    assert.equal(v('tocsin_action_queue_seconds_count{queue="Sleep"}'), 3);
    // 3 OnStart + 2 OnFinish + 1 OnError delivered; one attempt failed and was retried.
    assert.equal(v('tocsin_event_delivery_attempts_total{handler="Hook",result="delivered"}'), 6);
    assert.equal(v('tocsin_event_delivery_attempts_total{handler="Hook",result="retry"}'), 1);
    assert.equal(v('tocsin_event_retries_total{handler="Hook"}'), 1);
    assert.equal(v('tocsin_event_delivery_latency_seconds_count{handler="Hook"}'), 6);
    assert.ok(v('tocsin_store_commit_seconds_count') >= 1, 'group commits are timed');
    // Gauges read from the store at scrape time.
    assert.equal(v('tocsin_events{handler="Hook",state="delivered"}'), 6);
    assert.equal(v('tocsin_actions{queue="Sleep",status="Finished"}'), 2);
    assert.equal(v('tocsin_actions{queue="Sleep",status="Error"}'), 1);
    assert.equal(v('tocsin_queue_depth{queue="Sleep"}'), 0);
    assert.equal(v('tocsin_queue_running{queue="Sleep"}'), 0);

    // A paused queue holds new work: depth and the paused flag follow the store.
    await s.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Pause' });
    const waiting = await s.client.send('Sleep', { Seconds: '0' });
    const paused = await scrape(s.url);
    assert.equal(value(paused.values, 'tocsin_queue_paused{queue="Sleep"}'), 1);
    assert.equal(value(paused.values, 'tocsin_queue_depth{queue="Sleep"}'), 1);
    assert.equal(value(paused.values, 'tocsin_actions_submitted_total{queue="Sleep"}'), 4);

    // A cancellation ends an action without a run: counted as Cancelled, with no duration.
    await s.client.call('QueueInfo', { QueueName: 'Sleep', QueueAction: 'Cancel', Token: waiting });
    const cancelled = await scrape(s.url);
    assert.equal(value(cancelled.values, 'tocsin_actions_finished_total{queue="Sleep",status="Cancelled"}'), 1);
    assert.equal(value(cancelled.values, 'tocsin_action_duration_seconds_count{queue="Sleep",status="Cancelled"}'), 0);
    assert.equal(value(cancelled.values, 'tocsin_actions{queue="Sleep",status="Cancelled"}'), 1);
    assert.equal(value(cancelled.values, 'tocsin_queue_depth{queue="Sleep"}'), 0);
  } finally {
    await s.close();
  }
});

/** GET /metrics with the socket bound to `localAddress` (another loopback address than 127.0.0.1). */
function getFrom(url: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a client without the admin role gets 403 and a log line; a role with Actions=Metrics may scrape', async () => {
  const s = await startEventServer({
    config: `${CONFIG}
[AuthorizationRoles]
0=Admins
1=Scrapers

[Admins]
StandardRoles=Admin
Clients=127.0.0.1

[Scrapers]
Actions=Metrics
Clients=127.0.0.2
`,
    handlers: [recordingLibrary().factory],
  });
  try {
    assert.equal(await getFrom(s.url, '127.0.0.1'), 200, 'admin');
    assert.equal(await getFrom(s.url, '127.0.0.2'), 200, 'Actions=Metrics');
    assert.equal(await getFrom(s.url, '127.0.0.3'), 403, 'neither');
    const refused = await waitFor(() => s.log.lines.find((l) => l.includes('metrics: access refused')));
    assert.equal((JSON.parse(refused) as Record<string, unknown>)['client'], '127.0.0.3');
  } finally {
    await s.close();
  }
});

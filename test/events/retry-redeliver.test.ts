/**
 * A failing handler (decisions.md "Events", "Handlers"): retried `Retries` more times
 * `RetryInterval` apart; delivered once the receiver recovers; kept as failed (never dropped) when
 * it does not, listed by EventInfo State=failed, and delivered by EventInfo EventAction=Redeliver
 * (all of a handler's, or one by Id) once the receiver is healthy. Real HTTP receivers on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aciError } from '../helpers/aci.js';
import { waitFor } from '../helpers/server.js';
import { startReceiver } from '../helpers/events-receiver.js';
import { eventInfo, parseEventDocument, withEventServer } from '../helpers/events-server.js';

function config(url: string, retries: number): string {
  return `[Actions]
EnableTestActions=true
PollInterval=50
OnFinish=Hook

[Hook]
LibraryName=HttpHandler
URL=${url}
Retries=${retries}
RetryInterval=100ms
Timeout=5
`;
}

test('an HttpHandler whose receiver answers 503 twice then 200 delivers the event on the third attempt; EventInfo counts all 3 attempts, the successful one too', async () => {
  const receiver = await startReceiver((n) => (n <= 2 ? 503 : 200));
  try {
    await withEventServer({ config: config(receiver.url, 3) }, async (s) => {
      const token = await s.client.send('Sleep', { Seconds: '0' });
      await waitFor(() => receiver.accepted().length >= 1);
      assert.deepEqual(receiver.requests.map((r) => r.status), [503, 503, 200]);
      const ids = new Set(receiver.requests.map((r) => r.headers['x-tocsin-event-id']));
      assert.equal(ids.size, 1, 'every attempt carries the same event id');
      const body = receiver.accepted()[0]!;
      assert.equal(body.method, 'POST');
      assert.match(String(body.headers['content-type']), /^application\/xml; charset=utf-8$/i);
      assert.equal(body.headers['x-tocsin-event-type'], 'OnFinish');
      const doc = parseEventDocument(body.body);
      assert.equal(doc['id'], [...ids][0]);
      assert.equal((doc['action'] as Record<string, unknown>)['token'], token);
      const [row] = (await waitFor(async () => {
        const info = await eventInfo(s.client, { Token: token });
        return info.events[0]?.state === 'delivered' ? info : undefined;
      })).events;
      // store.ts EventRow.attempts: every attempt made, the one that succeeded included.
      assert.equal(row!.attempts, '3', 'EventInfo counts the two failed attempts and the successful one');
      assert.equal(row!.last_error, undefined, 'no error left on a delivered event');
    });
  } finally {
    await receiver.close();
  }
});

test('an event whose handler keeps failing is kept as failed after Retries, listed by State=failed, and delivered by Redeliver once the receiver is healthy', async () => {
  let healthy = false;
  const receiver = await startReceiver(() => (healthy ? 200 : 503));
  try {
    await withEventServer({ config: config(receiver.url, 2) }, async (s) => {
      const token = await s.client.send('Sleep', { Seconds: '0' });
      const failed = await waitFor(async () => {
        const info = await eventInfo(s.client, { State: 'failed' });
        return info.events.length === 1 ? info : undefined;
      });
      const row = failed.events[0]!;
      assert.equal(row.token, token);
      assert.equal(row.handler, 'Hook');
      assert.equal(row.type, 'OnFinish');
      assert.equal(row.attempts, '3', 'the first attempt and Retries=2 more');
      assert.match(String(row.last_error), /503/);
      assert.equal(receiver.requests.length, 3);
      assert.deepEqual(failed.handlers.get('Hook'), { pending: 0, delivered: 0, failed: 1 });

      healthy = true;
      const answer = await s.client.call('EventInfo', { EventAction: 'Redeliver', Handler: 'hook' });
      assert.equal(answer['handler'], 'Hook');
      assert.equal(answer['redelivered'], '1');
      await waitFor(() => receiver.accepted().length === 1);
      const doc = parseEventDocument(receiver.accepted()[0]!.body);
      assert.equal(doc['id'], row.id, 'redelivered with the same event id');
      const after = await waitFor(async () => {
        const info = await eventInfo(s.client, { Token: token });
        return info.events[0]?.state === 'delivered' ? info : undefined;
      });
      assert.deepEqual(after.counts, { pending: 0, delivered: 1, failed: 0 });
    });
  } finally {
    await receiver.close();
  }
});

test('EventAction=Redeliver&Id=X redelivers only that failed event; the others stay failed until redelivered', async () => {
  let healthy = false;
  const receiver = await startReceiver(() => (healthy ? 200 : 500));
  try {
    await withEventServer({ config: config(receiver.url, 0) }, async (s) => {
      const tokens = [await s.client.send('Sleep', { Seconds: '0' }), await s.client.send('Sleep', { Seconds: '0' }), await s.client.send('Sleep', { Seconds: '0' })];
      const failed = await waitFor(async () => {
        const info = await eventInfo(s.client, { State: 'failed', 'Sort-Order': 'ascending' });
        return info.events.length === 3 ? info.events : undefined;
      });
      assert.deepEqual(failed.map((e) => e.token), tokens, 'Retries=0: each failed after one attempt');
      assert.ok(failed.every((e) => e.attempts === '1'));
      healthy = true;
      const chosen = failed[1]!;
      const one = await s.client.call('EventInfo', { EventAction: 'Redeliver', Handler: 'Hook', Id: chosen.id });
      assert.equal(one['redelivered'], '1');
      await waitFor(async () => (await eventInfo(s.client, { Id: chosen.id })).events[0]?.state === 'delivered');
      assert.deepEqual(receiver.accepted().map((r) => parseEventDocument(r.body)['id']), [chosen.id]);
      const still = await eventInfo(s.client, { State: 'failed' });
      assert.deepEqual(still.events.map((e) => e.id).sort(), [failed[0]!.id, failed[2]!.id].sort());

      // Redelivering an Id that is not failed (any more) is a clear error.
      const again = await aciError(s.client.call('EventInfo', { EventAction: 'Redeliver', Handler: 'Hook', Id: chosen.id }));
      assert.match(again.errordescription, /no failed event/);
      const unknown = await aciError(s.client.call('EventInfo', { EventAction: 'Redeliver', Handler: 'Nobody' }));
      assert.match(unknown.errordescription, /not a configured handler/);

      const rest = await s.client.call('EventInfo', { EventAction: 'Redeliver', Handler: 'Hook' });
      assert.equal(rest['redelivered'], '2');
      await waitFor(async () => (await eventInfo(s.client, { MaxResults: '0' })).counts.delivered === 3);
      assert.equal(receiver.accepted().length, 3);
    });
  } finally {
    await receiver.close();
  }
});

test('a 4xx answer other than 408/429 fails the event at once, without using the Retries', async () => {
  const receiver = await startReceiver(() => 404);
  try {
    await withEventServer({ config: config(receiver.url, 3) }, async (s) => {
      const token = await s.client.send('Sleep', { Seconds: '0' });
      const [row] = (await waitFor(async () => {
        const info = await eventInfo(s.client, { Token: token });
        return info.events[0]?.state === 'failed' ? info : undefined;
      })).events;
      assert.equal(row!.attempts, '1');
      assert.match(String(row!.last_error), /404/);
      assert.equal(receiver.requests.length, 1);
    });
  } finally {
    await receiver.close();
  }
});

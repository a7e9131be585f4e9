/**
 * Which handler gets which event (decisions.md "Events"): Cancel of a queued action fires nothing;
 * `[ActionName]` replaces `[Actions]`; a comma list sends the same event (same id) to each; events
 * of one action reach a handler in order, however slow it is and however many actions run at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueInfo } from '../helpers/aci.js';
import { waitFor } from '../helpers/server.js';
import { eventInfo, recordingLibrary, waitNoPending, withEventServer, type Json } from '../helpers/events-server.js';
import type { AsyncActionDefinition } from '../../src/queue/action-definition.js';

const echo: AsyncActionDefinition = { name: 'Echo', async run() {} };

test('Cancel of a queued action fires no event, while the next action of the queue fires as usual', async () => {
  const lib = recordingLibrary();
  const config = `[Actions]
EnableTestActions=true
PollInterval=50
OnStart=Rec
OnFinish=Rec
OnError=Rec
OnErrorReport=Rec

[Rec]
LibraryName=RecordingHandler
`;
  await withEventServer({ config, handlers: [lib.factory] }, async (s) => {
    await queueInfo(s.client, 'Sleep', 'Pause');
    const cancelled = await s.client.send('Sleep', { Seconds: '0' });
    const cancel = await queueInfo(s.client, 'Sleep', 'Cancel', { Token: cancelled });
    assert.equal(cancel['status'], 'Cancelled');
    await queueInfo(s.client, 'Sleep', 'Resume');
    const later = await s.client.send('Sleep', { Seconds: '0' });
    await waitFor(() => lib.deliveredTo('Rec', 'OnFinish').some((e) => e.token === later));
    assert.equal((await s.client.status(cancelled))['status'], 'Cancelled');
    assert.deepEqual(lib.seen.filter((d) => d.event.token === cancelled), [], 'no delivery for the cancelled action');
    assert.deepEqual((await eventInfo(s.client, { Token: cancelled })).events, [], 'no stored event for it either');
    assert.deepEqual(lib.deliveredTo('Rec').map((e) => e.type), ['OnStart', 'OnFinish']);
  });
});

test('a per-action OnFinish ([Sleep] OnFinish=B) replaces the global one ([Actions] OnFinish=A) for that action only', async () => {
  const lib = recordingLibrary();
  const config = `[Actions]
EnableTestActions=true
PollInterval=50
OnFinish=A

[Sleep]
OnFinish=B

[A]
LibraryName=RecordingHandler

[B]
LibraryName=RecordingHandler
`;
  await withEventServer({ config, handlers: [lib.factory], actions: [echo] }, async (s) => {
    const sleep = await s.client.send('Sleep', { Seconds: '0' });
    const other = await s.client.send('Echo');
    await waitFor(() => lib.deliveredTo('B').length >= 1 && lib.deliveredTo('A').length >= 1);
    await waitNoPending(s.client);
    assert.deepEqual(lib.deliveredTo('B').map((e) => [e.type, e.token]), [['OnFinish', sleep]], 'B gets the Sleep OnFinish');
    assert.deepEqual(lib.deliveredTo('A').map((e) => [e.type, e.token]), [['OnFinish', other]], 'A gets only the other action\'s');
    assert.deepEqual((await eventInfo(s.client, { Handler: 'A', Token: sleep })).events, []);
  });
});

test('OnFinish=A,B: each handler gets the event, with the same <id> and document', async () => {
  const lib = recordingLibrary();
  const config = `[Actions]
EnableTestActions=true
PollInterval=50
OnFinish=A, B

[A]
LibraryName=RecordingHandler

[B]
LibraryName=RecordingHandler
`;
  await withEventServer({ config, handlers: [lib.factory] }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0' });
    await waitFor(() => lib.deliveredTo('A').length >= 1 && lib.deliveredTo('B').length >= 1);
    const [a] = lib.deliveredTo('A');
    const [b] = lib.deliveredTo('B');
    assert.equal(a!.token, token);
    assert.equal(b!.token, token);
    assert.equal(a!.id, b!.id, 'one event, one id, for both handlers');
    assert.equal(a!.document, b!.document);
    const stored = (await eventInfo(s.client, { Token: token })).events;
    assert.deepEqual(stored.map((e) => e.handler).sort(), ['A', 'B']);
    assert.deepEqual(new Set(stored.map((e) => e.id)), new Set([a!.id]));
  });
});

test('events of one action arrive in order (OnStart before OnFinish) for 200 actions at MaximumThreads=8, for a fast, a slow and a flaky handler', async () => {
  const lib = recordingLibrary();
  lib.setBehaviour('Slow', () => new Promise((r) => setTimeout(r, Math.floor(Math.random() * 6))));
  // Fails one attempt in five: a retried head must still hold back the action's later events.
  lib.setBehaviour('Flaky', () => {
    if (Math.random() < 0.2) throw new Error('flaky receiver');
  });
  const config = `[Actions]
EnableTestActions=true
MaximumThreads=8
PollInterval=50
OnStart=Fast,Slow,Flaky
OnFinish=Fast,Slow,Flaky
OnError=Fast,Slow,Flaky

[Fast]
LibraryName=RecordingHandler

[Slow]
LibraryName=RecordingHandler

[Flaky]
LibraryName=RecordingHandler
Retries=50
RetryInterval=2ms
`;
  await withEventServer({ config, handlers: [lib.factory] }, async (s) => {
    const tokens: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      tokens.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => s.client.send('Sleep', { Seconds: '0', Fail: String((batch * 50 + i) % 5 === 0) })))));
    }
    assert.equal(new Set(tokens).size, 200);
    const handlers = ['Fast', 'Slow', 'Flaky'];
    await waitFor(() => handlers.every((h) => lib.deliveredTo(h).length >= 400), 30_000, 25);
    assert.ok(lib.seen.some((d) => !d.ok), 'the flaky handler did fail some attempts');
    for (const handler of handlers) {
      const byToken = new Map<string, string[]>();
      for (const e of lib.deliveredTo(handler)) byToken.set(e.token!, [...(byToken.get(e.token!) ?? []), e.type]);
      assert.equal(byToken.size, 200, `${handler}: events of every action`);
      tokens.forEach((token, i) => {
        const end = i % 5 === 0 ? 'OnError' : 'OnFinish';
        assert.deepEqual(byToken.get(token), ['OnStart', end], `${handler}: ${token} in order`);
      });
    }
    const info = await waitNoPending(s.client);
    assert.deepEqual(info.counts, { pending: 0, delivered: 1200, failed: 0 });
    const status = (await queueInfo(s.client, 'Sleep', 'QueueStatus'))['queue'] as Json;
    assert.deepEqual([status['finished'], status['error']], ['160', '40']);
  });
});

/**
 * EventInfo listing (decisions.md "ACI"): filters by State, Handler, Token, Type and creation
 * time, MaxResults, newest first by default, counts per state and per handler, ShowDocument.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aciError } from '../helpers/aci.js';
import { waitFor } from '../helpers/server.js';
import { eventInfo, parseEventDocument, recordingLibrary, waitNoPending, withEventServer } from '../helpers/events-server.js';
import { formatActionTime } from '../../src/common/dates.js';

test('EventInfo filters by State, Handler, Token, Type and time, limits with MaxResults, and counts per state and handler', async () => {
  const lib = recordingLibrary();
  lib.setBehaviour('Bad', () => {
    throw new Error('Bad never accepts');
  });
  const config = `[Actions]
EnableTestActions=true
PollInterval=50
OnStart=Good
OnFinish=Good,Bad
OnError=Good

[Good]
LibraryName=RecordingHandler

[Bad]
LibraryName=RecordingHandler
Retries=0
`;
  await withEventServer({ config, handlers: [lib.factory] }, async (s) => {
    const before = Date.now() - 2000;
    const ok = [];
    for (let i = 0; i < 3; i++) ok.push(await s.client.send('Sleep', { Seconds: '0' }));
    const failing = await s.client.send('Sleep', { Seconds: '0', Fail: 'true' });
    await waitFor(() => lib.deliveredTo('Good').length === 8);
    await waitFor(async () => (await eventInfo(s.client, { MaxResults: '0' })).counts.failed === 3);
    const all = await waitNoPending(s.client);

    // Counts: Good 4 OnStart + 3 OnFinish + 1 OnError delivered; Bad 3 OnFinish failed.
    assert.deepEqual(all.counts, { pending: 0, delivered: 8, failed: 3 });
    assert.deepEqual(all.handlers.get('Good'), { pending: 0, delivered: 8, failed: 0 });
    assert.deepEqual(all.handlers.get('Bad'), { pending: 0, delivered: 0, failed: 3 });
    assert.deepEqual(all.events, [], 'MaxResults=0 lists no event but still counts');

    const listed = (await eventInfo(s.client)).events;
    assert.equal(listed.length, 11, 'default MaxResults (100) shows all');
    const seqs = listed.map((e) => Number(e.seq));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first by default');
    const ascending = (await eventInfo(s.client, { 'Sort-Order': 'ascending' })).events.map((e) => Number(e.seq));
    assert.deepEqual(ascending, [...seqs].reverse());

    const failed = (await eventInfo(s.client, { State: 'failed' })).events;
    assert.equal(failed.length, 3);
    assert.ok(failed.every((e) => e.handler === 'Bad' && e.type === 'OnFinish' && e.attempts === '1' && /never accepts/.test(String(e.last_error))));
    assert.deepEqual(failed.map((e) => e.token).sort(), [...ok].sort());

    assert.equal((await eventInfo(s.client, { Handler: 'Good' })).events.length, 8);
    assert.equal((await eventInfo(s.client, { Handler: 'good' })).events.length, 8, 'Handler matches without regard to case');
    assert.equal((await eventInfo(s.client, { State: 'delivered,failed' })).events.length, 11);
    assert.equal((await eventInfo(s.client, { State: 'pending' })).events.length, 0);

    const ofOne = (await eventInfo(s.client, { Token: ok[0]! })).events;
    assert.deepEqual(ofOne.map((e) => `${e.type}/${e.handler}/${e.state}`).sort(), ['OnFinish/Bad/failed', 'OnFinish/Good/delivered', 'OnStart/Good/delivered']);
    const ofFailing = (await eventInfo(s.client, { Token: failing })).events;
    assert.deepEqual(ofFailing.map((e) => e.type).sort(), ['OnError', 'OnStart']);

    assert.equal((await eventInfo(s.client, { Type: 'OnError' })).events.length, 1);
    assert.equal((await eventInfo(s.client, { Type: 'onstart,OnError' })).events.length, 5);
    assert.equal((await eventInfo(s.client, { Type: 'OnFinish', State: 'delivered', Handler: 'Good' })).events.length, 3, 'filters combine');

    const two = (await eventInfo(s.client, { MaxResults: '2' })).events;
    assert.deepEqual(two.map((e) => e.seq), listed.slice(0, 2).map((e) => e.seq));

    assert.equal((await eventInfo(s.client, { 'Created-After': formatActionTime(before) })).events.length, 11);
    assert.equal((await eventInfo(s.client, { 'Created-Before': formatActionTime(before) })).events.length, 0);

    assert.equal(listed[0]!.document, undefined, 'no document unless asked');
    const [withDoc] = (await eventInfo(s.client, { Token: failing, Type: 'OnError', ShowDocument: 'true' })).events;
    const doc = parseEventDocument(String(withDoc!.document));
    assert.equal(doc['id'], withDoc!.id);
    assert.equal(doc['type'], 'OnError');

    assert.match((await aciError(eventInfo(s.client, { State: 'lost' }))).errordescription, /State="lost"/);
    assert.match((await aciError(eventInfo(s.client, { Type: 'OnLunch' }))).errordescription, /Type="OnLunch"/);
    assert.match((await aciError(eventInfo(s.client, { 'Created-After': 'yesterday' }))).errordescription, /Created-After="yesterday" is not a time \(epoch seconds, .*ISO 8601\)/);
  });
});

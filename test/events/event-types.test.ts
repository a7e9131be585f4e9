/**
 * Every event type fires with the document of decisions.md "Events": OnStart / OnFinish / OnError /
 * OnErrorReport for actions (the `<action>` is the QueueInfo GetStatus record at that moment),
 * Stop → OnFinish with Stopped, and the four queue events of idol-reference.md §3.3.
 * A real server with a code-defined recording handler library (no mocks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getXml, queueInfo, aciError } from '../helpers/aci.js';
import { waitFor } from '../helpers/server.js';
import { EVENT_TIME, parseEventDocument, recordingLibrary, withEventServer, type Json } from '../helpers/events-server.js';
import type { EventDelivery } from '../../src/events/handler.js';

const CONFIG = `[Actions]
EnableTestActions=true
MaximumThreads=2
PollInterval=50
OnStart=Rec
OnFinish=Rec
OnError=Rec
OnErrorReport=Rec

[Rec]
LibraryName=RecordingHandler
`;

/** The `<action>` element of QueueInfo GetStatus for one token, parsed from the XML answer. */
async function getStatusXml(url: string, token: string): Promise<Json> {
  const response = await getXml(url, `/action=QueueInfo&QueueName=Sleep&QueueAction=GetStatus&Token=${encodeURIComponent(token)}`);
  const action = ((response['responsedata'] as Json)['actions'] as Json)['action'];
  assert.ok(action && !Array.isArray(action), 'one <action> record');
  return action as Json;
}

/** Checks the envelope of an event document and returns its parsed `<event>`. */
function checkEnvelope(d: EventDelivery, type: string, port: number): Json {
  const event = parseEventDocument(d.document);
  assert.equal(event['type'], type);
  assert.equal(event['id'], d.id, '<id> is the delivery id');
  assert.match(String(event['id']), /\S{8,}/);
  assert.match(String(event['time']), EVENT_TIME);
  assert.equal(event['server'], `127.0.0.1:${port}`);
  return event;
}

const eventsOf = (lib: ReturnType<typeof recordingLibrary>, token: string) => lib.deliveredTo('Rec').filter((e) => e.token === token);

test('a successful action fires OnStart (status Processing) then OnFinish (Finished), each <action> being the GetStatus record', async () => {
  const lib = recordingLibrary();
  await withEventServer({ config: CONFIG, handlers: [lib.factory] }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '1' });
    const [start] = await waitFor(() => (eventsOf(lib, token).length >= 1 ? eventsOf(lib, token) : undefined));
    // While it runs: GetStatus shows the same record, except durations and progress that move on.
    const running = await getStatusXml(s.url, token);
    const startAction = checkEnvelope(start!, 'OnStart', s.server.port)['action'] as Json;
    assert.equal(startAction['status'], 'Processing');
    assert.equal(startAction['process_end_time'], undefined, 'OnStart has no end time');
    for (const key of ['token', 'status', 'queued_time', 'time_in_queue', 'process_start_time', 'priority', 'attempts']) {
      assert.deepEqual(startAction[key], running[key], `OnStart <${key}> equals GetStatus`);
    }
    assert.equal(start!.type, 'OnStart');
    assert.equal(start!.token, token);
    assert.equal(start!.queue, 'Sleep');
    assert.deepEqual(start!.request, { action: 'Sleep', Seconds: '1' }, 'the action and the request parameters, as sent');

    const events = await waitFor(() => (eventsOf(lib, token).length >= 2 ? eventsOf(lib, token) : undefined));
    assert.deepEqual(events.map((e) => e.type), ['OnStart', 'OnFinish']);
    const finish = checkEnvelope(events[1]!, 'OnFinish', s.server.port);
    assert.deepEqual(finish['action'], await getStatusXml(s.url, token), 'OnFinish <action> is exactly the GetStatus record');
    assert.equal((finish['action'] as Json)['status'], 'Finished');
    assert.notEqual(events[0]!.id, events[1]!.id, 'each event has its own id');
  });
});

test('an action that fails (Sleep Fail=true) fires OnError with <error>, and no OnFinish', async () => {
  const lib = recordingLibrary();
  await withEventServer({ config: CONFIG, handlers: [lib.factory] }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0', Fail: 'true' });
    const events = await waitFor(() => (eventsOf(lib, token).length >= 2 ? eventsOf(lib, token) : undefined));
    assert.deepEqual(events.map((e) => e.type), ['OnStart', 'OnError']);
    const error = checkEnvelope(events[1]!, 'OnError', s.server.port);
    const action = error['action'] as Json;
    assert.equal(action['status'], 'Error');
    assert.match(String(action['error']), /Fail=true/);
    assert.deepEqual(action, await getStatusXml(s.url, token), 'OnError <action> is exactly the GetStatus record');
  });
});

test('QueueInfo Stop on a running action ends it as Stopped and fires OnFinish with status Stopped', async () => {
  const lib = recordingLibrary();
  await withEventServer({ config: CONFIG, handlers: [lib.factory] }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '60' });
    await waitFor(() => eventsOf(lib, token).length >= 1);
    await queueInfo(s.client, 'Sleep', 'Stop', { Token: token });
    const events = await waitFor(() => (eventsOf(lib, token).length >= 2 ? eventsOf(lib, token) : undefined));
    assert.deepEqual(events.map((e) => e.type), ['OnStart', 'OnFinish']);
    const action = checkEnvelope(events[1]!, 'OnFinish', s.server.port)['action'] as Json;
    assert.equal(action['status'], 'Stopped');
    assert.deepEqual(action, await getStatusXml(s.url, token), 'the Stopped record is the GetStatus record');
  });
});

test('error reports (Sleep ReportErrors=2) fire two OnErrorReport events carrying <errorreports>, and the action still finishes', async () => {
  const lib = recordingLibrary();
  await withEventServer({ config: CONFIG, handlers: [lib.factory] }, async (s) => {
    const token = await s.client.send('Sleep', { Seconds: '0.2', ReportErrors: '2' });
    const done = () => eventsOf(lib, token).some((e) => e.type === 'OnFinish');
    await waitFor(done);
    const events = eventsOf(lib, token);
    assert.deepEqual(events.map((e) => e.type), ['OnStart', 'OnErrorReport', 'OnErrorReport', 'OnFinish']);
    const reports = events.filter((e) => e.type === 'OnErrorReport').map((e) => checkEnvelope(e, 'OnErrorReport', s.server.port)['action'] as Json);
    const listed = reports.map((a) => {
      const list = (a['errorreports'] as Json)['errorreport'];
      return (Array.isArray(list) ? list : [list]) as Json[];
    });
    assert.deepEqual(listed.map((l) => l.length), [1, 2], 'each report adds one <errorreport>');
    assert.match(String(listed[1]![1]!['#text']), /reported error 2 of 2/);
    assert.match(String(listed[1]![1]!['@time']), EVENT_TIME);
    for (const a of reports) assert.equal(a['status'], 'Processing');
    const finish = parseEventDocument(events[3]!.document)['action'] as Json;
    assert.deepEqual(finish, await getStatusXml(s.url, token), 'OnFinish <action> (with its reports) is the GetStatus record');
  });
});

test('queue events: QueueFilling, QueueFull while a paused queue fills, QueueEmptying, QueueEmpty as it drains', async () => {
  const lib = recordingLibrary();
  const config = `[Actions]
EnableTestActions=true
MaximumThreads=1
PollInterval=50

[Sleep]
OnQueueEvent=Rec
MaximumQueueSize=4
QueueFillingThreshold=0.5
QueueEmptyingThreshold=0.3

[Rec]
LibraryName=RecordingHandler
`;
  await withEventServer({ config, handlers: [lib.factory] }, async (s) => {
    const queueEvents = () => lib.deliveredTo('Rec', 'OnQueueEvent').map((d) => ({ d, q: checkEnvelope(d, 'OnQueueEvent', s.server.port)['queueevent'] as Json }));
    await queueInfo(s.client, 'Sleep', 'Pause');
    for (let i = 0; i < 4; i++) await s.client.send('Sleep', { Seconds: '0' });
    const refused = await aciError(s.client.send('Sleep', { Seconds: '0' }));
    assert.equal(refused.errorcode, 'ERRORQUEUEFULL');
    const filled = await waitFor(() => (queueEvents().length >= 2 ? queueEvents() : undefined));
    // Size 3 > 0.5 × 4 → QueueFilling; size 4 → QueueFull.
    assert.deepEqual(filled.map((e) => e.q), [
      { queuename: 'Sleep', queueEventType: 'QueueFilling', maxQueueSize: '4', queueSize: '3' },
      { queuename: 'Sleep', queueEventType: 'QueueFull', maxQueueSize: '4', queueSize: '4' },
    ]);

    await queueInfo(s.client, 'Sleep', 'Resume');
    const all = await waitFor(() => (queueEvents().length >= 4 ? queueEvents() : undefined));
    // Draining: 3, 2, then 1 < 0.3 × 4 → QueueEmptying; 0 → QueueEmpty without queueSize.
    assert.deepEqual(all.slice(2).map((e) => e.q), [
      { queuename: 'Sleep', queueEventType: 'QueueEmptying', maxQueueSize: '4', queueSize: '1' },
      { queuename: 'Sleep', queueEventType: 'QueueEmpty', maxQueueSize: '4' },
    ]);
    for (const { d } of all) {
      assert.equal(d.token, undefined, 'a queue event belongs to no action');
      assert.deepEqual(d.request, {}, 'a queue event has no request parameters');
      assert.equal(parseEventDocument(d.document)['action'], undefined, 'no <action> in a queue event');
    }
    assert.equal(new Set(all.map((e) => e.d.id)).size, 4);
    await waitFor(async () => ((await queueInfo(s.client, 'Sleep', 'QueueStatus'))['queue'] as Json)['finished'] === '4');
    assert.equal(queueEvents().length, 4, 'no further queue event');
  });
});

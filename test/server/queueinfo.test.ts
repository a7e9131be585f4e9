/**
 * Every QueueAction of QueueInfo (idol-reference.md §7), over real HTTP against a real server
 * running the Sleep test action.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatActionTime } from '../../src/common/dates.js';
import { ACTION_TIME, aciError, actionList, listStatus, queueInfo, waitForStatus, type Json } from '../helpers/aci.js';
import { waitFor, withServer, type TestServer } from '../helpers/server.js';

const config = (threads = 1) => `
[Actions]
EnableTestActions=true
MaximumThreads=${threads}
PollInterval=50

[Echo]
Type=Command
Command=/bin/echo
Arguments=hi
`;

const run = <T>(fn: (s: TestServer) => Promise<T>, threads = 1) => withServer({ config: config(threads) }, fn);
const sleep = (s: TestServer, params: Record<string, string>) => s.client.send('Sleep', params);
const qi = (s: TestServer, queueAction: string, params: Record<string, string> = {}) => queueInfo(s.client, 'Sleep', queueAction, params);
const tokens = (records: Json[]) => records.map((r) => r['token']);

/** Lets a negative check ("nothing started") see several poll cycles (PollInterval=50). */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('QueueInfo GetStatus', () => {
  test('GetStatus with a Token returns that one record, with its elements in order and YYYY-Mon-DD HH:MM:SS dates', () =>
    run(async (s) => {
      const done = await sleep(s, { Seconds: '0', Priority: '7' });
      await waitForStatus(s.client, done, 'Finished');
      await sleep(s, { Seconds: '0' });
      const [record] = await listStatus(s.client, 'Sleep', { Token: done });
      assert.ok(record);
      assert.deepEqual(Object.keys(record), [
        'token', 'status', 'queued_time', 'time_in_queue', 'process_start_time', 'time_processing', 'process_end_time', 'priority', 'attempts', 'slept_seconds',
      ]);
      assert.equal(record['token'], done);
      assert.equal(record['status'], 'Finished');
      assert.equal(record['priority'], '7');
      assert.equal(record['attempts'], '1');
      for (const key of ['queued_time', 'process_start_time', 'process_end_time']) assert.match(String(record[key]), ACTION_TIME, key);
      for (const key of ['time_in_queue', 'time_processing']) assert.match(String(record[key]), /^\d+$/, key);
      assert.equal((await listStatus(s.client, 'Sleep', { Token: done })).length, 1);
    }));

  test('a queued record has no start or end times; a failed one carries <error>', () =>
    run(async (s) => {
      const failed = await sleep(s, { Seconds: '0', Fail: 'true' });
      const errored = await waitForStatus(s.client, failed, 'Error');
      assert.match(String(errored['error']), /Fail=true/);
      await qi(s, 'Pause');
      const queued = await sleep(s, { Seconds: '0' });
      const [record] = await listStatus(s.client, 'Sleep', { Token: queued });
      assert.deepEqual(Object.keys(record!), ['token', 'status', 'queued_time', 'time_in_queue', 'priority', 'attempts']);
      assert.equal(record!['status'], 'Queued');
      assert.equal(record!['attempts'], '0');
    }));

  test('GetStatus of the whole queue filters by State, priority, queue time and finish time', () =>
    run(async (s) => {
      const a = await sleep(s, { Seconds: '0' });
      await waitForStatus(s.client, a, 'Finished');
      const b = await sleep(s, { Seconds: '0', Fail: 'true' });
      await waitForStatus(s.client, b, 'Error');
      await qi(s, 'Pause');
      const c = await sleep(s, { Seconds: '0', Priority: '5' });
      const d = await sleep(s, { Seconds: '0', Priority: '1' });
      const e = await sleep(s, { Seconds: '0', Priority: '10' });
      const filter = async (params: Record<string, string>) => tokens(await listStatus(s.client, 'Sleep', params));

      // Default: every action, newest first.
      assert.deepEqual(await filter({}), [e, d, c, b, a]);
      assert.deepEqual(await filter({ State: 'finished' }), [a]);
      assert.deepEqual(await filter({ State: 'Error' }), [b]);
      assert.deepEqual(await filter({ State: 'queued' }), [e, d, c]);
      assert.deepEqual(await filter({ State: 'completed' }), [b, a]);
      assert.deepEqual(await filter({ State: 'finished,error' }), [b, a]);
      assert.equal((await aciError(qi(s, 'GetStatus', { State: 'sleeping' }))).errorcode, 'ERRORPARAMINVALID');

      assert.deepEqual(await filter({ 'Min-Priority': '5' }), [e, c]);
      assert.deepEqual(await filter({ 'Max-Priority': '1' }), [d, b, a]);
      assert.deepEqual(await filter({ 'Min-Priority': '1', 'Max-Priority': '5' }), [d, c]);

      const hourAgo = Date.now() - 3_600_000;
      const hourAhead = Date.now() + 3_600_000;
      const epoch = (ms: number) => String(Math.floor(ms / 1000));
      assert.deepEqual(await filter({ 'Queued-After': epoch(hourAgo) }), [e, d, c, b, a]);
      assert.deepEqual(await filter({ 'Queued-Before': epoch(hourAgo) }), []);
      assert.deepEqual(await filter({ 'Queued-After': formatActionTime(hourAhead) }), []);
      assert.deepEqual(await filter({ 'Queued-Before': formatActionTime(hourAhead) }), [e, d, c, b, a]);
      assert.deepEqual(await filter({ 'Finished-After': epoch(hourAgo) }), [b, a], 'only ended actions have a finish time');
      assert.deepEqual(await filter({ 'Finished-Before': new Date(hourAhead).toISOString() }), [b, a]);
      assert.deepEqual(await filter({ 'Finished-Before': epoch(hourAgo) }), []);
      assert.deepEqual(await filter({ 'Finished-After': epoch(hourAgo), State: 'error' }), [b]);
      assert.equal((await aciError(qi(s, 'GetStatus', { 'Queued-After': 'yesterday' }))).errorcode, 'ERRORPARAMINVALID');
    }));

  test('GetStatus sorts by Sort-By and Sort-Order, and MaxResults caps the list', () =>
    run(async (s) => {
      await qi(s, 'Pause');
      const p = [3, -1, 8, 0];
      const t: string[] = [];
      for (const priority of p) t.push(await sleep(s, { Seconds: '0', Priority: String(priority) }));
      const list = async (params: Record<string, string>) => await listStatus(s.client, 'Sleep', params);
      assert.deepEqual(tokens(await list({ 'Sort-By': 'queue-time', 'Sort-Order': 'ascending' })), t);
      assert.deepEqual(tokens(await list({ 'Sort-By': 'queue-time', 'Sort-Order': 'descending' })), [...t].reverse());
      assert.deepEqual((await list({ 'Sort-By': 'priority', 'Sort-Order': 'ascending' })).map((r) => r['priority']), ['-1', '0', '3', '8']);
      assert.deepEqual((await list({ 'sort-by': 'PRIORITY' })).map((r) => r['priority']), ['8', '3', '0', '-1'], 'descending by default');
      assert.deepEqual(tokens(await list({ MaxResults: '2' })), [t[3], t[2]]);
      assert.deepEqual(tokens(await list({ MaxResults: '2', 'Sort-Order': 'ascending' })), [t[0], t[1]]);
      assert.deepEqual(await list({ MaxResults: '0' }), []);
      assert.equal((await aciError(qi(s, 'GetStatus', { 'Sort-By': 'colour' }))).errorcode, 'ERRORPARAMINVALID');
      assert.equal((await aciError(qi(s, 'GetStatus', { MaxResults: '-1' }))).errorcode, 'ERRORPARAMINVALID');
      // Finish them in priority order; finish-time ascending then follows that order.
      await qi(s, 'Resume');
      await waitFor(async () => (await list({ State: 'finished' })).length === 4);
      const byFinish = await list({ 'Sort-By': 'finish-time', 'Sort-Order': 'ascending' });
      const ends = byFinish.map((r) => String(r['process_end_time']));
      assert.deepEqual(ends, [...ends].sort(), 'ascending finish times');
    }));

  test('QueueName and QueueAction are checked: unknown queue, unknown QueueAction, a token of another queue', () =>
    run(async (s) => {
      assert.equal((await aciError(queueInfo(s.client, 'Nope', 'GetStatus'))).errorcode, 'ERRORQUEUENOTFOUND');
      const e = await aciError(qi(s, 'Explode'));
      assert.equal(e.errorcode, 'ERRORPARAMINVALID');
      assert.match(e.errordescription, /QueueAction/);
      const t = await sleep(s, { Seconds: '0' });
      assert.equal((await aciError(queueInfo(s.client, 'Echo', 'GetStatus', { Token: t }))).errorcode, 'ERRORTOKENNOTFOUND');
      assert.equal((await queueInfo(s.client, 'sleep', 'getstatus', { Token: t }))['actions'] !== undefined, true, 'names match without regard to case');
    }));
});

describe('QueueInfo Cancel, ChangePriority, Duplicate, GetActionParameters', () => {
  test('Cancel turns a queued action Cancelled and refuses a running one', () =>
    run(async (s) => {
      const running = await sleep(s, { Seconds: '30' });
      await waitForStatus(s.client, running, 'Processing');
      const queued = await sleep(s, { Seconds: '0' });
      const r = await qi(s, 'Cancel', { Token: queued });
      assert.equal(r['token'], queued);
      assert.equal(r['status'], 'Cancelled');
      const [record] = await listStatus(s.client, 'Sleep', { Token: queued });
      assert.equal(record!['status'], 'Cancelled');
      assert.match(String(record!['process_end_time']), ACTION_TIME);
      const e = await aciError(qi(s, 'Cancel', { Token: running }));
      assert.equal(e.errorcode, 'ERRORINVALIDSTATE');
      assert.match(e.errordescription, /Processing/);
      assert.equal((await aciError(qi(s, 'Cancel', { Token: queued }))).errorcode, 'ERRORINVALIDSTATE', 'not twice');
      assert.equal((await aciError(qi(s, 'Cancel'))).errorcode, 'ERRORMISSINGPARAM', 'Token is required');
    }));

  test('ChangePriority changes a queued action priority, and with it the start order', () =>
    run(async (s) => {
      await qi(s, 'Pause');
      const first = await sleep(s, { Seconds: '30' });
      const second = await sleep(s, { Seconds: '30' });
      const r = await qi(s, 'ChangePriority', { Token: second, Priority: '10' });
      assert.equal(r['priority'], '10');
      assert.equal((await listStatus(s.client, 'Sleep', { Token: second }))[0]!['priority'], '10');
      await qi(s, 'Resume');
      await waitForStatus(s.client, second, 'Processing');
      assert.equal((await s.client.status(first))['status'], 'Queued', 'MaximumThreads=1: the raised one went first');
      assert.equal((await aciError(qi(s, 'ChangePriority', { Token: second, Priority: '1' }))).errorcode, 'ERRORINVALIDSTATE', 'not once running');
      assert.equal((await aciError(qi(s, 'ChangePriority', { Token: first }))).errorcode, 'ERRORMISSINGPARAM');
      assert.equal((await aciError(qi(s, 'ChangePriority', { Token: first, Priority: 'x' }))).errorcode, 'ERRORPARAMINVALID');
    }));

  test('Duplicate copies a waiting or running action under a new token with the same parameters; a completed one is refused', () =>
    run(async (s) => {
      const done = await sleep(s, { Seconds: '0' });
      await waitForStatus(s.client, done, 'Finished');
      const running = await sleep(s, { Seconds: '30', Label: 'run' });
      await waitForStatus(s.client, running, 'Processing');
      const queued = await sleep(s, { Seconds: '0', Label: 'dup me', Priority: '4' });
      const copy = await qi(s, 'Duplicate', { Token: queued });
      assert.equal(copy['duplicated_from'], queued);
      const copyToken = String(copy['token']);
      assert.notEqual(copyToken, queued);
      const [record] = await listStatus(s.client, 'Sleep', { Token: copyToken });
      assert.equal(record!['status'], 'Queued');
      assert.equal(record!['priority'], '4');
      const params = (t: string) => qi(s, 'GetActionParameters', { Token: t }).then((d) => JSON.stringify(actionList(d)[0]!['parameters']));
      assert.equal(await params(copyToken), await params(queued));
      const runningCopy = String((await qi(s, 'Duplicate', { Token: running }))['token']);
      assert.equal(await params(runningCopy), await params(running));
      const e = await aciError(qi(s, 'Duplicate', { Token: done }));
      assert.equal(e.errorcode, 'ERRORINVALIDSTATE');
      assert.equal((await listStatus(s.client, 'Sleep')).length, 5);
    }));

  test('Duplicate into a full queue is refused with ERRORQUEUEFULL', () =>
    withServer({ config: '[Actions]\nEnableTestActions=true\nMaximumQueueSize=1\n' }, async (s) => {
      await qi(s, 'Pause');
      const t = await sleep(s, { Seconds: '0' });
      assert.equal((await aciError(qi(s, 'Duplicate', { Token: t }))).errorcode, 'ERRORQUEUEFULL');
      assert.equal((await listStatus(s.client, 'Sleep')).length, 1);
    }));

  test('GetActionParameters returns the parameters sent, for one token or every pending and running action; not for completed ones', () =>
    run(async (s) => {
      const done = await sleep(s, { Seconds: '0', Label: 'old' });
      await waitForStatus(s.client, done, 'Finished');
      const running = await sleep(s, { Seconds: '30', Label: 'running' });
      await waitForStatus(s.client, running, 'Processing');
      const queued = await sleep(s, { Seconds: '0', Label: 'waiting', Priority: '2', ResponseFormat: 'xml' });
      const one = actionList(await qi(s, 'GetActionParameters', { Token: queued }));
      assert.equal(one.length, 1);
      assert.equal(one[0]!['token'], queued);
      const pairs = ((one[0]!['parameters'] as Json)['parameter'] as Json[]).map((p) => [p['@name'], p['$']]);
      assert.deepEqual(pairs, [['Seconds', '0'], ['Label', 'waiting']], 'standard parameters (Priority, ResponseFormat) are not stored');
      const all = actionList(await qi(s, 'GetActionParameters'));
      assert.deepEqual(tokens(all), [running, queued]);
      const e = await aciError(qi(s, 'GetActionParameters', { Token: done }));
      assert.equal(e.errorcode, 'ERRORINVALIDSTATE');
    }));
});

describe('QueueInfo Pause, Resume, Progress, QueueStatus, Stop', () => {
  test('Pause and Resume of a queued action by token: a paused action is passed over until resumed', () =>
    run(async (s) => {
      const busy = await sleep(s, { Seconds: '30' });
      await waitForStatus(s.client, busy, 'Processing');
      const t = await sleep(s, { Seconds: '0' });
      assert.equal((await qi(s, 'Pause', { Token: t }))['status'], 'Paused');
      const next = await sleep(s, { Seconds: '0' });
      await qi(s, 'Stop', { Token: busy });
      await waitForStatus(s.client, next, 'Finished');
      await settle();
      assert.equal((await s.client.status(t))['status'], 'Paused', 'the free slot took the later action and left the paused one');
      assert.equal((await qi(s, 'Resume', { Token: t }))['status'], 'Queued');
      await waitForStatus(s.client, t, 'Finished');
      assert.equal((await aciError(qi(s, 'Pause', { Token: t }))).errorcode, 'ERRORINVALIDSTATE');
      assert.equal((await aciError(qi(s, 'Resume', { Token: t }))).errorcode, 'ERRORINVALIDSTATE');
    }));

  test('resuming the queue also resumes its paused actions', () =>
    run(async (s) => {
      await qi(s, 'Pause');
      const t = await sleep(s, { Seconds: '0' });
      assert.equal((await qi(s, 'Pause', { Token: t }))['status'], 'Paused');
      await qi(s, 'Resume');
      await waitForStatus(s.client, t, 'Finished');
    }));

  test('a paused queue starts nothing until resumed', () =>
    run(async (s) => {
      const paused = await qi(s, 'Pause');
      assert.deepEqual(paused, { queue: 'Sleep', paused: 'true' });
      const t = [await sleep(s, { Seconds: '0' }), await sleep(s, { Seconds: '0' })];
      await settle();
      assert.deepEqual((await listStatus(s.client, 'Sleep')).map((r) => r['status']), ['Queued', 'Queued']);
      assert.equal(((await qi(s, 'QueueStatus'))['queue'] as Json)['paused'], 'true');
      assert.deepEqual(await qi(s, 'Resume'), { queue: 'Sleep', paused: 'false' });
      for (const token of t) await waitForStatus(s.client, token, 'Finished');
    }));

  test('a running Sleep paused by token stays Paused, then finishes once resumed', () =>
    run(async (s) => {
      const t = await sleep(s, { Seconds: '0.5' });
      await waitForStatus(s.client, t, 'Processing');
      assert.equal((await qi(s, 'Pause', { Token: t }))['status'], 'Paused');
      await new Promise((r) => setTimeout(r, 700)); // longer than the whole Sleep
      const paused = await s.client.status(t);
      assert.equal(paused['status'], 'Paused');
      assert.ok(paused['process_start_time'], 'it had started');
      assert.equal((await qi(s, 'Resume', { Token: t }))['status'], 'Processing');
      const done = await waitForStatus(s.client, t, 'Finished');
      assert.equal(done['attempts'], '1');
    }));

  test('pausing the queue pauses its running action; resuming the queue resumes it', () =>
    run(async (s) => {
      const t = await sleep(s, { Seconds: '0.5' });
      await waitForStatus(s.client, t, 'Processing');
      await qi(s, 'Pause');
      assert.equal((await s.client.status(t))['status'], 'Paused');
      const waiting = await sleep(s, { Seconds: '0' });
      await new Promise((r) => setTimeout(r, 700));
      assert.equal((await s.client.status(t))['status'], 'Paused');
      assert.equal((await s.client.status(waiting))['status'], 'Queued');
      await qi(s, 'Resume');
      await waitForStatus(s.client, t, 'Finished');
      await waitForStatus(s.client, waiting, 'Finished');
    }));

  test('Progress reports how far a running Sleep has got, with its stage', () =>
    run(async (s) => {
      const t = await sleep(s, { Seconds: '3' });
      await waitForStatus(s.client, t, 'Processing');
      const progress = await waitFor(async () => {
        const action = (await qi(s, 'Progress', { Token: t }))['action'] as Json;
        const p = action['progress'] as Json;
        return Number(p['percent']) > 0 ? { action, p } : undefined;
      });
      assert.equal(progress.action['token'], t);
      assert.equal(progress.action['status'], 'Processing');
      assert.equal(progress.p['stage'], 'sleeping');
      assert.ok(Number(progress.p['percent']) < 100);
      // GetStatus shows the stored progress too, once a commit carried it.
      await waitFor(async () => (await s.client.status(t))['progress'] !== undefined);
      await qi(s, 'Stop', { Token: t });
      const queuedToken = await sleep(s, { Seconds: '0' });
      await waitForStatus(s.client, queuedToken, 'Finished');
      const finished = (await qi(s, 'Progress', { Token: queuedToken }))['action'] as Json;
      assert.equal((finished['progress'] as Json)['percent'], '100');
      assert.equal((await aciError(qi(s, 'Progress'))).errorcode, 'ERRORMISSINGPARAM');
    }));

  test('QueueStatus counts the actions of each status and shows the queue settings', () =>
    run(async (s) => {
      const f = await sleep(s, { Seconds: '0' });
      await waitForStatus(s.client, f, 'Finished');
      const e = await sleep(s, { Seconds: '0', Fail: 'true' });
      await waitForStatus(s.client, e, 'Error');
      const st = await sleep(s, { Seconds: '30' });
      await waitForStatus(s.client, st, 'Processing');
      await qi(s, 'Stop', { Token: st });
      await waitForStatus(s.client, st, 'Stopped');
      const p = await sleep(s, { Seconds: '30' });
      await waitForStatus(s.client, p, 'Processing');
      await sleep(s, { Seconds: '0' });
      const q2 = await sleep(s, { Seconds: '0' });
      const q3 = await sleep(s, { Seconds: '0' });
      await qi(s, 'Cancel', { Token: q3 });
      await qi(s, 'Pause', { Token: q2 });
      assert.deepEqual((await qi(s, 'QueueStatus'))['queue'], {
        name: 'Sleep', paused: 'false', queued: '1', processing: '1', paused_actions: '1', finished: '1', error: '1', cancelled: '1', stopped: '1',
        maximum_threads: '1', maximum_queue_size: '10000',
      });
      await qi(s, 'Pause');
      const paused = (await qi(s, 'QueueStatus'))['queue'] as Json;
      assert.equal(paused['paused'], 'true');
      assert.equal(paused['processing'], '0');
      assert.equal(paused['paused_actions'], '2', 'the running action is paused with its queue');
    }));

  test('Stop ends a running Sleep as Stopped; a queued action cannot be stopped', () =>
    run(async (s) => {
      const t = await sleep(s, { Seconds: '30' });
      await waitForStatus(s.client, t, 'Processing');
      const queued = await sleep(s, { Seconds: '0' });
      const e = await aciError(qi(s, 'Stop', { Token: queued }));
      assert.equal(e.errorcode, 'ERRORINVALIDSTATE');
      assert.match(e.errordescription, /Cancel/);
      const r = await qi(s, 'Stop', { Token: t });
      assert.equal(r, '', 'a plain SUCCESS with empty responsedata');
      const stopped = await waitForStatus(s.client, t, 'Stopped', 5000);
      assert.match(String(stopped['process_end_time']), ACTION_TIME);
      assert.equal((await aciError(qi(s, 'Stop', { Token: t }))).errorcode, 'ERRORINVALIDSTATE', 'not twice');
      await waitForStatus(s.client, queued, 'Finished');
    }));

  test('Stop ends a paused running Sleep as Stopped', () =>
    run(async (s) => {
      const t = await sleep(s, { Seconds: '30' });
      await waitForStatus(s.client, t, 'Processing');
      await qi(s, 'Pause', { Token: t });
      await qi(s, 'Stop', { Token: t });
      await waitForStatus(s.client, t, 'Stopped', 5000);
    }));

  test('Stop without a token stops every running action of the queue and leaves queued ones', () =>
    run(async (s) => {
      const running = [await sleep(s, { Seconds: '30' }), await sleep(s, { Seconds: '30' })];
      for (const t of running) await waitForStatus(s.client, t, 'Processing');
      await qi(s, 'Pause');
      const queued = await sleep(s, { Seconds: '0' });
      await qi(s, 'Resume');
      // the queue slots are busy, so `queued` waits
      const r = await qi(s, 'Stop');
      assert.equal(r['stopped'], '2');
      for (const t of running) await waitForStatus(s.client, t, 'Stopped', 5000);
      await waitForStatus(s.client, queued, 'Finished');
      assert.equal((await qi(s, 'Stop'))['stopped'], '0');
    }, 2));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUNNING_SEQ, STARTED_AT, STATE_BYTES, preciseNow, stateViews } from '../../../src/events/handlers/lua/protocol.js';
import { watchCalls } from '../../../src/events/handlers/lua/watchdog.js';
import { waitFor } from '../../helpers/server.js';

/** This thread plays the Lua worker: it publishes calls in shared state the way worker.ts does. */
function fakeWorker() {
  const state = stateViews(new SharedArrayBuffer(STATE_BYTES));
  return {
    state,
    begin(seq: number): number {
      const now = preciseNow();
      state.f64[STARTED_AT] = now;
      Atomics.store(state.i32, RUNNING_SEQ, seq);
      Atomics.notify(state.i32, RUNNING_SEQ);
      return now;
    },
    end(): void {
      Atomics.store(state.i32, RUNNING_SEQ, 0);
    },
  };
}

/** Generous: timers run late on a loaded machine. */
const REPORT_LIMIT_MS = 3000;

interface Report {
  readonly seq: number;
  readonly limitEnd: number;
  readonly at: number;
}

test('a call still running at its hard limit is reported once, with the end of its soft limit', async (t) => {
  const worker = fakeWorker();
  const reports: Report[] = [];
  const stop = watchCalls(worker.state, { softMs: 50, hardMs: 60 }, (seq, limitEnd) => reports.push({ seq, limitEnd, at: preciseNow() }));
  t.after(stop);
  await sleep(20); // idle first: the watchdog must be woken by the call's start
  const startedAt = worker.begin(7);
  await waitFor(() => reports.length > 0, REPORT_LIMIT_MS, 5);
  await sleep(100);
  assert.equal(reports.length, 1);
  const [report] = reports;
  assert.equal(report?.seq, 7);
  assert.equal(report?.limitEnd, startedAt + 50);
  assert.ok(report && report.at >= startedAt + 59, `reported ${(report?.at ?? 0) - startedAt} ms after the start`);
});

test('a call that ends in time is not reported; the next call is judged from its own start', async () => {
  const worker = fakeWorker();
  const reports: Report[] = [];
  const stop = watchCalls(worker.state, { softMs: 240, hardMs: 250 }, (seq, limitEnd) => reports.push({ seq, limitEnd, at: preciseNow() }));
  try {
    worker.begin(1);
    await sleep(30);
    worker.end();
    await sleep(10);
    const secondStart = worker.begin(2); // still running when call 1 would have been due
    await waitFor(() => reports.length > 0, REPORT_LIMIT_MS, 5);
    assert.deepEqual(
      reports.map((r) => r.seq),
      [2],
    );
    assert.ok((reports[0]?.at ?? 0) >= secondStart + 249, 'judged from its own start, not from the first call');
  } finally {
    stop();
  }
});

test('an idle worker is never reported, and stopping releases the wait', async () => {
  const worker = fakeWorker();
  let reported = false;
  const stop = watchCalls(worker.state, { softMs: 10, hardMs: 20 }, () => (reported = true));
  await sleep(80);
  stop();
  worker.begin(3); // after stop: nobody is watching
  await sleep(60);
  assert.equal(reported, false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../../../src/events/handler.js';
import { DEFAULT_HARD_STOP_GRACE_MS } from '../../../src/events/handlers/lua/index.js';
import { NEVER, actionEventXml, delivery, luaFixture, outcome, queueEventXml, scriptLogs, started } from './helpers.js';

const SCRIPT = String.raw`
calls = 0
function handler(request, xml)
  calls = calls + 1
  if request.mode == "loop" then while true do end end
  if request.mode == "c_call" then
    -- Backtracking pattern match: one C call for hours, which no instruction hook can interrupt.
    return string.find(string.rep("a", 5000), ".-.-.-.-b")
  end
  if request.mode == "false" then return false end
  if request.mode == "error" then error("bad status " .. tostring(request.status)) end
  if request.mode == "nil" then return nil end
  if request.mode == "js_heap" then
    -- A million elements: parse_xml's result outgrows the worker's V8 heap limit, which kills the worker.
    return parse_xml("<a>" .. string.rep("<b>x</b>", 1000000) .. "</a>")
  end
  log("calls", calls)
  return "anything but false"
end`;

test('a handler that returns false fails the delivery (retryable); nil and other values deliver', async (t) => {
  const handler = started(luaFixture(t, SCRIPT));
  const error = await handler.deliver(delivery(actionEventXml('OnFinish'), { mode: 'false' }), NEVER).catch((e: unknown) => e);
  assert.ok(error instanceof DeliveryError);
  assert.equal(error.retryable, true);
  assert.equal(error.message, 'handler returned false');
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'nil' })), 'delivered');
  assert.equal(await outcome(handler, delivery(queueEventXml('QueueFull'))), 'delivered');
});

test('a runtime error fails the delivery with the Lua message and line, and the next event runs', async (t) => {
  const fixture = luaFixture(t, SCRIPT);
  const handler = started(fixture);
  assert.equal(await outcome(handler, delivery(actionEventXml('OnError'), { mode: 'error', status: 'Error' })), 'handler.lua:11: bad status Error');
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'))), 'delivered');
  assert.deepEqual(scriptLogs(fixture), ['info calls 2'], 'globals survive a failed call');
});

/** For tests of the engine's own limit: on a loaded machine the default grace could let the hard stop win. */
const SOFT_LIMIT_GRACE = 'LuaHardStopGrace=2s';

/**
 * Workers start on a handler's first delivery (~100-300 ms); tests that time a limit deliver this
 * first, so the start is not part of what they measure. It counts a call, and logs nothing.
 */
async function warmUp(handler: ReturnType<typeof started>): Promise<void> {
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'nil' })), 'delivered');
}

/** Keeps this (the main) thread from its event loop, as a saturated server would. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a loop is stopped by LuaTimeout inside the engine, keeping the worker and its globals', async (t) => {
  const fixture = luaFixture(t, SCRIPT, { keys: ['LuaTimeout=250', SOFT_LIMIT_GRACE] });
  const handler = started(fixture);
  await warmUp(handler);
  const begin = performance.now();
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'loop' })), 'handler.lua:5: LuaTimeout of 250 ms exceeded');
  const ms = performance.now() - begin;
  assert.ok(ms >= 250 && ms < 1000, `stopped after ${ms.toFixed(0)} ms`);
  await handler.deliver(delivery(actionEventXml('OnFinish')), NEVER);
  assert.deepEqual(scriptLogs(fixture), ['info calls 3']);
  assert.equal(handler.stats().hardStops.length, 0);
});

test('a long C call the hook cannot interrupt is stopped by terminating the worker; a new worker takes the next event', async (t) => {
  const fixture = luaFixture(t, SCRIPT, { keys: ['LuaTimeout=200'] });
  const handler = started(fixture);
  await warmUp(handler);
  const begin = performance.now();
  const message = await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'c_call' }));
  const ms = performance.now() - begin;
  assert.match(message, /^LuaTimeout of 200 ms exceeded and the script did not stop .*its worker was terminated$/);
  assert.ok(ms < 200 + DEFAULT_HARD_STOP_GRACE_MS + 400, `failed after ${ms.toFixed(0)} ms`);
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'))), 'delivered');
  const stats = handler.stats();
  assert.equal(stats.restarts, 1);
  const stop = stats.hardStops[0];
  assert.ok(stop);
  // Measured by the supervisor: the grace (its timer may fire up to 1 ms early), timer lateness and
  // terminate() (~2.5-3 ms). ~8 ms on a quiet machine (bench/lua-handler.ts measures it); the
  // bound is loose for a loaded CI machine.
  t.diagnostic(`hard stop ${stop.afterLimitMs} ms after LuaTimeout (grace ${DEFAULT_HARD_STOP_GRACE_MS} ms)`);
  const after = stop.afterLimitMs;
  assert.ok(after >= DEFAULT_HARD_STOP_GRACE_MS - 1 && after < DEFAULT_HARD_STOP_GRACE_MS + 300, `${after} ms`);
  assert.deepEqual(scriptLogs(fixture), ['info calls 1'], 'the replacement worker starts with fresh globals');
});

test('the hard stop does not wait for a busy main thread', async (t) => {
  const handler = started(luaFixture(t, SCRIPT, { keys: ['LuaTimeout=100'] }));
  await warmUp(handler);
  const runaway = outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'c_call' }));
  await sleep(20); // the call is posted; now the main thread stays busy well past the hard limit
  spin(400);
  assert.match(await runaway, /its worker was terminated/);
  const stop = handler.stats().hardStops[0];
  assert.ok(stop);
  t.diagnostic(`hard stop ${stop.afterLimitMs} ms after LuaTimeout while the main thread was busy for 400 ms`);
  // A main-thread timer could not have fired before the spin ended, ~300 ms past LuaTimeout.
  assert.ok(stop.afterLimitMs < 150, `${stop.afterLimitMs} ms`);
});

test('LuaHardStopGrace sets how long past LuaTimeout the hard stop waits', async (t) => {
  const handler = started(luaFixture(t, SCRIPT, { keys: ['LuaTimeout=100', 'LuaHardStopGrace=300ms'] }));
  assert.match(await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'c_call' })), /its worker was terminated/);
  const stop = handler.stats().hardStops[0];
  assert.ok(stop && stop.afterLimitMs >= 299 && stop.afterLimitMs < 600, `${stop?.afterLimitMs} ms`);
});

test('a worker that dies (its V8 heap limit, in parse_xml) fails only its call; a new worker takes the next event', async (t) => {
  const fixture = luaFixture(t, SCRIPT, { keys: ['LuaTimeout=30s', 'LuaMemoryLimit=256MB'] });
  const handler = started(fixture);
  const dying = outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'js_heap' }));
  const behind = outcome(handler, delivery(actionEventXml('OnFinish', 'ev-behind')));
  assert.match(await dying, /^the Lua worker failed: .*memory limit/);
  assert.equal(await behind, 'delivered');
  assert.deepEqual(handler.stats(), { hardStops: [], restarts: 1 });
  assert.deepEqual(scriptLogs(fixture), ['info calls 1'], 'the replacement worker starts with fresh globals');
});

test('events queued behind a runaway script are run by the replacement worker, not failed', async (t) => {
  const handler = started(luaFixture(t, SCRIPT, { keys: ['LuaTimeout=200'] }));
  const runaway = outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'c_call' }));
  const behind = [1, 2, 3].map((i) => outcome(handler, delivery(actionEventXml('OnFinish', `ev-${i}`))));
  assert.match(await runaway, /its worker was terminated/);
  assert.deepEqual(await Promise.all(behind), ['delivered', 'delivered', 'delivered']);
});

test('the main thread stays responsive while a script loops: timers tick and an HTTP server answers', async (t) => {
  const handler = started(luaFixture(t, SCRIPT, { keys: ['LuaTimeout=1000'] }));
  const server = createServer((_req, res) => res.end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  t.after(() => clearInterval(timer));
  const looping = outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'loop' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const answers: string[] = [];
  for (let i = 0; i < 5; i++) answers.push(await (await fetch(url)).text());
  assert.deepEqual(answers, ['pong', 'pong', 'pong', 'pong', 'pong']);
  assert.match(await looping, /LuaTimeout of 1000 ms exceeded/);
  assert.ok(ticks >= 20, `the interval ticked ${ticks} times during a 1 s loop`);
});

test('an aborted delivery is rejected without waiting for the script', async (t) => {
  const handler = started(luaFixture(t, SCRIPT, { keys: ['LuaTimeout=1000'] }));
  const controller = new AbortController();
  const looping = handler.deliver(delivery(actionEventXml('OnFinish'), { mode: 'loop' }), controller.signal).catch((e: unknown) => e);
  setTimeout(() => controller.abort(), 50);
  const error = await looping;
  assert.ok(error instanceof DeliveryError);
  assert.equal(error.message, 'delivery aborted');
});

test('LuaWorkers runs a pool; all events of one action go to the same worker', async (t) => {
  const fixture = luaFixture(t, `seen = {}\nfunction handler(request, xml)\n  seen[#seen + 1] = request.n\n  log(#seen)\nend`, { keys: ['LuaWorkers=3'] });
  const handler = started(fixture);
  await Promise.all([1, 2, 3, 4].map((n) => handler.deliver(delivery(actionEventXml('OnFinish'), { n: String(n) }), NEVER)));
  assert.deepEqual(scriptLogs(fixture), ['info 1', 'info 2', 'info 3', 'info 4']);
});

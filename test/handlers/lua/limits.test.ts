import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../../../src/events/handler.js';
import { HARD_STOP_GRACE_MS } from '../../../src/events/handlers/lua/index.js';
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

test('a loop is stopped by LuaTimeout inside the engine, keeping the worker and its globals', async (t) => {
  const fixture = luaFixture(t, SCRIPT, { keys: ['LuaTimeout=250'] });
  const handler = started(fixture);
  const begin = performance.now();
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'loop' })), 'handler.lua:5: LuaTimeout of 250 ms exceeded');
  const ms = performance.now() - begin;
  assert.ok(ms >= 250 && ms < 1000, `stopped after ${ms.toFixed(0)} ms`);
  await handler.deliver(delivery(actionEventXml('OnFinish')), NEVER);
  assert.deepEqual(scriptLogs(fixture), ['info calls 2']);
  assert.equal(handler.stats().hardStops.length, 0);
});

test('a long C call the hook cannot interrupt is stopped by terminating the worker; a new worker takes the next event', async (t) => {
  const fixture = luaFixture(t, SCRIPT, { keys: ['LuaTimeout=200'] });
  const handler = started(fixture);
  const begin = performance.now();
  const message = await outcome(handler, delivery(actionEventXml('OnFinish'), { mode: 'c_call' }));
  const ms = performance.now() - begin;
  assert.match(message, /^LuaTimeout of 200 ms exceeded and the script did not stop .*its worker was terminated$/);
  assert.ok(ms < 200 + HARD_STOP_GRACE_MS + 400, `failed after ${ms.toFixed(0)} ms`);
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'))), 'delivered');
  const stats = handler.stats();
  assert.equal(stats.restarts, 1);
  const stop = stats.hardStops[0];
  assert.ok(stop);
  // Measured stop latency past LuaTimeout: the grace plus timer slack plus terminate() (~4 ms).
  t.diagnostic(`hard stop ${stop.afterLimitMs} ms after LuaTimeout (grace ${HARD_STOP_GRACE_MS} ms)`);
  assert.ok(stop.afterLimitMs >= HARD_STOP_GRACE_MS && stop.afterLimitMs < HARD_STOP_GRACE_MS + 300, `${stop.afterLimitMs} ms`);
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

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError } from '../../../src/events/handler.js';
import { NEVER, actionEventXml, delivery, luaFixture, started } from './helpers.js';

const TIMEOUT_MS = 300;
const MEMORY = 16 * 1024 * 1024;

/** One script with a probe per escape attempt, chosen by the request parameter `probe`. */
const PROBES = String.raw`
local probes = {}
probes.os_execute = function() return os.execute("echo pwned > /tmp/tocsin-pwned") end
probes.os_getenv = function() return os.getenv("HOME") end
probes.os_exit = function() return os.exit(1) end
probes.io_open = function() return io.open("/etc/passwd") end
probes.require = function() return require("os") end
probes.load_bytecode = function() return load("\27Lua\84\0\25\147\13\10\26\10", "x", "b") end
probes.dofile = function() return dofile("/etc/passwd") end
probes.string_dump = function() return string.dump(handler) end
probes.debug = function() return debug.getinfo(1) end
probes.collectgarbage = function() return collectgarbage("count") end
probes.pcall_loop = function() while true do pcall(function() while true do end end) end end
probes.xpcall_handler_loop = function()
  while true do xpcall(function() error("x") end, function() while true do end end) end
end
probes.finalizer_loop = function()
  setmetatable({}, { __gc = function() while true do end end })
  while true do local garbage = {} end
end
probes.string_rep = function() return #string.rep("x", 2^30) end
probes.recursion = function() local function f(n) return 1 + f(n + 1) end return f(1) end
probes.coroutine_loop = function()
  while true do
    local co = coroutine.create(function() while true do end end)
    coroutine.resume(co)
  end
end
probes.coroutine_wrap_loop = function()
  while true do pcall(coroutine.wrap(function() while true do end end)) end
end
probes.table_growth = function()
  local t = {}
  while true do t[#t + 1] = {} end
end
probes.kept_os = function()
  return type(os.time()) == "number" and type(os.clock()) == "number" and type(os.date("%Y")) == "string"
    and os.difftime(2, 1) == 1
end
probes.ok = function() return true end

function handler(request, xml)
  return (probes[request.probe])()
end
`;

interface ProbeLimits {
  readonly timeoutMs?: number;
  /** Keep the default LuaHardStopGrace (the probe expects its worker to be terminated). */
  readonly hardStop?: boolean;
}

/**
 * Probes the engine's own limit must stop get a long LuaHardStopGrace: on a loaded machine the engine
 * can stop a loop more than the default few ms past LuaTimeout, and the hard stop, winning that race,
 * would replace the engine's message with its own.
 */
const SOFT_LIMIT_GRACE = 'LuaHardStopGrace=2s';

function probeHandler(t: TestContext, { timeoutMs = TIMEOUT_MS, hardStop = false }: ProbeLimits = {}) {
  const keys = [`LuaTimeout=${timeoutMs}`, 'LuaMemoryLimit=16MB', ...(hardStop ? [] : [SOFT_LIMIT_GRACE])];
  return started(luaFixture(t, PROBES, { keys }));
}

/** Memory probes get a long time limit, so that on a loaded machine the memory limit comes first. */
const MEMORY_PROBE_TIMEOUT_MS = 10_000;

/** Runs a probe, expecting a retryable failure; then checks the same handler still works. */
async function expectStopped(t: TestContext, probe: string, expected: RegExp, limits: ProbeLimits = {}) {
  const handler = probeHandler(t, limits);
  // Workers start on the first delivery (~100-300 ms): not part of what is timed here.
  await handler.deliver(delivery(actionEventXml('OnFinish'), { probe: 'ok' }), NEVER);
  const started = performance.now();
  const error = await handler.deliver(delivery(actionEventXml('OnFinish'), { probe }), NEVER).then(
    () => assert.fail(`probe ${probe} was not stopped`),
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  assert.ok(error instanceof DeliveryError);
  assert.equal(error.retryable, true);
  assert.match(error.message, expected);
  await handler.deliver(delivery(actionEventXml('OnFinish'), { probe: 'ok' }), NEVER); // carries on
  return { message: error.message, ms, handler };
}

const nilCall = (what: string) => new RegExp(`^handler\\.lua:\\d+: attempt to (call|index) a nil value \\(${what}\\)$`);

test('os.execute is gone', async (t) => {
  await expectStopped(t, 'os_execute', nilCall("field 'execute'"));
});

test('os.getenv and os.exit are gone', async (t) => {
  await expectStopped(t, 'os_getenv', nilCall("field 'getenv'"));
  await expectStopped(t, 'os_exit', nilCall("field 'exit'"));
});

test('io.open is gone (no io library)', async (t) => {
  await expectStopped(t, 'io_open', nilCall("global 'io'"));
});

test('require, dofile, debug and collectgarbage are gone', async (t) => {
  await expectStopped(t, 'require', nilCall("global 'require'"));
  await expectStopped(t, 'dofile', nilCall("global 'dofile'"));
  await expectStopped(t, 'debug', nilCall("global 'debug'"));
  await expectStopped(t, 'collectgarbage', nilCall("global 'collectgarbage'"));
});

test('load of a bytecode string is impossible (no load)', async (t) => {
  await expectStopped(t, 'load_bytecode', nilCall("global 'load'"));
});

test('string.dump is gone', async (t) => {
  await expectStopped(t, 'string_dump', nilCall("field 'dump'"));
});

test('os.time, os.clock, os.date and os.difftime stay available', async (t) => {
  await probeHandler(t).deliver(delivery(actionEventXml('OnFinish'), { probe: 'kept_os' }), NEVER);
});

test('pcall around an endless loop cannot swallow the time limit', async (t) => {
  // This message comes from the engine's own limit; a hard stop would say the worker was terminated.
  await expectStopped(t, 'pcall_loop', /^handler\.lua:\d+: LuaTimeout of 300 ms exceeded$/);
});

test('an xpcall message handler that loops cannot swallow the time limit', async (t) => {
  await expectStopped(t, 'xpcall_handler_loop', /LuaTimeout of 300 ms exceeded$/);
});

test('a looping __gc finalizer (Lua turns hooks off there) is stopped by terminating the worker', async (t) => {
  const { ms, handler } = await expectStopped(t, 'finalizer_loop', /^LuaTimeout of 300 ms exceeded and the script did not stop .*its worker was terminated$/, {
    hardStop: true,
  });
  assert.ok(ms < TIMEOUT_MS + 1000, `in ${ms.toFixed(0)} ms`);
  t.diagnostic(`hard stop ${handler.stats().hardStops[0]?.afterLimitMs} ms after LuaTimeout`);
});

test('string.rep of 2^30 characters fails on the memory limit at once', async (t) => {
  const { ms } = await expectStopped(t, 'string_rep', new RegExp(`^LuaMemoryLimit of ${MEMORY} bytes exhausted`), { timeoutMs: MEMORY_PROBE_TIMEOUT_MS });
  assert.ok(ms < 1000, `in ${ms.toFixed(0)} ms`);
});

test('deep recursion is stopped (stack or memory limit)', async (t) => {
  await expectStopped(t, 'recursion', /stack overflow|LuaMemoryLimit of \d+ bytes exhausted/, { timeoutMs: MEMORY_PROBE_TIMEOUT_MS });
});

test('a loop inside a coroutine cannot escape the time limit through coroutine.resume', async (t) => {
  await expectStopped(t, 'coroutine_loop', /^handler\.lua:\d+: LuaTimeout of 300 ms exceeded$/);
});

test('a loop inside coroutine.wrap under pcall cannot escape the time limit', async (t) => {
  await expectStopped(t, 'coroutine_wrap_loop', /LuaTimeout of 300 ms exceeded$/);
});

test('a table grown without bound fails on the memory limit', async (t) => {
  await expectStopped(t, 'table_growth', new RegExp(`^LuaMemoryLimit of ${MEMORY} bytes exhausted`), { timeoutMs: MEMORY_PROBE_TIMEOUT_MS });
});

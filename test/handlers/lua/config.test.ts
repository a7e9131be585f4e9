import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { luaHandlerFactory } from '../../../src/events/handlers/lua/index.js';
import { NEVER, actionEventXml, delivery, fixtureFromConfig, luaFixture, outcome, problemsText, started, tempDir } from './helpers.js';

test('LibraryName is LuaHandler and the default policy is 3 retries 10 s apart', () => {
  assert.equal(luaHandlerFactory.libraryName, 'LuaHandler');
  assert.deepEqual(luaHandlerFactory.defaultPolicy, { retries: 3, retryIntervalMs: 10_000 });
});

test('a syntax error is a config error at the LuaScript line, naming the script path and the Lua line', (t) => {
  const fixture = luaFixture(t, 'function handler(request, xml)\n  local x = = 1\nend\n');
  assert.equal(fixture.handler, undefined);
  assert.equal(fixture.sink.problems.length, 1, problemsText(fixture.sink));
  const problem = fixture.sink.problems[0]!;
  assert.equal(problem.severity, 'error');
  assert.equal(problem.key, 'LuaScript');
  assert.equal(problem.file, join(fixture.dir, 'tocsin.cfg'));
  assert.equal(problem.line, 3);
  assert.equal(problem.message, `${fixture.scriptPath}: handler.lua:2: unexpected symbol near '='`);
});

test('check-config (start=false) still compile-checks the script', (t) => {
  const fixture = luaFixture(t, 'function handler(\n', { start: false });
  assert.equal(fixture.handler, undefined);
  assert.match(problemsText(fixture.sink), /handler\.lua:2: .*near <eof>/);
});

test('check-config (start=false) of a good script reports nothing and starts no worker', async (t) => {
  const fixture = luaFixture(t, 'function handler() end', { start: false });
  assert.equal(fixture.sink.problems.length, 0, problemsText(fixture.sink));
  const handler = fixture.handler;
  assert.ok(handler);
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'))), 'the Lua handler was not started');
});

test('a missing script file is a config error naming the path', (t) => {
  const dir = tempDir(t);
  const fixture = fixtureFromConfig(t, dir, join(dir, 'nope.lua'), ['[MyLua]', 'LibraryName=LuaHandler', 'LuaScript=nope.lua']);
  assert.equal(fixture.handler, undefined);
  assert.equal(fixture.sink.problems[0]?.message, `cannot read ${join(dir, 'nope.lua')}: ENOENT`);
});

test('a script without a handler function is a config error', (t) => {
  const fixture = luaFixture(t, 'function handle(request, xml) end\n');
  assert.equal(fixture.handler, undefined);
  assert.equal(fixture.sink.problems[0]?.message, `${fixture.scriptPath}: handler.lua: the script does not define a global function 'handler'`);
});

test('an error in the top level of the script is a config error with its line', (t) => {
  const fixture = luaFixture(t, 'local t = nil\nlocal x = t.field\nfunction handler() end\n');
  assert.equal(fixture.handler, undefined);
  assert.match(fixture.sink.problems[0]?.message ?? '', /handler\.lua:2: attempt to index a nil value \(local 't'\)$/);
});

test('an endless loop in the top level is stopped by LuaTimeout and reported', (t) => {
  const fixture = luaFixture(t, 'while true do end\nfunction handler() end\n', { keys: ['LuaTimeout=100'] });
  assert.equal(fixture.handler, undefined);
  assert.match(fixture.sink.problems[0]?.message ?? '', /handler\.lua:1: LuaTimeout of 100 ms exceeded$/);
});

test('a precompiled (bytecode) script is refused', (t) => {
  const dir = tempDir(t);
  const scriptPath = join(dir, 'compiled.lua');
  writeFileSync(scriptPath, Buffer.from('\x1bLua\x54\x00\x19\x93\r\n\x1a\n', 'latin1'));
  const fixture = fixtureFromConfig(t, dir, scriptPath, ['[MyLua]', 'LibraryName=LuaHandler', 'LuaScript=compiled.lua']);
  assert.equal(fixture.handler, undefined);
  assert.match(fixture.sink.problems[0]?.message ?? '', /attempt to load a binary chunk/);
});

test('a missing LuaScript key and bad limit values are reported with their lines', (t) => {
  const dir = tempDir(t);
  const fixture = fixtureFromConfig(t, dir, join(dir, 'x.lua'), [
    '[MyLua]',
    'LibraryName=LuaHandler',
    'LuaTimeout=soon',
    'LuaMemoryLimit=lots',
    'LuaWorkers=0',
    'LuaHardStopGrace=2m',
  ]);
  assert.equal(fixture.handler, undefined);
  const byKey = new Map(fixture.sink.problems.map((p) => [p.key, p]));
  assert.equal(byKey.get('LuaScript')?.severity, 'error');
  assert.equal(byKey.get('LuaTimeout')?.line, 3);
  assert.equal(byKey.get('LuaMemoryLimit')?.line, 4);
  assert.equal(byKey.get('LuaWorkers')?.line, 5);
  assert.equal(byKey.get('LuaHardStopGrace')?.line, 6);
  assert.match(byKey.get('LuaHardStopGrace')?.message ?? '', /longer than the maximum 60000 ms/);
});

test('LuaTimeout takes bare milliseconds or a unit; LuaMemoryLimit takes a byte size', async (t) => {
  const script = 'function handler() while true do end end';
  const fixture = luaFixture(t, script, { keys: ['LuaTimeout=1s', 'LuaMemoryLimit=8MB'] });
  assert.match(await outcome(started(fixture), delivery(actionEventXml('OnFinish'))), /LuaTimeout of 1000 ms exceeded/);
  const bare = luaFixture(t, script, { keys: ['LuaTimeout=150'] });
  assert.match(await outcome(started(bare), delivery(actionEventXml('OnFinish'))), /LuaTimeout of 150 ms exceeded/);
});

test('a LuaAllowedPaths entry that is not a directory is a warning, not an error', async (t) => {
  const fixture = luaFixture(t, 'function handler() end', { keys: ['LuaAllowedPaths=./missing-folder'] });
  assert.equal(fixture.sink.hasErrors, false);
  assert.equal(fixture.sink.problems[0]?.severity, 'warning');
  assert.match(fixture.sink.problems[0]?.message ?? '', /missing-folder is not a directory/);
  await started(fixture).deliver(delivery(actionEventXml('OnFinish')), NEVER);
});

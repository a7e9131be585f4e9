/**
 * Lua escape attempts through a whole running server (issue 16 part 4). test/handlers/lua/ tests
 * the sandbox and limits one handler at a time; this runs the attempts as a script author would,
 * from a LuaHandler of a real `tocsin serve`, all at once: a loop, unbounded allocation, recursion,
 * io, os.execute, os.getenv, require, load of bytecode, debug, string.dump, package.loadlib,
 * collectgarbage abuse, a hunt through every reachable table and metatable for a removed function,
 * metatable tricks on the globals and the string metatable, and append_file outside LuaAllowedPaths
 * through `..`, an absolute path, a symlinked folder and a symlinked file. None escapes (no
 * "ESCAPED", no file written outside), each fails its own delivery with the sandbox's message, and
 * the server keeps answering and delivering (the `ok` probe after all of them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventInfo } from '../helpers/events-server.js';
import { freePort, PROJECT_ROOT, spawnServer, tempDir, waitFor } from '../helpers/server.js';
import { writeFaultServerConfig } from '../helpers/fault-config.js';

const nil = (what: string) => new RegExp(`attempt to (call|index) a nil value \\(${what}\\)`);
const OUTSIDE = /outside LuaAllowedPaths/;
/** On a loaded machine the time limit (or the worker's hard stop) may come before the memory limit: both contain it. */
const STOPPED = /LuaMemoryLimit of \d+ bytes exhausted|not enough memory|stack overflow|LuaTimeout of 500 ms exceeded/;

/** Each probe and the sandbox's message that must stop it. */
const PROBES: Record<string, RegExp> = {
  loop: /LuaTimeout of 500 ms exceeded/,
  allocate: STOPPED,
  recurse: STOPPED,
  io_open: nil("global 'io'"),
  os_execute: nil("field 'execute'"),
  os_getenv: nil("field 'getenv'"),
  require: nil("global 'require'"),
  load_bytecode: nil("global 'load'"),
  debug: nil("global 'debug'"),
  string_dump: nil("field 'dump'"),
  package_loadlib: nil("global 'package'"),
  collectgarbage: nil("global 'collectgarbage'"),
  metatable_hunt: /contained: nothing removed is reachable/,
  metatable_index: /contained: /,
  append_dotdot: OUTSIDE,
  append_absolute: OUTSIDE,
  append_symlink_dir: OUTSIDE,
  append_symlink_file: /outside LuaAllowedPaths|is a symbolic link/,
};

test(`${Object.keys(PROBES).length} Lua escape attempts through a running server: none escapes, each fails its delivery, the server keeps serving`, { timeout: 180_000 }, async (t) => {
  const dir = tempDir('tocsin-lua-escapes-');
  const allowed = join(dir, 'allowed');
  const outside = join(dir, 'outside');
  mkdirSync(allowed);
  mkdirSync(outside);
  writeFileSync(join(outside, 'target.txt'), '');
  symlinkSync(outside, join(allowed, 'linked-dir'));
  symlinkSync(join(outside, 'target.txt'), join(allowed, 'linked-file'));
  copyFileSync(join(PROJECT_ROOT, 'test', 'faults', 'lua-escapes.lua'), join(dir, 'probes.lua'));
  const canary = join(outside, 'canary.txt');
  const configFile = writeFaultServerConfig(dir, {
    dataDirectory: join(dir, 'data'),
    actions: { MaximumThreads: 4, OnFinish: 'Probe' },
    sections: { Probe: { LibraryName: 'LuaHandler', LuaScript: 'probes.lua', LuaTimeout: 500, LuaMemoryLimit: '16MB', LuaAllowedPaths: allowed, Retries: 0 } },
  });
  const server = await spawnServer(configFile, await freePort(), 60_000);
  try {
    const tokens = new Map<string, string>();
    for (const probe of [...Object.keys(PROBES), 'ok']) {
      tokens.set(probe, await server.client.send('Sleep', { Seconds: '0', probe, canary, outside_name: 'outside/escaped.txt' }));
    }
    // Every delivery settles while the server goes on answering GetVersion.
    const rows = await waitFor(async () => {
      await server.client.call('GetVersion');
      const info = await eventInfo(server.client, { Handler: 'Probe', MaxResults: '1000' });
      return info.events.length === tokens.size && info.events.every((e) => e.state !== 'pending') ? info.events : undefined;
    }, 120_000, 50);
    const byToken = new Map(rows.map((r) => [r.token, r]));
    for (const [probe, expected] of Object.entries(PROBES)) {
      const row = byToken.get(tokens.get(probe));
      assert.equal(row?.state, 'failed', `${probe}: the delivery failed`);
      const message = row.last_error ?? '';
      t.diagnostic(`${probe}: ${message.slice(0, 160)}`);
      assert.doesNotMatch(message, /ESCAPED/, `${probe} escaped`);
      assert.match(message, expected, probe);
    }
    assert.equal(byToken.get(tokens.get('ok'))?.state, 'delivered', 'a well-behaved script still runs after every attempt');
    assert.equal(readFileSync(join(allowed, 'ok.txt'), 'utf8'), 'ok\n');
    assert.equal(existsSync(canary), false, 'nothing written outside');
    assert.equal(existsSync(join(outside, 'escaped.txt')), false);
    assert.equal(existsSync(join(dir, 'outside', 'outside')), false);
    assert.equal(readFileSync(join(outside, 'target.txt'), 'utf8'), '', 'the symlinked file is untouched');
    assert.equal(existsSync('/tmp/tocsin-pwned'), false);
  } finally {
    await server.kill9();
  }
});

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../src/config/load-settings.js';
import { nodeName } from '../../src/config/node-name.js';
import { formatProblem } from '../../src/config/problems.js';

/** Loads `text` as a config file in a temp folder. */
function load(t: TestContext, text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tocsin.cfg');
  writeFileSync(file, text);
  return loadSettings(file);
}

function errors(loaded: ReturnType<typeof loadSettings>): string[] {
  return loaded.sink.problems.filter((p) => p.severity === 'error').map(formatProblem);
}

test('NodeName: unset, the node is named by host name and the port it listens on', (t) => {
  const loaded = load(t, '[Server]\nPort=9100\n');
  assert.deepEqual(errors(loaded), []);
  assert.equal(loaded.settings.server.nodeName, undefined);
  // The listening port, not [Server] Port: Port=0 and --port choose it at start.
  assert.equal(nodeName(loaded.settings.server, 41234), `${hostname()}:41234`);
});

test('NodeName: a configured name is used as written', (t) => {
  const loaded = load(t, '[Server]\nNodeName=tocsin-a.example:9000 (rack 4)\n');
  assert.deepEqual(errors(loaded), []);
  assert.equal(loaded.settings.server.nodeName, 'tocsin-a.example:9000 (rack 4)');
  assert.equal(nodeName(loaded.settings.server, 41234), 'tocsin-a.example:9000 (rack 4)');
});

test('NodeName: longer than 255 characters, or with a control character, is an error at its line', (t) => {
  const long = load(t, `[Server]\nPort=9000\nNodeName=${'n'.repeat(256)}\n`);
  assert.equal(long.sink.problems.length, 1);
  assert.match(formatProblem(long.sink.problems[0]!), /tocsin\.cfg:3: error: \[Server\] NodeName: must be at most 255 characters.*\(CONFIG_VALUE\)$/);
  assert.equal(long.settings.server.nodeName, undefined);
  assert.equal(load(t, `[Server]\nNodeName=${'n'.repeat(255)}\n`).settings.server.nodeName?.length, 255);

  const tab = load(t, '[Server]\nNodeName=a\tb\n');
  assert.equal(tab.sink.problems[0]?.code, 'CONFIG_VALUE');
  assert.equal(tab.sink.problems[0]?.key, 'NodeName');
});

test('NodeLeaseTimeout: 15s by default; a bare number is seconds; other units as every duration', (t) => {
  assert.equal(load(t, '[Actions]\n').settings.actions.nodeLeaseTimeoutMs, 15_000);
  assert.equal(load(t, '[Actions]\nNodeLeaseTimeout=30\n').settings.actions.nodeLeaseTimeoutMs, 30_000);
  assert.equal(load(t, '[Actions]\nNodeLeaseTimeout=1500ms\n').settings.actions.nodeLeaseTimeoutMs, 1500);
  assert.equal(load(t, '[Actions]\nNodeLeaseTimeout=2m\n').settings.actions.nodeLeaseTimeoutMs, 120_000);
  assert.equal(load(t, '[Actions]\nNodeLeaseTimeout=1h\n').settings.actions.nodeLeaseTimeoutMs, 3_600_000);
});

test('NodeLeaseTimeout: below 1s, above 1h or not a duration is an error naming the key; the default stands', (t) => {
  for (const [value, reason] of [['999ms', /shorter than the minimum 1000 ms/], ['61m', /longer than the maximum 3600000 ms/], ['soon', /is not a duration/]] as const) {
    const loaded = load(t, `[Actions]\nNodeLeaseTimeout=${value}\n`);
    assert.equal(loaded.sink.problems.length, 1, value);
    const problem = loaded.sink.problems[0]!;
    assert.equal(problem.code, 'CONFIG_VALUE');
    assert.equal(problem.line, 2);
    assert.match(formatProblem(problem), /\[Actions\] NodeLeaseTimeout: /);
    assert.match(problem.message, reason);
    assert.equal(loaded.settings.actions.nodeLeaseTimeoutMs, 15_000);
  }
});

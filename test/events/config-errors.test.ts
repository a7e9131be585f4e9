/**
 * Handler config errors stop the start-up, each reported with file:line (decisions.md "Running
 * it"): an On* value naming no section, an unknown LibraryName, a TextFileHandler without
 * FilePath, a bad Retries. startServer rejects with CONFIG_INVALID; `tocsin check-config` prints
 * them and exits 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isTocsinError } from '../../src/common/errors.js';
import { startServer } from '../../src/server.js';
import { createMemoryLogger } from '../../src/common/logger.js';
import { PROJECT_ROOT, TOCSIN_BIN, tempDir, writeConfig } from '../helpers/server.js';

/** The config, and the line (1-based) of each bad key. */
function badConfig(dir: string): { text: string; lines: Record<string, number> } {
  const text = `[Server]
DataDirectory=${join(dir, 'data')}
ShutdownGrace=0

[Actions]
EnableTestActions=true
OnStart=Missing
OnFinish=BadLib,NoPath,BadRetries

[BadLib]
LibraryName=NoSuchHandler

[NoPath]
LibraryName=TextFileHandler

[BadRetries]
LibraryName=TextFileHandler
FilePath=${join(dir, 'events.log')}
Retries=lots
`;
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.startsWith(needle)) + 1;
  return {
    text,
    lines: {
      missing: lineOf('OnStart=Missing'),
      badLib: lineOf('LibraryName=NoSuchHandler'),
      noPath: lineOf('[NoPath]'),
      retries: lineOf('Retries=lots'),
    },
  };
}

/** Asserts that `output` names each problem with file:line. */
function assertListsEach(output: string, file: string, lines: Record<string, number>): void {
  const at = (line: number) => new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: error: .*`);
  const find = (line: number, what: RegExp) => output.split('\n').find((l) => at(line).test(l) && what.test(l));
  assert.ok(find(lines['missing']!, /\[Missing\].*does not exist/), `unknown handler section at :${lines['missing']}\n${output}`);
  assert.ok(find(lines['badLib']!, /NoSuchHandler.*not a handler library/), `unknown LibraryName at :${lines['badLib']}\n${output}`);
  assert.ok(find(lines['noPath']!, /FilePath/), `missing FilePath at :${lines['noPath']} (the section)\n${output}`);
  assert.ok(find(lines['retries']!, /Retries/), `bad Retries at :${lines['retries']}\n${output}`);
}

test('startServer rejects bad handler config with CONFIG_INVALID listing each problem with file:line', async () => {
  const dir = tempDir('tocsin-events-');
  const { text, lines } = badConfig(dir);
  const file = writeConfig(dir, text);
  const error = await startServer({ configFile: file, port: 0, logger: createMemoryLogger() }).then(
    () => assert.fail('the server started with a bad config'),
    (e: unknown) => e,
  );
  assert.ok(isTocsinError(error), String(error));
  assert.equal(error.code, 'CONFIG_INVALID');
  // Paths are printed relative to the working directory when inside it; a temp dir is outside.
  assertListsEach(error.message, file, lines);
});

test('tocsin check-config prints every handler config problem with file:line and exits 1', () => {
  const dir = tempDir('tocsin-events-');
  const { text, lines } = badConfig(dir);
  const file = writeConfig(dir, text);
  const run = spawnSync(process.execPath, [TOCSIN_BIN, 'check-config', file], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assertListsEach(run.stdout, file, lines);
  assert.match(run.stdout, /4 errors/);
});

test('tocsin check-config accepts a good handler config (exit 0)', () => {
  const dir = tempDir('tocsin-events-');
  const file = writeConfig(
    dir,
    `[Server]
DataDirectory=${join(dir, 'data')}

[Actions]
EnableTestActions=true
OnFinish=File,Hook

[File]
LibraryName=TextFileHandler
FilePath=${join(dir, 'events.log')}
Retries=5
RetryInterval=250ms

[Hook]
LibraryName=HttpHandler
URL=http://127.0.0.1:1/events
`,
  );
  const run = spawnSync(process.execPath, [TOCSIN_BIN, 'check-config', file], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /0 errors/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const HANDLER_MODULE = new URL('../../../src/events/handlers/lua/index.js', import.meta.url).href;
const LOGGER_MODULE = new URL('../../../src/common/logger.js', import.meta.url).href;

test('a pending delivery holds the process open; an idle handler, even unclosed, does not', (t) => {
  const dir = tempDir(t);
  const scriptPath = join(dir, 'slow.lua');
  writeFileSync(scriptPath, 'function handler() local t = os.clock() while os.clock() - t < 0.3 do end end');
  // Nothing but the handler can keep this program running once its top level is done.
  const program = join(dir, 'program.mjs');
  writeFileSync(
    program,
    `import { loadLuaHandler } from ${JSON.stringify(HANDLER_MODULE)};
import { silentLogger } from ${JSON.stringify(LOGGER_MODULE)};
const context = { log: silentLogger, dataDirectory: ${JSON.stringify(dir)}, send: async () => {}, readSection: () => undefined };
const options = { scriptPath: ${JSON.stringify(scriptPath)}, timeoutMs: 5000, hardStopGraceMs: 5, memoryLimit: 64 << 20, allowedPaths: [], workers: 2 };
const handler = loadLuaHandler(options, context, 'Slow', true);
const event = { id: 'e', type: 'OnFinish', handler: 'Slow', token: 'T', queue: 'Sleep', document: '<event/>', request: {}, attempt: 1 };
handler.deliver(event, new AbortController().signal).then(() => console.log('delivered'));
process.on('exit', () => console.log('exit'));
`,
  );
  const run = spawnSync(process.execPath, [program], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.signal, null, 'the process did not exit by itself');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'delivered\nexit\n');
});

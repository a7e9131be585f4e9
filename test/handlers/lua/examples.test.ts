import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NEVER, TOKEN, actionEventXml, delivery, fixtureFromConfig, queueEventXml, scriptLogs, started, tempDir } from './helpers.js';

/** examples/lua from dist/test/handlers/lua (and from test/handlers/lua under tsx). */
const EXAMPLES = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../../examples/lua/' : '../../../examples/lua/', import.meta.url));

function exampleFixture(t: Parameters<typeof tempDir>[0], script: string, keys: string[] = [], targets = {}) {
  const dir = tempDir(t);
  const scriptPath = join(EXAMPLES, script);
  const fixture = fixtureFromConfig(t, dir, scriptPath, ['[MyLua]', 'LibraryName=LuaHandler', `LuaScript=${scriptPath}`, ...keys], { targets });
  return { dir, fixture, handler: started(fixture) };
}

test('route_errors_to_webhook.lua POSTs a JSON summary of OnError events only', async (t) => {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const webhook = async (text: string) => {
    const res = await fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  };
  const { handler, fixture } = exampleFixture(t, 'route_errors_to_webhook.lua', [], { Webhook: webhook });
  await handler.deliver(delivery(actionEventXml('OnStart'), { action: 'Sleep' }), NEVER);
  await handler.deliver(delivery(actionEventXml('OnFinish'), { action: 'Sleep' }), NEVER);
  await handler.deliver(delivery(actionEventXml('OnError', 'ev-err'), { action: 'Sleep' }), NEVER);
  assert.equal(bodies.length, 1);
  assert.deepEqual(JSON.parse(bodies[0] ?? ''), {
    event: 'ev-err',
    action: 'Sleep',
    token: TOKEN,
    status: 'Error',
    error: 'command exited with status 3 & wrote <nothing>',
    server: 'localhost:9000',
  });
  assert.deepEqual(scriptLogs(fixture), [`info forwarded error of action ${TOKEN} to Webhook`]);
});

test('tally.lua keeps a count per status in a global and logs the totals', async (t) => {
  const { handler, fixture } = exampleFixture(t, 'tally.lua');
  for (const xml of [actionEventXml('OnStart'), actionEventXml('OnFinish'), actionEventXml('OnError'), actionEventXml('OnFinish'), queueEventXml('QueueFull')]) {
    await handler.deliver(delivery(xml), NEVER);
  }
  assert.deepEqual(scriptLogs(fixture), [
    'info tally Processing=1',
    'info tally Finished=1 Processing=1',
    'info tally Error=1 Finished=1 Processing=1',
    'info tally Error=1 Finished=2 Processing=1',
    'info tally Error=1 Finished=2 Processing=1 queue:QueueFull=1',
  ]);
});

test('csv_line.lua appends one CSV line per finished action inside LuaAllowedPaths', async (t) => {
  const dir = tempDir(t);
  const { handler } = exampleFixture(t, 'csv_line.lua', [`LuaAllowedPaths=${dir}`]);
  await handler.deliver(delivery(actionEventXml('OnStart'), { action: 'Sleep' }), NEVER);
  await handler.deliver(delivery(actionEventXml('OnFinish', 'ev-1'), { action: 'Sleep' }), NEVER);
  await handler.deliver(delivery(actionEventXml('OnError', 'ev-2'), { action: 'Fetch, "quoted"' }), NEVER);
  await handler.deliver(delivery(queueEventXml('QueueEmpty')), NEVER);
  assert.equal(
    readFileSync(join(dir, 'actions.csv'), 'utf8'),
    `ev-1,${TOKEN},Finished,Sleep,2026-Nov-29 14:02:10,2026-Nov-29 14:02:11,2026-Nov-29 14:02:13,1,2\n` +
      `ev-2,${TOKEN},Error,"Fetch, ""quoted""",2026-Nov-29 14:02:10,2026-Nov-29 14:02:11,2026-Nov-29 14:02:11,1,0\n`,
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { NEVER, actionEventXml, delivery, luaFixture, outcome, scriptLogs, started, tempDir } from './helpers.js';

const SEND_SCRIPT = `
function handler(request, xml)
  local ok = send(request.target, "event " .. parse_xml(xml).event.id .. " for " .. request.action)
  log("send returned", ok)
  return ok
end`;

test('send hands text to a file-writing handler section, with the event it belongs to', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'out', 'events.txt');
  const seenIds: string[] = [];
  const fixture = luaFixture(t, SEND_SCRIPT, {
    targets: {
      TextOut: async (text, event) => {
        mkdirSync(join(dir, 'out'), { recursive: true });
        appendFileSync(file, text + '\n');
        seenIds.push(event.id);
      },
    },
  });
  const handler = started(fixture);
  await handler.deliver(delivery(actionEventXml('OnFinish', 'ev-1'), { action: 'Sleep', target: 'TextOut' }), NEVER);
  await handler.deliver(delivery(actionEventXml('OnError', 'ev-2'), { action: 'Fetch', target: 'TextOut' }), NEVER);
  assert.equal(readFileSync(file, 'utf8'), 'event ev-1 for Sleep\nevent ev-2 for Fetch\n');
  assert.deepEqual(seenIds, ['ev-1', 'ev-2']);
  assert.deepEqual(scriptLogs(fixture), ['info send returned true', 'info send returned true']);
});

test('send POSTs through an HTTP handler section to a real receiver', async (t) => {
  const received: { body: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const handler = started(
    luaFixture(t, SEND_SCRIPT, {
      targets: {
        Webhook: async (text, event) => {
          const res = await fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'text/plain', 'x-event-id': event.id } });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
        },
      },
    }),
  );
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish', 'ev-9'), { action: 'Sleep', target: 'Webhook' })), 'delivered');
  assert.equal(received.length, 1);
  assert.equal(received[0]?.body, 'event ev-9 for Sleep');
  assert.equal(received[0]?.headers['x-event-id'], 'ev-9');
});

test('send raises a Lua error with the reason when the target section fails, failing the delivery', async (t) => {
  const handler = started(
    luaFixture(t, SEND_SCRIPT, {
      targets: {
        Broken: async () => {
          throw new Error('HTTP 503 from receiver');
        },
      },
    }),
  );
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { action: 'Sleep', target: 'Broken' })), 'handler.lua:3: send: HTTP 503 from receiver');
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { action: 'Sleep', target: 'Nowhere' })), 'handler.lua:3: send: no handler section named Nowhere');
});

test('a script can catch a send failure with pcall and carry on', async (t) => {
  const fixture = luaFixture(t, `
function handler(request, xml)
  local ok, err = pcall(send, "Nowhere", "text")
  log_warn("send failed:", ok, err)
end`);
  assert.equal(await outcome(started(fixture), delivery(actionEventXml('OnFinish'))), 'delivered');
  assert.deepEqual(scriptLogs(fixture), ['warn send failed: false send: no handler section named Nowhere']);
});

test('log, log_warn, log_error and print reach the server log at their levels with the handler name', async (t) => {
  const fixture = luaFixture(t, `
function handler(request, xml)
  log("count", 1, true, nil, 2.5)
  log_warn("careful")
  log_error("broken", {})
  print("via print")
end`);
  await started(fixture).deliver(delivery(actionEventXml('OnFinish')), NEVER);
  const logs = scriptLogs(fixture);
  assert.equal(logs[0], 'info count 1 true nil 2.5');
  assert.equal(logs[1], 'warn careful');
  assert.match(logs[2] ?? '', /^error broken table: 0x[0-9a-f]+$/);
  assert.equal(logs[3], 'info via print');
  const entry = JSON.parse(fixture.logLines.find((l) => l.includes('careful')) ?? '{}') as Record<string, unknown>;
  assert.equal(entry.handler, 'MyLua');
});

const APPEND_SCRIPT = `
function handler(request, xml)
  local ok = append_file(request.path, request.text) -- not a tail call: the error names this line
  return ok
end`;

test('append_file appends inside LuaAllowedPaths, relative paths in the first folder', async (t) => {
  const dir = tempDir(t);
  const allowed = join(dir, 'allowed');
  mkdirSync(join(allowed, 'sub'), { recursive: true });
  const handler = started(luaFixture(t, APPEND_SCRIPT, { keys: [`LuaAllowedPaths=${allowed}`] }));
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { path: 'log.csv', text: 'a,b\n' })), 'delivered');
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { path: 'log.csv', text: 'c,d\n' })), 'delivered');
  assert.equal(await outcome(handler, delivery(actionEventXml('OnFinish'), { path: join(allowed, 'sub', 'x.txt'), text: 'x' })), 'delivered');
  assert.equal(readFileSync(join(allowed, 'log.csv'), 'utf8'), 'a,b\nc,d\n');
  assert.equal(readFileSync(join(allowed, 'sub', 'x.txt'), 'utf8'), 'x');
});

test('append_file refuses paths outside LuaAllowedPaths: absolute, "..", symlinked folder, symlinked file', async (t) => {
  const dir = tempDir(t);
  const allowed = join(dir, 'allowed');
  const outside = join(dir, 'outside');
  mkdirSync(allowed);
  mkdirSync(outside);
  writeFileSync(join(outside, 'target.txt'), 'original');
  symlinkSync(outside, join(allowed, 'escape'));
  symlinkSync(join(outside, 'target.txt'), join(allowed, 'link.txt'));
  const handler = started(luaFixture(t, APPEND_SCRIPT, { keys: [`LuaAllowedPaths=${allowed}`] }));
  const attempt = (path: string) => outcome(handler, delivery(actionEventXml('OnFinish'), { path, text: 'pwned' }));
  assert.equal(await attempt(join(outside, 'a.txt')), `handler.lua:3: append_file: ${join(outside, 'a.txt')} is outside LuaAllowedPaths`);
  assert.equal(await attempt('../outside/b.txt'), 'handler.lua:3: append_file: ../outside/b.txt is outside LuaAllowedPaths');
  assert.equal(await attempt('escape/c.txt'), 'handler.lua:3: append_file: escape/c.txt is outside LuaAllowedPaths');
  assert.equal(await attempt('link.txt'), 'handler.lua:3: append_file: link.txt is a symbolic link');
  assert.equal(await attempt('/etc/passwd'), 'handler.lua:3: append_file: /etc/passwd is outside LuaAllowedPaths');
  assert.equal(readFileSync(join(outside, 'target.txt'), 'utf8'), 'original');
  assert.equal(existsSync(join(outside, 'a.txt')) || existsSync(join(outside, 'b.txt')) || existsSync(join(outside, 'c.txt')), false);
});

test('append_file without LuaAllowedPaths raises an error saying so', async (t) => {
  const handler = started(luaFixture(t, APPEND_SCRIPT));
  assert.equal(
    await outcome(handler, delivery(actionEventXml('OnFinish'), { path: 'x.txt', text: 'x' })),
    'handler.lua:3: append_file: no directory is allowed (set LuaAllowedPaths)',
  );
});

test('send and append_file are refused while the script loads (no event to send for)', async (t) => {
  const fixture = luaFixture(t, `send("X", "at load")\nfunction handler() end`);
  assert.equal(fixture.handler, undefined);
  assert.match(fixture.sink.problems[0]?.message ?? '', /handler\.lua:1: send: only available while handling an event/);
});

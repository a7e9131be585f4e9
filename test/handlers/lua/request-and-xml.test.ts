import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { EventType } from '../../../src/events/handler.js';
import { NEVER, TOKEN, actionEventXml, delivery, luaFixture, outcome, queueEventXml, started } from './helpers.js';

/** A script that sends back what it was given, as JSON: the request, the xml, and parse_xml(xml). */
const ECHO_SCRIPT = String.raw`
local function json(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif t ~= "table" then
    return '"<' .. t .. '>"'
  end
  if #v > 0 then
    local items = {}
    for i, item in ipairs(v) do items[i] = json(item) end
    return "[" .. table.concat(items, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  local items = {}
  for i, k in ipairs(keys) do items[i] = json(k) .. ":" .. json(v[k]) end
  return "{" .. table.concat(items, ",") .. "}"
end

function handler(request, xml)
  send("Capture", '{"request":' .. json(request) .. ',"xml":' .. json(xml) .. ',"parsed":' .. json(parse_xml(xml)) .. "}")
end
`;

interface Echo {
  request: Record<string, unknown>;
  xml: string;
  parsed: { event: Record<string, unknown> };
}

function echoFixture(t: TestContext) {
  const captured: Echo[] = [];
  const fixture = luaFixture(t, ECHO_SCRIPT, { targets: { Capture: async (text) => void captured.push(JSON.parse(text) as Echo) } });
  return { handler: started(fixture), captured };
}

const REQUEST = { action: 'Sleep', Seconds: '2', MyParam: 'Value', 'Mixed.Case_Name': 'Zoë ✓ a=b&c' };

for (const type of ['OnStart', 'OnFinish', 'OnError', 'OnErrorReport'] as const satisfies readonly EventType[]) {
  test(`${type}: handler gets the request parameters as sent and the event document unchanged`, async (t) => {
    const { handler, captured } = echoFixture(t);
    const xml = actionEventXml(type);
    assert.equal(await outcome(handler, delivery(xml, REQUEST)), 'delivered');
    const echo = captured[0];
    assert.ok(echo);
    assert.deepEqual(echo.request, REQUEST);
    assert.equal(echo.xml, xml);
    const event = echo.parsed.event;
    assert.equal(event.type, type);
    assert.equal(event.id, `ev-${type}`);
    assert.equal(event.server, 'localhost:9000');
    const action = event.action as Record<string, unknown>;
    assert.equal(action.token, TOKEN);
    assert.equal(action.status, { OnStart: 'Processing', OnFinish: 'Finished', OnError: 'Error', OnErrorReport: 'Processing' }[type]);
    assert.equal(action.time_in_queue, '1', 'numbers stay strings');
  });
}

test('parse_xml: repeated elements become a sequence and attributes go under _attr', async (t) => {
  const { handler, captured } = echoFixture(t);
  await handler.deliver(delivery(actionEventXml('OnFinish'), REQUEST), NEVER);
  const action = captured[0]?.parsed.event.action as Record<string, unknown>;
  assert.deepEqual(action.documentcounts, {
    documentcount: [
      { _attr: { errors: '0', seen: '3', task: 'MYTASK' } },
      { _attr: { errors: '1', seen: '5', task: 'OTHER' } },
    ],
  });
  assert.equal(action.fetchaction, 'IDENTIFIERS');
  assert.equal(action.process_end_time, '2026-Nov-29 14:02:13');
});

test('parse_xml: the OnError text arrives with its entities decoded', async (t) => {
  const { handler, captured } = echoFixture(t);
  await handler.deliver(delivery(actionEventXml('OnError'), REQUEST), NEVER);
  const action = captured[0]?.parsed.event.action as Record<string, unknown>;
  assert.equal(action.error, 'command exited with status 3 & wrote <nothing>');
});

for (const kind of ['QueueFull', 'QueueFilling', 'QueueEmptying', 'QueueEmpty'] as const) {
  test(`OnQueueEvent ${kind}: the request table is empty and the queue fields parse`, async (t) => {
    const { handler, captured } = echoFixture(t);
    const xml = queueEventXml(kind);
    assert.equal(await outcome(handler, delivery(xml)), 'delivered');
    const echo = captured[0];
    assert.ok(echo);
    assert.deepEqual(echo.request, {});
    assert.equal(echo.xml, xml);
    const expected: Record<string, string> = { queuename: 'Sleep', queueEventType: kind, maxQueueSize: '10' };
    if (kind !== 'QueueEmpty') expected.queueSize = kind === 'QueueFull' ? '10' : '7';
    assert.deepEqual(echo.parsed.event.queueevent, expected);
    assert.equal(echo.parsed.event.action, undefined);
  });
}

test('parse_xml: an empty element is an empty string and mixed content keeps its text under _text', async (t) => {
  const { handler, captured } = echoFixture(t);
  await handler.deliver(delivery('<event><type>OnFinish</type><empty/><note lang="en">hello <b>x</b></note></event>'), NEVER);
  const event = captured[0]?.parsed.event;
  assert.equal(event?.empty, '');
  assert.deepEqual(event?.note, { _attr: { lang: 'en' }, _text: 'hello', b: 'x' });
});

const PARSE_ERROR_SCRIPT = `
function handler(request, xml)
  local ok, err = pcall(parse_xml, request.doc)
  error(err, 0)
end`;

test('parse_xml refuses a DOCTYPE with entity declarations', async (t) => {
  const handler = started(luaFixture(t, PARSE_ERROR_SCRIPT));
  const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>';
  assert.match(await outcome(handler, delivery(actionEventXml('OnFinish'), { doc: bomb })), /parse_xml: DOCTYPE and ENTITY declarations are not allowed/);
  const xxe = '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>';
  assert.match(await outcome(handler, delivery(actionEventXml('OnFinish'), { doc: xxe })), /DOCTYPE and ENTITY declarations are not allowed/);
});

test('parse_xml raises an error naming the line of malformed XML', async (t) => {
  const handler = started(luaFixture(t, PARSE_ERROR_SCRIPT));
  const message = await outcome(handler, delivery(actionEventXml('OnFinish'), { doc: '<event>\n<type>OnFinish</typo>\n</event>' }));
  assert.match(message, /^parse_xml: line 2, column \d+: .*closing tag/);
});

-- route_errors_to_webhook.lua: forward failed actions to a webhook, as a small JSON message.
--
-- Wiring (tocsin.cfg):
--   [Actions]
--   OnError=ErrorsToWebhook
--   [ErrorsToWebhook]
--   LibraryName=LuaHandler
--   LuaScript=route_errors_to_webhook.lua
--   [Webhook]
--   LibraryName=HttpHandler
--   URL=https://hooks.example.com/tocsin
--
-- API used (see README.md in this folder):
--   handler(request, xml)   called once per event; request = the action's request parameters
--                           (names as sent), xml = the event document
--   parse_xml(xml)          the document as nested tables: doc.event.action.status
--   send(section, text)     hands text to another handler section (here an HttpHandler, which
--                           POSTs it); returns true or raises an error, which fails this delivery
--                           so the event is retried
--   return false            also fails the delivery; any other return value means delivered
--
-- The script filters on the event type itself, so it may also be wired to OnFinish or OnStart:
-- only OnError events are forwarded.

WEBHOOK_SECTION = "Webhook"

local function json_string(s)
  s = tostring(s or "")
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

function handler(request, xml)
  local event = parse_xml(xml).event
  if event.type ~= "OnError" then return true end
  local action = event.action or {}
  local body = "{"
    .. '"event":' .. json_string(event.id) .. ","
    .. '"action":' .. json_string(request.action or request.Action) .. ","
    .. '"token":' .. json_string(action.token) .. ","
    .. '"status":' .. json_string(action.status) .. ","
    .. '"error":' .. json_string(action.error) .. ","
    .. '"server":' .. json_string(event.server)
    .. "}"
  send(WEBHOOK_SECTION, body)
  log("forwarded error of action", action.token, "to", WEBHOOK_SECTION)
  return true
end

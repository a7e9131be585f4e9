-- tally.lua: count events per action status (and queue events per type) and log the running totals.
--
-- Wiring (tocsin.cfg):
--   [Actions]
--   OnStart=Tally
--   OnFinish=Tally
--   OnError=Tally
--   OnQueueEvent=Tally
--   [Tally]
--   LibraryName=LuaHandler
--   LuaScript=tally.lua
--
-- API used (see README.md in this folder):
--   handler(request, xml)   called once per event; xml = the event document
--   parse_xml(xml)          the document as nested tables: doc.event.action.status, or for queue
--                           events doc.event.queueevent.queueEventType
--   log(...)                writes one line (its arguments joined by spaces) to the server log
--
-- Globals live as long as the worker that runs the script: `counts` keeps growing across events.
-- With LuaWorkers=N each worker has its own Lua state, so each keeps its own tally; keep the
-- default LuaWorkers=1 for one total. A worker replaced after a runaway script starts from zero.

counts = {}

local function summary()
  local keys = {}
  for status in pairs(counts) do keys[#keys + 1] = status end
  table.sort(keys)
  local parts = {}
  for i, status in ipairs(keys) do parts[i] = status .. "=" .. counts[status] end
  return table.concat(parts, " ")
end

function handler(request, xml)
  local event = parse_xml(xml).event
  local key
  if event.action then
    key = event.action.status
  elseif event.queueevent then
    key = "queue:" .. event.queueevent.queueEventType
  end
  key = key or "unknown"
  counts[key] = (counts[key] or 0) + 1
  log("tally", summary())
end

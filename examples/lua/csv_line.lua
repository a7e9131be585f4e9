-- csv_line.lua: append one CSV line per finished action: token, status, queued/start/end times and
-- the seconds spent queued and processing.
--
-- Wiring (tocsin.cfg):
--   [Actions]
--   OnFinish=ActionsCsv
--   OnError=ActionsCsv
--   [ActionsCsv]
--   LibraryName=LuaHandler
--   LuaScript=csv_line.lua
--   LuaAllowedPaths=./reports
--
-- API used (see README.md in this folder):
--   handler(request, xml)    called once per event; xml = the event document
--   parse_xml(xml)           the document as nested tables: doc.event.action.token, ...
--   append_file(path, text)  appends text to a file inside a LuaAllowedPaths folder; a relative
--                            path is taken inside the first folder listed. Anything else (an
--                            absolute path elsewhere, "..", a symlink out) raises an error.
--
-- Each append_file call is one write, so a line is never split even when several handlers write
-- the same file. Delivery is at least once: after a retry the same line can appear twice, with the
-- same event id (the first column) to tell them apart.

CSV_FILE = "actions.csv"

local function field(value)
  value = tostring(value or "")
  if value:find('[",\r\n]') then value = '"' .. value:gsub('"', '""') .. '"' end
  return value
end

function handler(request, xml)
  local event = parse_xml(xml).event
  local action = event.action
  if not action then return true end -- queue events carry no action
  local status = action.status
  if status ~= "Finished" and status ~= "Error" and status ~= "Stopped" then return true end
  local columns = {
    event.id, action.token, status, request.action or request.Action,
    action.queued_time, action.process_start_time, action.process_end_time,
    action.time_in_queue, action.time_processing,
  }
  local line = {}
  -- A fixed count, not #columns: a missing value (nil) would end the sequence early.
  for i = 1, 9 do line[i] = field(columns[i]) end
  append_file(CSV_FILE, table.concat(line, ",") .. "\n")
  return true
end

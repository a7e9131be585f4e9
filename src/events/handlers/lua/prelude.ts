/**
 * The Lua code run in every engine before the user's script: it builds the sandbox and the script API
 * (decisions.md "Handlers": no `os`, `io`, `require`, `load`, `debug`; `log`, `parse_xml`, `send`,
 * `append_file`). It receives the host functions as its one argument and keeps them in locals, so a
 * script can reach them only through the checked wrappers (upvalues are out of reach without `debug`).
 *
 * Why `pcall`, `xpcall`, `coroutine.resume` and `coroutine.close` are wrapped: the time-limit hook
 * raises an ordinary Lua error, and `while true do pcall(function() while true do end end) end` caught
 * it and ran on past the deadline in wasmoon (dependencies.md §1, "Bypass"). The wrappers hand the
 * error straight back when the deadline has passed or the error is the out-of-memory one, so neither
 * limit can be swallowed. Coroutines inherit the hook from the thread that creates them
 * (lua_newthread copies it), so a loop inside a coroutine is stopped the same way.
 */
export const PRELUDE_CHUNK = '=sandbox';

export const PRELUDE = String.raw`
local host = ...
local error, type, select, tostring, tconcat = error, type, select, tostring, table.concat
local real_pcall, real_xpcall = pcall, xpcall
local co_resume, co_close = coroutine.resume, coroutine.close
local expired, host_log, host_send, host_append, host_parse =
  host.expired, host.log, host.send, host.append_file, host.parse_xml
local NO_MEMORY = "not enough memory"

-- expired() is nil within the time limit, else the limit's message.
local function pass(ok, ...)
  if not ok then
    local e = ...
    if e == NO_MEMORY then error(e, 0) end
    local late = expired()
    if late then
      -- Usually e is the hook's own message; but an xpcall handler stopped by the hook leaves
      -- "error in error handling", so say what really happened.
      if type(e) == "string" and e:find(late, 1, true) then error(e, 0) end
      error(late, 2)
    end
  end
  return ok, ...
end
pcall = function(f, ...) return pass(real_pcall(f, ...)) end
-- Lua runs a message handler for an error raised from a hook with hooks still off (luaD_hook never
-- got to turn them back on), so a looping handler would never be stopped by the time limit: once
-- the limit has passed, the user's handler is skipped.
xpcall = function(f, h, ...)
  if type(h) ~= "function" then return real_xpcall(f, h, ...) end
  return pass(real_xpcall(f, function(e) if expired() then return e end return h(e) end, ...))
end
coroutine.resume = function(co, ...) return pass(co_resume(co, ...)) end
coroutine.close = function(co) return pass(co_close(co)) end

io, require, package, load, loadfile, dofile, debug, collectgarbage, warn = nil
string.dump = nil
local os_time, os_clock, os_date, os_difftime = os.time, os.clock, os.date, os.difftime
os = { time = os_time, clock = os_clock, date = os_date, difftime = os_difftime }

local function join(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  return tconcat(parts, " ")
end
function log(...) host_log("info", join(...)) end
function log_warn(...) host_log("warn", join(...)) end
function log_error(...) host_log("error", join(...)) end
print = log

local function text_arg(value, n, fname)
  local t = type(value)
  if t == "string" then return value end
  if t == "number" then return tostring(value) end
  error(("bad argument #%d to '%s' (string expected, got %s)"):format(n, fname, t), 3)
end

function send(section, text)
  local err = host_send(text_arg(section, 1, "send"), text_arg(text, 2, "send"))
  if err then error("send: " .. err, 2) end
  return true
end

function append_file(path, text)
  local err = host_append(text_arg(path, 1, "append_file"), text_arg(text, 2, "append_file"))
  if err then error("append_file: " .. err, 2) end
  return true
end

function parse_xml(xml)
  local result = host_parse(text_arg(xml, 1, "parse_xml"))
  if type(result) == "string" then error("parse_xml: " .. result, 2) end
  return result
end
`;

-- Escape attempts for test/faults/lua-escapes.test.ts. Each probe is chosen by the request
-- parameter `probe`. A probe that gets hold of something the sandbox should not give raises
-- "ESCAPED: ..."; otherwise the sandbox stops it with its own error.
local probes = {}

probes.loop = function() while true do end end
probes.allocate = function()
  local t = {}
  while true do t[#t + 1] = string.rep("x", 4096) .. #t end
end
probes.recurse = function()
  local function f(n) return 1 + f(n + 1) end
  return f(1)
end
probes.io_open = function(c) local f = io.open(c.canary, "w"); f:write("x"); f:close(); error("ESCAPED: io.open") end
probes.os_execute = function(c) os.execute("touch " .. c.canary); error("ESCAPED: os.execute") end
probes.os_getenv = function() error("ESCAPED: os.getenv gave " .. tostring(os.getenv("HOME"))) end
probes.require = function() local m = require("io"); error("ESCAPED: require gave " .. tostring(m)) end
probes.load_bytecode = function()
  local chunk = load("\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64\1", "x", "b")
  error("ESCAPED: load gave " .. tostring(chunk))
end
probes.debug = function() debug.sethook(); error("ESCAPED: debug") end
probes.string_dump = function() local s = string.dump(handler); error("ESCAPED: string.dump gave " .. #s .. " bytes") end
probes.package_loadlib = function()
  local f = package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")
  error("ESCAPED: package.loadlib gave " .. tostring(f))
end
probes.collectgarbage = function()
  collectgarbage("stop")
  collectgarbage("setpause", 1000)
  local t = {}
  while true do t[#t + 1] = {} end
end
-- Walks everything reachable from the globals and the string metatable, metatables included,
-- looking for a function the sandbox removed.
probes.metatable_hunt = function()
  local forbidden = { execute = 1, popen = 1, open = 1, loadlib = 1, dump = 1, load = 1, loadstring = 1, dofile = 1,
    loadfile = 1, require = 1, getenv = 1, remove = 1, rename = 1, tmpname = 1, exit = 1, sethook = 1,
    getupvalue = 1, setupvalue = 1, getregistry = 1, collectgarbage = 1, getinfo = 1 }
  local seen = {}
  local function walk(v, path, depth)
    local tv = type(v)
    if depth > 8 or (tv ~= "table" and tv ~= "string" and tv ~= "userdata") or seen[v] then return end
    seen[v] = true
    local mt = getmetatable(v)
    if mt ~= nil then walk(mt, path .. "<mt>", depth + 1) end
    if tv == "table" then
      for k, x in pairs(v) do
        -- table.remove is the table library's own; os.remove is the one that must be gone.
        if type(x) == "function" and forbidden[k] and not (v == table and k == "remove") then error("ESCAPED: " .. path .. "." .. tostring(k)) end
        walk(x, path .. "." .. tostring(k), depth + 1)
      end
    end
  end
  walk(_G, "_G", 0)
  walk(_ENV, "_ENV", 0)
  walk("", "(string)", 0)
  error("contained: nothing removed is reachable")
end
-- Metatable tricks on the sandbox itself: a global __index that conjures names, and a rewritten
-- string metatable; neither brings back a removed library.
probes.metatable_index = function(c)
  setmetatable(_G, { __index = function(_, k) return rawget(_G, "_" .. k) end })
  getmetatable("").__index = setmetatable({}, { __index = function(_, k) return rawget(_G, k) end })
  local ok, opened = pcall(function() return io.open(c.canary, "w") end)
  if ok and opened then error("ESCAPED: io through a metatable") end
  setmetatable(_G, nil)
  getmetatable("").__index = string
  error("contained: " .. tostring(opened))
end
probes.append_dotdot = function(c) append_file("../" .. c.outside_name, "x") error("ESCAPED: append_file ..") end
probes.append_absolute = function(c) append_file(c.canary, "x") error("ESCAPED: append_file absolute") end
probes.append_symlink_dir = function() append_file("linked-dir/escaped.txt", "x") error("ESCAPED: append_file symlinked folder") end
probes.append_symlink_file = function() append_file("linked-file", "x") error("ESCAPED: append_file symlinked file") end
probes.ok = function() append_file("ok.txt", "ok\n") return true end

function handler(request, xml)
  return probes[request.probe](request)
end

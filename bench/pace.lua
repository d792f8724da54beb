-- pace.lua -- the open-loop schedule that serve_ingest.lua and serve_read.lua
-- share (loaded with dofile from the repository's top, where the benches run
-- wrk).  It returns make(interval_ms, on_late, drop_after_ms): a delay()
-- function for wrk that makes a thread's k-th request due k*interval_ms after
-- its first, measured on the monotonic clock through LuaJIT's ffi (os.clock is
-- CPU time, os.time whole seconds).  on_late(ms), when given, is called for a
-- request sent more than wrk's 1 ms tick after its due time; drop_after_ms,
-- when given, restarts the schedule from now once it is that far behind (a
-- backlog is dropped rather than sent in one burst).
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } tn_timespec; int clock_gettime(int, tn_timespec *); ]]
local ts = ffi.new("tn_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

return function(interval, on_late, drop_after)
  local due
  return function()
    local t = now_ms()
    due = (due or t) + interval
    if drop_after and due < t - drop_after then due = t end
    if on_late and due < t - 1 then on_late(t - due) end
    return due > t and math.floor(due - t) or 0
  end
end

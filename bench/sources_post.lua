-- sources_post.lua -- wrk script for bench/bench_sources.sh: POST pre-signed
-- notifications, one line of $BODIES per request, to $ROUTE.  For stripe a
-- line is SIGNATURE<TAB>BODY (the Stripe-Signature header and the body).
-- Thread k of $WRK_THREADS sends lines k+1, k+1+T, k+1+2T, ... so no two
-- threads send the same body.  The requests are formatted once, in init
-- (before wrk's clock starts), and no response() callback is set: per
-- request wrk then only hands over a prepared string and counts the answer,
-- so the load generator takes as little of the shared CPU as it can
-- (a Lua request()/response() per request cost wrk about as much CPU as
-- the server spent on the request).  Non-2xx answers are wrk's own count
-- (summary.errors.status).
local reqs, idx, n = {}, 0, 0
local route, file, kind = os.getenv("ROUTE"), os.getenv("BODIES"), os.getenv("KIND")
local nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
local count, threads = 0, {}
function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  local i, me = 0, tid or 0
  for l in io.lines(file) do
    if i % nthreads == me then
      local headers = {["Content-Type"] = "application/json"}
      if kind == "stripe" then
        local tab = string.find(l, "\t", 1, true)
        headers["Stripe-Signature"] = string.sub(l, 1, tab - 1)
        l = string.sub(l, tab + 1)
      end
      reqs[#reqs + 1] = wrk.format("POST", route, headers, l)
    end
    i = i + 1
  end
  n = #reqs
  inited = os.clock() -- the process's CPU seconds once this thread's bodies are ready
end
function request()
  idx = idx + 1
  if idx > n then idx = 1 end
  return reqs[idx]
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  -- wrk's own CPU during the run: the process's CPU now less what it had
  -- spent when the last thread had formatted its requests
  local t0 = 0
  for _, t in ipairs(threads) do t0 = math.max(t0, t:get("inited") or 0) end
  local cpu = os.clock() - t0
  io.write(string.format("%s: %d requests in %.1f s = %.0f verified notifications/s; non-2xx: %d, socket errors: %d; " ..
    "latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n", kind, summary.requests, secs,
    summary.requests / secs, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
  io.write(string.format("%s load generator CPU during the run: %.2f s = %.0f us per request (wrk, %d threads)\n",
    kind, cpu, summary.requests > 0 and 1e6 * cpu / summary.requests or 0, nthreads))
end

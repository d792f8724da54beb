-- serve_read.lua -- wrk script: GET /v1/customers/{id} for random demo customers.
-- Env: TENURE_KEY (a read key), CUSTOMERS (default 50000), ORDER=seq: each
-- customers in order, round and round (bench_serve.sh's warm-up: one thread,
-- stopped with SIGINT once every customer has been read).
-- The CUSTOMERS requests are formatted once, in init (before wrk's clock
-- starts); request() only picks one at random, and no response() callback is
-- set, so the load generator takes as little of the shared CPU as it can.
-- RATE (requests/s, all threads together; WRK_THREADS: wrk's -t, default 1)
-- makes it open-loop, as serve_ingest.lua's RATE: each thread's k-th request
-- is due k*WRK_THREADS/RATE seconds after its first, sent by whichever
-- connection is free (CONNS: enough that one always is).  wrk times a request
-- from its send, so a request sent after its due time (no connection free)
-- would hide that wait (coordinated omission): delay() counts those sends and
-- their worst lateness, and done() prints them beside the latency; the
-- percentiles are the schedule's own when that count is 0.  wrk's delay is in
-- whole milliseconds: the requests of one millisecond leave together (20 at
-- 20,000/s), a burst the percentiles include.
local key = os.getenv("TENURE_KEY")
local customers = tonumber(os.getenv("CUSTOMERS") or "50000")
local reqs = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local h = {["Authorization"] = "Bearer " .. key}
  for i = 1, customers do
    reqs[i] = wrk.format("GET", string.format("/v1/customers/C%06d", i), h)
  end
  inited = os.clock() -- the process's CPU seconds once this thread's requests are ready
end

local seq, next_i = os.getenv("ORDER") == "seq", 0, 0
local rate = tonumber(os.getenv("RATE") or "0")
late_n, late_max, sent = 0, 0, 0 -- globals of the thread's state: done() reads them with thread:get
if rate > 0 then
  local paced = dofile("bench/pace.lua")(1000 * tonumber(os.getenv("WRK_THREADS") or "1") / rate, -- ms
    function(behind) -- sent behind schedule by more than wrk's 1 ms tick
      late_n = late_n + 1
      if behind > late_max then late_max = behind end
    end)
  function delay()
    sent = sent + 1
    return paced()
  end
end
function request()
  if seq then
    next_i = next_i % customers + 1
    return reqs[next_i]
  end
  return reqs[math.random(1, customers)]
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local t0 = 0
  for _, t in ipairs(threads) do t0 = math.max(t0, t:get("inited") or 0) end
  local cpu = os.clock() - t0
  io.write(string.format("reads: %d requests (%d failed) in %.1f s = %.0f req/s; latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms\n",
    summary.requests, bad, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
  if rate > 0 then
    local n, m, k = 0, 0, 0
    for _, t in ipairs(threads) do
      n = n + (t:get("late_n") or 0); k = k + (t:get("sent") or 0); m = math.max(m, t:get("late_max") or 0)
    end
    io.write(string.format("reads paced at %d req/s (open loop): achieved %.0f req/s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
      rate, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
    io.write(string.format("reads paced: %d of %d requests sent more than 1 ms behind schedule (%.3f%%), worst %.1f ms (the latencies above leave that wait out)\n",
      n, k, k > 0 and 100 * n / k or 0, m))
  end
  io.write(string.format("reads load generator CPU during the run: %.2f s = %.1f us per request (wrk, %d threads)\n",
    cpu, summary.requests > 0 and 1e6 * cpu / summary.requests or 0, #threads))
end

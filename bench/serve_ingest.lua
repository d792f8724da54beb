-- serve_ingest.lua -- wrk script: POST /v1/events with BATCH new events per
-- request (unique ids per thread and request), customers drawn from the demo.
-- Env: TENURE_KEY (an ingest key), BATCH (default 500), CUSTOMERS (50000);
-- RATE (events/s, all threads together; WRK_THREADS: wrk's -t, default 1)
-- paces the requests on a fixed schedule: each thread's k-th request is due
-- k*BATCH*WRK_THREADS/RATE seconds after its first (wall clock through
-- LuaJIT's ffi), whichever connection is free to send it, so the rate is
-- RATE as long as some connection is free (CONNS: enough of them that one
-- always is, since a write waits for its group commit); a thread behind its
-- schedule sends at once (and drops a backlog of more than a second).
local key = os.getenv("TENURE_KEY")
local batch = tonumber(os.getenv("BATCH") or "500")
local customers = tonumber(os.getenv("CUSTOMERS") or "50000")
local rate = tonumber(os.getenv("RATE") or "0")
local conns = tonumber(os.getenv("CONNS") or "1")
local run = os.getenv("RUN") or tostring(os.time()) -- ids unique across runs
local threads = {}
local counter = 0
-- tid: set per thread by setup() (a global of the thread's state; a local
-- here would shadow it and give every thread the same ids and random draws,
-- so half the events would be duplicates)

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  tid = tid or 0
  math.randomseed(tid * 7919 + os.time())
end

if rate > 0 then -- a backlog of more than a second is dropped
  delay = dofile("bench/pace.lua")(1000 * batch * tonumber(os.getenv("WRK_THREADS") or "1") / rate, nil, 1000) -- ms
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, batch do
    parts[i] = string.format('{"customer":"C%06d","occurred_at":%d,"type":"bench","id":"%s-%d-%d-%d"}',
      math.random(1, customers), 1700000000 + math.random(0, 86400 * 300), run, tid, counter, i)
  end
  return wrk.format("POST", "/v1/events",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"},
    "[" .. table.concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("ingest: %d requests (%d failed) in %.1f s = %.0f events/s; latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms\n",
    summary.requests, bad, secs, (summary.requests - bad) * batch / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end

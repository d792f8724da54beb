-- serve_read.lua -- wrk script: GET /v1/customers/{id} for random demo customers.
-- Env: TENURE_KEY (a read key), CUSTOMERS (default 50000), ORDER=seq: each
-- customers in order, round and round (bench_serve.sh's warm-up: one thread,
-- stopped with SIGINT once every customer has been read).
-- The CUSTOMERS requests are formatted once, in init (before wrk's clock
-- starts); request() only picks one at random, and no response() callback is
-- set, so the load generator takes as little of the shared CPU as it can.
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
  io.write(string.format("reads load generator CPU during the run: %.2f s = %.1f us per request (wrk, %d threads)\n",
    cpu, summary.requests > 0 and 1e6 * cpu / summary.requests or 0, #threads))
end

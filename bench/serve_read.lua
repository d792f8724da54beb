-- serve_read.lua -- wrk script: GET /v1/customers/{id} for random demo customers.
-- Env: TENURE_KEY (a read key), CUSTOMERS (default 50000).
local key = os.getenv("TENURE_KEY")
local customers = tonumber(os.getenv("CUSTOMERS") or "50000")

function request()
  return wrk.format("GET", string.format("/v1/customers/C%06d", math.random(1, customers)),
    {["Authorization"] = "Bearer " .. key})
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("reads: %d requests (%d failed) in %.1f s = %.0f req/s; latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms\n",
    summary.requests, bad, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end

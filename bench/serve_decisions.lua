-- serve_decisions.lua -- wrk script: POST /v1/decisions for random demo
-- customers at random moments, paced: each connection waits DELAY_MS
-- (jittered +-50%) between requests, so C connections offer about
-- C x 1000 / DELAY_MS requests a second (DELAY_MS=0: as fast as possible).
-- Env: TENURE_KEY (an ingest key), CUSTOMERS (50000), DELAY_MS (10).
local key = os.getenv("TENURE_KEY")
local customers = tonumber(os.getenv("CUSTOMERS") or "50000")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")
local moments = {"cancel", "auto_renew_off", "session", "renewal_due"}
local tid = 0
local n = 0

function setup(thread)
  n = n + 1
  thread:set("tid", n)
end

function init(args)
  math.randomseed(tid * 104729 + os.time())
end

function delay()
  if delay_ms <= 0 then return 0 end
  return delay_ms * (0.5 + math.random())
end

function request()
  local body = string.format('{"customer":"C%06d","moment":"%s"}', math.random(1, customers),
    moments[math.random(1, #moments)])
  return wrk.format("POST", "/v1/decisions",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("decisions: %d requests (%d failed) in %.1f s = %.0f req/s; latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms, max %.2f ms\n",
    summary.requests, bad, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end

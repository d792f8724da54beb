-- sources_post.lua -- wrk script for bench/bench_sources.sh: POST pre-signed
-- notifications, one line of $BODIES per request, to $ROUTE.  For stripe a
-- line is SIGNATURE<TAB>BODY (the Stripe-Signature header and the body).
-- Each wrk thread starts at its own offset so threads send different bodies.
local lines, idx, n = {}, 0, 0
local route, file, kind = os.getenv("ROUTE"), os.getenv("BODIES"), os.getenv("KIND")
local statuses = {}
local threads, count = {}, 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  for l in io.lines(file) do lines[#lines + 1] = l end
  n = #lines
  idx = (tid or 0) * math.floor(n / 2)
  bad = 0
end
function request()
  idx = idx + 1
  if idx > n then idx = 1 end
  local l = lines[idx]
  local headers = {["Content-Type"] = "application/json"}
  if kind == "stripe" then
    local tab = string.find(l, "\t", 1, true)
    headers["Stripe-Signature"] = string.sub(l, 1, tab - 1)
    l = string.sub(l, tab + 1)
  end
  return wrk.format("POST", route, headers, l)
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local nbad = 0
  for _, t in ipairs(threads) do nbad = nbad + (t:get("bad") or 0) end
  local secs = summary.duration / 1e6
  io.write(string.format("%s: %d requests in %.1f s = %.0f verified notifications/s; non-200: %d; " ..
    "latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n", kind, summary.requests, secs,
    summary.requests / secs, nbad, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000))
end

-- wrk script for `make bench`: POST /api/data as a rotating set of 1000 end users (so the
-- per-user rate limit is not what is measured). BENCH_KEY is substituted by the bench.
local counter = 0
local thread_tag = tostring(math.random(1, 1000000))

request = function()
  counter = counter + 1
  local headers = {}
  headers["Authorization"] = "Bearer BENCH_KEY"
  headers["X-User-Id"] = "bench-" .. thread_tag .. "-" .. (counter % 1000)
  headers["X-User-Plan"] = "bench"
  return wrk.format("POST", "/api/data", headers, "")
end

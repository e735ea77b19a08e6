-- wrk script for `make bench`: POST /api/data as a rotating set of 1000 end users (so the
-- per-user rate limit is not what is measured) of each of the projects in BENCH_KEYS, taken in
-- turn. The bench substitutes BENCH_KEYS, BENCH_PLAN and BENCH_COUNTER; an empty plan sends no
-- X-User-Plan, so the worker reads what billing says the user is on. X-Bench-Counter tells the
-- JavaScript baseline where to count (api-multi ignores it).
local counter = 0
local thread_tag = tostring(math.random(1, 1000000))
local plan = "BENCH_PLAN"
local keys = { BENCH_KEYS }

request = function()
  counter = counter + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. keys[(counter % #keys) + 1]
  headers["X-User-Id"] = "bench-" .. thread_tag .. "-" .. (counter % 1000)
  headers["X-Bench-Counter"] = "BENCH_COUNTER"
  if plan ~= "" then
    headers["X-User-Plan"] = plan
  end
  return wrk.format("POST", "/api/data", headers, "")
end

-- wrk script for `make bench`: POST /api/data as a rotating set of 1000 end users (so the
-- per-user rate limit is not what is measured). The bench substitutes BENCH_KEY and BENCH_PLAN;
-- an empty plan sends no X-User-Plan, so api-multi reads what billing says the user is on.
local counter = 0
local thread_tag = tostring(math.random(1, 1000000))
local plan = "BENCH_PLAN"

request = function()
  counter = counter + 1
  local headers = {}
  headers["Authorization"] = "Bearer BENCH_KEY"
  headers["X-User-Id"] = "bench-" .. thread_tag .. "-" .. (counter % 1000)
  if plan ~= "" then
    headers["X-User-Plan"] = plan
  end
  return wrk.format("POST", "/api/data", headers, "")
end

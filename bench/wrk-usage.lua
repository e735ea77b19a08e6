-- wrk script for `make bench`: POST /api/data as a rotating set of 1000 end users (so the
-- per-user rate limit is not what is measured) of each of the projects in BENCH_KEYS, taken in
-- turn. The bench substitutes BENCH_KEYS, BENCH_PLAN and BENCH_COUNTER; an empty plan sends no
-- X-User-Plan, so the worker reads what billing says the user is on. X-Bench-Counter tells the
-- JavaScript baseline where to count (api-multi ignores it). BENCH_METERS, when not empty,
-- makes every request count a quantity (1-100) of one of those meters, in a JSON body.
local counter = 0
local thread_tag = tostring(math.random(1, 1000000))
local plan = "BENCH_PLAN"
local keys = { BENCH_KEYS }
local meters = { BENCH_METERS }

request = function()
  counter = counter + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. keys[(counter % #keys) + 1]
  headers["X-User-Id"] = "bench-" .. thread_tag .. "-" .. (counter % 1000)
  headers["X-Bench-Counter"] = "BENCH_COUNTER"
  if plan ~= "" then
    headers["X-User-Plan"] = plan
  end
  local body = ""
  if #meters > 0 then
    headers["Content-Type"] = "application/json"
    -- Each user counts one of the meters (by its number), so the case touches as many rows as
    -- the plain one and differs from it only in meters, quantities and the body.
    local user = counter % 1000
    body = '{"meter":"' .. meters[(user % #meters) + 1] .. '","quantity":' .. ((counter % 100) + 1) .. '}'
  end
  return wrk.format("POST", "/api/data", headers, body)
end

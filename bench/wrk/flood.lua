-- A flood of failed client authentications at POST /token: every other
-- request presents a wrong secret for a registered client (BENCH_BAD_BASIC,
-- the base64 of "client_id:wrong"), the rest an invented client id, a new
-- one each time.
local counter = 0

request = function()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  local body = "grant_type=client_credentials"
  if counter % 2 == 0 then
    headers["Authorization"] = "Basic " .. os.getenv("BENCH_BAD_BASIC")
  else
    body = body .. "&client_id=invented-" .. counter .. "&client_secret=guess"
  end
  return wrk.format("POST", "/token", headers, body)
end

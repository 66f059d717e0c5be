-- Refresh-token rotation: each request spends a refresh token and the answer
-- brings the next one, which a later request spends. BENCH_BASIC is the
-- base64 of "client_id:client_secret", BENCH_TOKENS a file of refresh tokens,
-- one a line, at least one for each connection (bench/sizing.py seed).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")

local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end

function request()
  local token = table.remove(tokens, 1) or "spent"
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local next_token = body:match('"refresh_token":"([^"]+)"')
  if next_token then tokens[#tokens + 1] = next_token end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d\n", summary.errors.status))
end

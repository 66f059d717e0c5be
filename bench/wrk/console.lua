-- GET a console page as its signed-in user: BENCH_COOKIE is the session cookie.
-- Anything but 200 (a 303 to sign in once the session ended) counts as a failure.
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")

-- Each thread counts in its own Lua state; done() runs in another and sums them.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

failed = 0

function response(status, headers, body)
  if status ~= 200 then failed = failed + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failed") end
  io.write(string.format("non-2xx: %d\n", total))
end

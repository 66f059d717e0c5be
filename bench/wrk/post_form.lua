-- POST a form with HTTP Basic client authentication. BENCH_BASIC is the
-- base64 of "client_id:client_secret", BENCH_BODY the form body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = os.getenv("BENCH_BODY")

-- Responses other than 2xx/3xx, so that a benchmark of errors is noticed.
function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d\n", summary.errors.status))
end

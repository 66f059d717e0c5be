-- POST a form with HTTP Basic client authentication and a DPoP proof, a
-- fresh one each request (a proof is accepted once): BENCH_BASIC and
-- BENCH_BODY as in post_form.lua, BENCH_PROOFS a file of proofs, one a line
-- (bench/dpop_proofs.py). Run out of proofs, they repeat, and are refused.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = os.getenv("BENCH_BODY")

local proofs = {}
for line in io.lines(os.getenv("BENCH_PROOFS")) do proofs[#proofs + 1] = line end
local next_proof = 0

function request()
  next_proof = next_proof % #proofs + 1
  wrk.headers["DPoP"] = proofs[next_proof]
  return wrk.format()
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d\n", summary.errors.status))
end

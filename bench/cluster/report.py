"""The cluster harness's verdict: every request judged against the window
it was sent in, every invariant PASS or FAIL, propagation percentiles.
`render(outcome)` prints it and says whether everything held."""
import collections

GRACE = 3.0  # seconds after a fault window in which its 503s and uncertain refreshes still count to it
KILL_FLIGHT = 2.0  # seconds after a kill -9 in which a request in flight on that host may end unanswered
SECOND = 1.0
MIN_CHAINS = 3  # one per chain worker at least
CONFIRMED = {"refresh", "refresh_resend"}  # kinds whose 200 confirms a rotation
WRITES = CONFIRMED | {"code_exchange"}
HAPROXY = "<NOSRV>"  # X-Served-By of HAProxy's own answers
# What each kind of request must answer; anything else (but an excused 503 or kill) is a failure.
EXPECTED = {
    "admin_token": {200}, "admin": {201}, "authorize": {200, 303}, "login": {303}, "code_exchange": {200},
    "refresh": {200}, "refresh_resend": {200, 400}, "final_refresh": {200}, "client_credentials": {200},
    "introspect": {200}, "introspect_revoking": {200}, "introspect_revoked": {200}, "revoke": {200}, "admin_patch": {200},
    "admin_create": {201}, "admin_delete": {204}, "probe_code_race": {200, 400},
    "probe_refresh_race": {200, 400}, "probe_token": {200}, "probe_introspect": {200}, "probe_revoke": {200},
    "probe_disable": {200}, "probe_enable": {200}, "probe_jwks": {200}, "probe_signed_token": {200},
    "probe_key": {200, 201}, "probe_lockout": {401}, "probe_rate_limit": {200, 429},
    "probe_throttle": {200, 303}, "probe_throttle_login": {401, 429},
}
# Introspection's `active`, where it is known: introspect_revoking may still say active (the revocation
# takes up to a second to reach every host), introspect_revoked comes a second after the revocation.
ACTIVE = {"introspect": True, "introspect_revoked": False}


def window_of(at, windows):
    """The window whose span holds the instant at (before the first: the first)."""
    return next((w for w in windows if w["start"] <= at < (w["end"] or float("inf"))), windows[0])


def overlaps(span, window):
    """Whether span's [t0, t1] overlaps window, extended by GRACE."""
    return span["t0"] < (window["end"] or float("inf")) + GRACE and span["t1"] >= window["start"]


def in_fault(span, windows):
    """Whether span's [t0, t1] overlaps a fault window (or GRACE after one)."""
    return any(w["fault"] and overlaps(span, w) for w in windows)


def expected(record):
    """Whether record got what its kind must answer (and introspection the `active` it must say)."""
    kind = record["kind"]
    return record["status"] in EXPECTED.get(kind, ()) and (kind not in ACTIVE or record.get("active") is ACTIVE[kind])


def excused(record, windows):
    """Whether a 503 came from a host a fault window it overlaps faulted (through HAProxy: the host
    its X-Served-By names, or HAProxy itself when the window lets every host go)."""
    source = (record["served_by"] or HAPROXY) if record["target"] == "lb" else record["target"]
    return any(w["fault"] and source in w["hosts"] and overlaps(record, w) for w in windows)


def lost_in_kill(record, kills):
    """Whether record was in flight on a host as it was killed: sent before its process was gone
    and ended after the signal (within KILL_FLIGHT); sent to that host, or a 502/504 HAProxy's
    X-Served-By says came from it. A reset through HAProxy carries no header: it counts by its
    timing alone."""
    for kill in kills:
        if record["target"] == "lb":
            attributed = record["status"] is None or record["served_by"] == kill["host"]
        else:
            attributed = record["target"] == kill["host"]
        if attributed and record["t0"] < kill["at"] and kill["signalled"] <= record["t1"] <= kill["signalled"] + KILL_FLIGHT:
            return True
    return False


def judge(record, windows, kills):
    """answered, retry_later, lost_in_kill, or failure."""
    status = record["status"]
    if expected(record):
        return "answered"
    if status == 503 and record["retry_after"] and excused(record, windows):
        return "retry_later"
    if status in (None, 502, 504) and lost_in_kill(record, kills):
        return "lost_in_kill"
    return "failure"


def describe(record):
    """One request, in a line."""
    what = record["status"] or record["error"]
    active = f" active={record['active']}" if "active" in record else ""
    return (f"{record['kind']} via {record['target']} (served by {record['served_by']}) in "
            f"{record['t1'] - record['t0']:.2f}s: {what}{active} {record.get('body', '')}").strip()


def examples(items, count=3):
    """Up to count items, one per indented line."""
    return "".join(f"\n        e.g. {item}" for item in items[:count])


def percentile(values, fraction):
    """The value at fraction of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Report:
    """Collects invariant verdicts and prints them."""

    def __init__(self):
        """No verdicts yet."""
        self.verdicts = []

    def check(self, name, held, detail=""):
        """Prints one invariant's verdict and keeps it."""
        self.verdicts.append((name, bool(held)))
        print(f"  {'PASS' if held else 'FAIL'}  {name}{': ' + detail if detail else ''}")


def requests_by_window(outcome, report):
    """The table of windows, and the invariant that every request was answered as expected."""
    windows, records = outcome["windows"], outcome["load"]["records"]
    kills = [e for e in outcome["events"] if e["event"] == "killed"]
    table = collections.OrderedDict((w["name"], collections.Counter()) for w in windows)
    failures = []
    for record in records:
        verdict = judge(record, windows, kills)
        table[window_of(record["t0"], windows)["name"]][verdict] += 1
        if verdict == "failure":
            failures.append(record)
    print(f"\nrequests: {len(records)}")
    print(f"  {'window':38} {'sent':>6} {'answered':>9} {'503+RA':>7} {'kill':>5} {'failed':>7}")
    for name, counts in table.items():
        print(f"  {name:38} {sum(counts.values()):>6} {counts['answered']:>9} {counts['retry_later']:>7} "
              f"{counts['lost_in_kill']:>5} {counts['failure']:>7}")
    by_kind = collections.Counter((r["kind"], r["status"] or "error") for r in failures)
    print("\ninvariants:")
    report.check("every request answered as its kind must be (a 503 with Retry-After only from a faulted host "
                 "in its window, no answer only from a killed one)", not failures,
                 f"{len(failures)} failed" + "".join(f"\n        {n} x {kind} {status}"
                                                     for (kind, status), n in by_kind.most_common(8)) +
                 examples([describe(r) for r in failures], 5))
    errors = outcome["load"]["errors"]
    report.check("no load thread or last check died of an exception", not errors,
                 f"{len(errors)} died" + examples(errors))


def failover_window(outcome):
    """Seconds from the primary's stop to the first write (refresh or code exchange) sent after it and answered 200."""
    stopped = next(e["at"] for e in outcome["events"] if e["event"] == "primary stopped")
    issued = [r["t1"] for r in outcome["load"]["records"]
              if r["kind"] in WRITES and r["status"] == 200 and r["t0"] > stopped]
    return min(issued) - stopped if issued else None


def chains(outcome, report):
    """Enough chains, rotating in every steady window; no refresh family lost; uncertain ends only in fault windows."""
    windows, records = outcome["windows"], outcome["load"]["records"]
    all_chains = outcome["load"]["chains_survive"] or []
    confirmed = {w["name"]: sum(1 for r in records if r["kind"] in CONFIRMED and r["status"] == 200 and
                                w["start"] <= r["t1"] < w["end"]) for w in windows if not w["fault"]}
    report.check(f"at least {MIN_CHAINS} refresh chains, a rotation confirmed in every steady window",
                 len(all_chains) >= MIN_CHAINS and all(confirmed.values()),
                 f"{len(all_chains)} chains; rotations " + ", ".join(f"{n} in {w}" for w, n in confirmed.items()))
    lost = [c for c in all_chains if c["state"] in ("lost", "failed")]
    uncertain = [c for c in all_chains if c["state"] == "uncertain"]
    stray = [c for c in uncertain if not in_fault(c, windows)]
    report.check("no committed refresh family lost (the last confirmed token refreshes, or just rotated)", not lost,
                 f"{sum(c['rotations'] for c in all_chains)} rotations, {len(lost)} lost" +
                 examples([c["answer"] for c in lost]))
    report.check("unconfirmable refreshes (no answer, 503, or just rotated) only in fault windows", not stray,
                 f"{len(uncertain)} chains ended uncertain, {len(stray)} outside a fault" +
                 examples([c["answer"] for c in stray]))


def probe_samples(outcome, name):
    """A probe's samples, its target count, and the failed samples (an error, or broken)."""
    samples = outcome["load"]["samples"][name]
    return samples, outcome["load"]["targets"][name], [s for s in samples if s.get("held") is False]


def probe_checks(outcome, report):
    """The races and the keys: each probe's target count of samples, none failed."""
    def signatures(samples):
        """When the probe's keys first signed."""
        signed = [s["signed_after"] for s in samples if s.get("signed_after") is not None]
        return f"first signature {min(signed):.3f}-{max(signed):.3f}s after the call" if signed else "none signed"

    def overlapping(samples):
        """How many races really overlapped."""
        return f"{sum(1 for s in samples if s.get('overlapped'))} overlapped in time"

    rows = (("code_race", "a code exchanged once across two hosts at once", overlapping),
            ("refresh_race", "one winner of a refresh sent to three hosts at once", overlapping),
            ("key_stage", "a staged key, activated once every host published it, then signs (it waited for "
                          "publication: this shows activation reaching the hosts, not the order)", signatures),
            ("key_rotate", "a rotated key published on every host before any host signs with it (no wait: "
                           "the real test of the order)", signatures))
    for name, what, detail in rows:
        samples, target, bad = probe_samples(outcome, name)
        report.check(what, len(samples) >= target and not bad,
                     f"{len(samples)} of {target} samples, {len(bad)} failed, {detail(samples)}" +
                     examples(bad, 2))


def propagation(outcome, report):
    """Percentiles of how fast changes reach every host, and the invariant that it is within a second."""
    samples = outcome["load"]["samples"]
    print("\npropagation (seconds): samples p50 p99 max")
    rows = (("revocation", "revocation", "latencies"), ("client disabled", "client_change", "latencies"),
            ("client enabled", "client_change", "enable_latencies"), ("key staged", "key_stage", "latencies"),
            ("key rotated", "key_rotate", "latencies"))
    verdicts = []
    for label, name, key in rows:
        _, target, bad = probe_samples(outcome, name)
        measured = [s for s in samples[name] if key in s]
        values = [value for sample in measured for value in sample[key]]
        seen = [v for v in values if v is not None]
        missing = len(values) - len(seen)
        line = (f"  {label:16} {len(measured):>4} " + (f"{percentile(seen, .5):.3f} {percentile(seen, .99):.3f} "
                                                        f"{max(seen):.3f}" if seen else "-"))
        print(line + (f"  ({missing} never within 3 s)" if missing else "") +
              (f"  ({len(bad)} failed samples)" if bad else ""))
        verdicts.append((label, f"{len(measured)} of {target} samples", len(measured) >= target and not bad
                         and not missing and max(seen) < SECOND))
    inconclusive = outcome["load"]["inconclusive"]
    print("  inconclusive (a host did not answer): " +
          ", ".join(f"{name} {inconclusive.get(name, 0)}" for name in samples))
    for label, detail, held in verdicts:
        report.check(f"{label} visible on every host within a second", held, detail)


def final(outcome, name):
    """A last check's result; a failed one if it raised."""
    return outcome["load"][name] or {"held": False, "error": "it raised; see the load errors"}


def counting(outcome, report):
    """Lockout, token rate limit and login throttle, each counted across the hosts."""
    lockout, limit, throttle = (final(outcome, name) for name in ("lockout", "rate_limit", "login_throttle"))
    report.check("client lockout counted cluster-wide (401 invalid_client for all)", lockout["held"],
                 lockout.get("error") or f"wrong {lockout['wrong']}, right after 1.2 s {lockout['right_after_1.2s']}")
    report.check("token rate limit counted cluster-wide", limit["held"],
                 limit.get("error") or f"{limit['granted']} of {limit['sent']} granted in {limit['seconds']}s "
                                       f"(limit {limit['limit']} a minute, cluster-wide bound {limit['bound']}, "
                                       f"each host alone would grant {limit['alone']}); statuses {limit['statuses']}")
    report.check("login throttle counted cluster-wide (5 x 401, then 429 with Retry-After)", throttle["held"],
                 throttle.get("error") or " ".join(f"{a['status']}{'+RA' if a['retry_after'] else ''}"
                                                   for a in throttle["attempts"]))


def hosts(outcome, report):
    """Readiness while cut off, SIGTERM exits, and the audit chain."""
    cut = next(e for e in outcome["events"] if e["event"] == "reconnected")
    samples = cut["readyz_while_cut"]
    report.check("a host cut off from PostgreSQL is not ready (/readyz not 200 within 2 s)",
                 samples and not any(ready for ready, _ in samples),
                 "while cut: " + ", ".join(f"{'ready' if ready else 'not ready'} in {t}s" for ready, t in samples))
    exits = outcome["exits"]
    report.check("SIGTERM: every host exits by itself, code 0, within 30 s",
                 all(e["graceful"] and e["code"] == 0 for e in exits.values()),
                 ", ".join(f"{h} {e['seconds']}s code {e['code']}" for h, e in exits.items()))
    passed, output = outcome["audit"]
    report.check("`portcullis audit verify` passes afterwards", passed, output.splitlines()[-1] if output else "")


def render(outcome):
    """Prints the report; True if every invariant held."""
    report = Report()
    print("\n==== Portcullis cluster harness ====")
    requests_by_window(outcome, report)
    chains(outcome, report)
    probe_checks(outcome, report)
    counting(outcome, report)
    hosts(outcome, report)
    propagation(outcome, report)
    window = failover_window(outcome)
    print(f"\nfailover window (primary stopped -> first write sent after it answered 200): "
          f"{'%.2fs' % window if window is not None else 'never'}")
    failed = [name for name, held in report.verdicts if not held]
    print(f"\n{'ALL INVARIANTS HELD' if not failed else 'FAILED: ' + '; '.join(failed)}")
    return not failed

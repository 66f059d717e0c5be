"""The cluster harness's verdict: every request judged against the window
it was sent in, every invariant PASS or FAIL, propagation percentiles.
`render(outcome)` prints it and says whether everything held."""
import collections

GRACE = 3.0  # seconds after a fault window in which its 503s and uncertain refreshes still count to it
KILL_FLIGHT = 2.0  # seconds after a kill -9 in which a request in flight on that host may end unanswered
SECOND = 1.0
WRITES = {"refresh", "code_exchange"}


def window_of(at, windows):
    """The window whose span holds the instant at (before the first: the first)."""
    return next((w for w in windows if w["start"] <= at < (w["end"] or float("inf"))), windows[0])


def in_fault(at, windows):
    """Whether at falls in a fault window or within GRACE after one."""
    return any(w["fault"] and w["start"] <= at < (w["end"] or float("inf")) + GRACE for w in windows)


def lost_in_kill(record, kills):
    """Whether record was in flight on a host at the instant it was killed."""
    for kill in kills:
        on_host = record["target"] == kill["host"] or (record["target"] == "lb" and
                                                       record["served_by"] in (None, kill["host"]))
        if on_host and record["t0"] < kill["at"] <= record["t1"] <= kill["at"] + KILL_FLIGHT:
            return True
    return False


def judge(record, windows, kills):
    """answered, retry_later, lost_in_kill, or failure."""
    status = record["status"]
    if status and status < 500:
        return "answered"
    if status == 503 and record["retry_after"]:
        return "retry_later" if in_fault(record["t0"], windows) else "failure"
    if status in (None, 502, 504) and lost_in_kill(record, kills):
        return "lost_in_kill"
    return "failure"


def describe(record):
    what = record["status"] or record["error"]
    return (f"{record['kind']} via {record['target']} (served by {record['served_by']}) in "
            f"{record['t1'] - record['t0']:.2f}s: {what} {record.get('body', '')}").strip()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Report:
    """Collects invariant verdicts and prints them."""

    def __init__(self):
        self.verdicts = []

    def check(self, name, held, detail=""):
        self.verdicts.append((name, bool(held)))
        print(f"  {'PASS' if held else 'FAIL'}  {name}{': ' + detail if detail else ''}")

    def passed(self):
        return all(held for _, held in self.verdicts)


def requests_by_window(outcome, report):
    """The table of windows, and the invariant that every request was answered."""
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
    report.check("every request answered (no 500, hang, reset, or 503 without Retry-After outside a kill)",
                 not failures, f"{len(failures)} failed" + "".join(
                     f"\n        {n} x {kind} {status}" for (kind, status), n in by_kind.most_common(8)) +
                 "".join(f"\n        e.g. {describe(r)}" for r in failures[:5]))


def failover_window(outcome):
    """Seconds from the primary's stop to the first refresh (a write) answered 200 after it."""
    stopped = next(e["at"] for e in outcome["events"] if e["event"] == "primary stopped")
    issued = [r["t1"] for r in outcome["load"]["records"]
              if r["kind"] in WRITES and r["status"] == 200 and r["t0"] > stopped]
    return min(issued) - stopped if issued else None


def chains(outcome, report):
    """No committed refresh family lost; uncertain ends only in fault windows."""
    all_chains = outcome["load"]["chains"]
    lost = [c for c in all_chains if c["state"] == "lost"]
    uncertain = [c for c in all_chains if c["state"] == "uncertain"]
    stray = [c for c in uncertain if not in_fault(c["ended"], outcome["windows"])]
    rotations = sum(c["rotations"] for c in all_chains)
    report.check("no committed refresh family lost", not lost,
                 f"{len(all_chains)} chains, {rotations} rotations, {len(lost)} lost" +
                 "".join(f"\n        e.g. {c.get('final') or c.get('answer')}" for c in lost[:3]))
    report.check("unconfirmed refreshes only in fault windows", not stray,
                 f"{len(uncertain)} chains ended uncertain, {len(stray)} outside a fault" +
                 "".join(f"\n        e.g. {c['answer']}" for c in stray[:3]))


def races(outcome, report):
    for name, what in (("code_race", "a code exchanged once across two hosts"),
                       ("refresh_race", "one winner of a refresh sent to three hosts")):
        samples = outcome["load"]["samples"][name]
        bad = [s for s in samples if not s.get("held")]
        report.check(what, samples and not bad, f"{len(samples)} races, {len(bad)} broken" +
                     "".join(f"\n        e.g. {s}" for s in bad[:3]))


def latencies(samples, key="latencies"):
    """Every latency of the samples; None for a host that never showed the change."""
    return [value for sample in samples for value in sample.get(key, [])]


def propagation(outcome, report):
    samples = outcome["load"]["samples"]
    print("\npropagation (seconds): samples p50 p99 max")
    rows = (("revocation", "revocation", "latencies"), ("client disabled", "client_change", "latencies"),
            ("client enabled", "client_change", "enable_latencies"), ("key staged", "key_stage", "latencies"),
            ("key rotated", "key_rotate", "latencies"))
    verdicts = []
    for label, name, key in rows:
        values = latencies(samples[name], key)
        seen = [v for v in values if v is not None]
        missing = len(values) - len(seen)
        line = (f"  {label:16} {len(values):>4} " + (f"{percentile(seen, .5):.3f} {percentile(seen, .99):.3f} "
                                                      f"{max(seen):.3f}" if seen else "-"))
        print(line + (f"  ({missing} never within 3 s)" if missing else ""))
        verdicts.append((label, values and not missing and max(seen) < SECOND))
    for label, held in verdicts:
        report.check(f"{label} visible on every host within a second", held)


def keys(outcome, report):
    for name, what in (("key_stage", "staged key"), ("key_rotate", "rotated key")):
        samples = outcome["load"]["samples"][name]
        bad = [s for s in samples if not s.get("held")]
        signed = [s["signed_after"] for s in samples if s.get("signed_after") is not None]
        detail = (f"{len(samples)} keys, first signature {min(signed):.3f}-{max(signed):.3f}s after the call"
                  if signed else f"{len(samples)} keys, none seen signing")
        report.check(f"a {what} published on every host before any host signs with it", samples and not bad,
                     detail + "".join(f"\n        e.g. {s}" for s in bad[:2]))


def counting(outcome, report):
    load = outcome["load"]
    lockout, limit, throttle = load["lockout"], load["rate_limit"], load["login_throttle"]
    report.check("client lockout counted cluster-wide", lockout["held"],
                 f"wrong {lockout['wrong']}, right at once {lockout['right_at_once']}, "
                 f"after 1.2 s {lockout['right_after_1.2s']}")
    report.check("token rate limit counted cluster-wide", limit["held"],
                 f"{limit['granted']} of {limit['sent']} granted in {limit['seconds']}s (limit "
                 f"{limit['limit']} a minute, cluster-wide bound {limit['bound']}, each host alone would grant "
                 f"{3 * limit['limit']}); statuses {limit['statuses']}")
    report.check("login throttle counted cluster-wide", throttle["held"],
                 " ".join(f"{a['status']}{'+RA' if a['retry_after'] else ''}" for a in throttle["attempts"]))


def hosts(outcome, report):
    cut = next(e for e in outcome["events"] if e["event"] == "reconnected")
    answers = cut["readyz_while_cut"]
    report.check("a host cut off from PostgreSQL answers /readyz 503", any(s == 503 for s, _ in answers),
                 "while cut: " + ", ".join(f"{s or 'no answer'} in {t}s" for s, t in answers))
    exits = outcome["exits"]
    report.check("SIGTERM: every host exits by itself within 30 s", all(e["graceful"] for e in exits.values()),
                 ", ".join(f"{h} {e['seconds']}s code {e['code']}" for h, e in exits.items()))
    passed, output = outcome["audit"]
    report.check("`portcullis audit verify` passes afterwards", passed, output.splitlines()[-1] if output else "")


def render(outcome):
    """Prints the report; True if every invariant held."""
    report = Report()
    print("\n==== Portcullis cluster harness ====")
    requests_by_window(outcome, report)
    window = failover_window(outcome)
    chains(outcome, report)
    races(outcome, report)
    keys(outcome, report)
    counting(outcome, report)
    hosts(outcome, report)
    propagation(outcome, report)
    print(f"\nfailover window (primary stopped -> first refresh answered): "
          f"{'%.2fs' % window if window is not None else 'never'}")
    failed = [name for name, held in report.verdicts if not held]
    print(f"\n{'ALL INVARIANTS HELD' if not failed else 'FAILED: ' + '; '.join(failed)}")
    return not failed

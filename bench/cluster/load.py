#!/usr/bin/env python3
"""The cluster harness's load and invariant probes, run by cluster.py in
the client namespace. Sets up users and clients over the admin API, says
`ready`, then loads the cluster through HAProxy (code + PKCE sign-ins and
refresh chains, client credentials, introspection, revocation, admin
changes) and, while the harness's window is steady, probes single hosts
(codes and refresh tokens raced across hosts, how fast revocations, client
changes and keys reach every host). Standard input carries
`phase NAME steady|fault` and finally `stop`: then the remaining probes run,
the load stops, and the last checks (every refresh chain still refreshes,
lockout, rate limit and login throttle counted cluster-wide) are written
with every request to the results file. Standard library only.

    python3 load.py CONFIG.json
"""
import base64
import collections
import hashlib
import http.client
import json
import random
import re
import secrets
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

REDIRECT = "https://app.example/cb"
TIMEOUT = 15
PASSWORD = "correct horse battery staple 7"
RATE_LIMIT = 10
PROBE_TARGETS = {"code_race": 20, "refresh_race": 20, "revocation": 15, "client_change": 15,
                 "key_stage": 4, "key_rotate": 4}
PER_WINDOW = {"key_stage": 1, "key_rotate": 1}  # runs of a probe in one steady window; 3 if not named
SOAK_LIMIT = 120
POLL = 0.005


class Answer:
    """One response, or the error that stood in for it."""

    def __init__(self, status=None, headers=(), body=b"", error=None):
        self.status, self.headers, self.body, self.error = status, list(headers), body, error

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name), None)

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return {}

    def text(self):
        return self.body.decode(errors="replace")

    def __repr__(self):
        return f"{self.status or self.error} {self.body[:160]!r}"


class Recorder:
    """Every request made, for the harness to judge against its windows."""

    def __init__(self, names):
        self.names, self.records, self.lock = names, [], threading.Lock()

    def add(self, url, kind, started, answer):
        netloc = urlsplit(url).netloc
        record = {"t0": started, "t1": time.time(), "kind": kind, "target": self.names.get(netloc, netloc),
                  "status": answer.status, "retry_after": answer.header("retry-after") is not None,
                  "served_by": answer.header("x-served-by"), "error": answer.error}
        if answer.status and answer.status >= 500:
            record["body"] = answer.text()[:200]
        with self.lock:
            self.records.append(record)


RECORDER = Recorder({})


def call(method, url, kind, form=None, body=None, auth=None, bearer=None, cookies=None):
    """One request on a new connection, recorded; its Answer."""
    parts = urlsplit(url)
    headers, data = {}, None
    if form is not None:
        headers["Content-Type"], data = "application/x-www-form-urlencoded", urlencode(form).encode()
    if body is not None:
        headers["Content-Type"], data = "application/json", json.dumps(body).encode()
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    started = time.time()
    connection = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        connection.request(method, target, data, headers)
        response = connection.getresponse()
        answer = Answer(response.status, response.getheaders(), response.read())
    except (OSError, http.client.HTTPException) as failure:
        answer = Answer(error=f"{type(failure).__name__}: {failure}")
    finally:
        connection.close()
    RECORDER.add(url, kind, started, answer)
    return answer


def jwt_header(token):
    """The decoded header of a JWT."""
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def together(calls):
    """Runs the calls at once, released by one barrier; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def one(index, fn):
        barrier.wait()
        results[index] = fn()

    threads = [threading.Thread(target=one, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class Phase:
    """The harness's current window, as standard input tells it. A probe
    holds `lock` while it talks to single hosts, and a new window begins
    only once none does: its `ok` tells the harness it may act."""

    def __init__(self):
        self.name, self.steady, self.generation = "setup", True, 0
        self.lock, self.stop = threading.Lock(), threading.Event()

    def follow(self, stream):
        for line in stream:
            words = line.split()
            if words[:1] == ["phase"]:
                with self.lock:
                    self.name, self.steady = " ".join(words[1:-1]), words[-1] == "steady"
                    self.generation += 1
                print("ok", flush=True)
            elif words[:1] == ["stop"]:
                self.stop.set()
        self.stop.set()


class Client:
    """A registered client: its id, secret, and token-endpoint calls."""

    def __init__(self, created):
        self.id, self.secret = created["client_id"], created.get("client_secret")

    def credentials(self, base, kind="client_credentials", secret=None):
        return call("POST", base + "/token", kind, form={"grant_type": "client_credentials"},
                    auth=(self.id, secret or self.secret))

    def introspect(self, base, token, kind="introspect"):
        return call("POST", base + "/introspect", kind, form={"token": token}, auth=(self.id, self.secret))

    def revoke(self, base, token, kind="revoke"):
        return call("POST", base + "/revoke", kind, form={"token": token}, auth=(self.id, self.secret))

    def refresh(self, base, token, kind="refresh"):
        return call("POST", base + "/token", kind, form={"grant_type": "refresh_token", "refresh_token": token},
                    auth=(self.id, self.secret))

    def exchange(self, base, code, verifier, kind="code_exchange"):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        return call("POST", base + "/token", kind, form=form, auth=(self.id, self.secret))


class Admin:
    """The admin API, with the bootstrap client's token."""

    def __init__(self, base, client):
        self.base, self.client = base, Client(client)
        answer = self.client.credentials(base, "admin_token")
        if answer.status != 200:
            raise RuntimeError(f"no admin token: {answer}")
        self.token = answer.json()["access_token"]

    def request(self, method, path, body=None, base=None, kind="admin"):
        return call(method, (base or self.base) + "/admin/v1" + path, kind, body=body, bearer=self.token)

    def expect(self, status, method, path, body=None, base=None):
        """The JSON of a request that must answer status."""
        answer = self.request(method, path, body, base)
        if answer.status != status:
            raise RuntimeError(f"{method} {path}: {answer}")
        return answer.json()


class Browser:
    """A user agent with its own cookies, signing in through the code flow with PKCE."""

    def __init__(self, base, client, username, password=PASSWORD):
        self.base, self.client, self.username, self.password = base, client, username, password
        self.cookies = {}

    def get(self, url, kind):
        answer = call("GET", url, kind, cookies=self.cookies)
        self.keep_cookies(answer)
        return answer

    def keep_cookies(self, answer):
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                pair = value.split(";")[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val

    def login_form(self, page):
        """The login page's hidden fields and action, or None."""
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text()))
        action = re.search(r'<form method="post" action="([^"]+)"', page.text())
        return (fields, action.group(1)) if action and "interaction" in fields else None

    def submit(self, form, password, kind="login"):
        fields, action = form
        fields = dict(fields, username=self.username, password=password)
        answer = call("POST", urljoin(self.base + "/", action), kind, form=fields, cookies=self.cookies)
        self.keep_cookies(answer)
        return answer

    def authorize(self):
        """The first page /authorize answers, and the PKCE verifier of its request."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"response_type": "code", "client_id": self.client.id, "redirect_uri": REDIRECT,
                           "scope": "openid offline_access", "code_challenge": challenge,
                           "code_challenge_method": "S256", "state": secrets.token_urlsafe(8)})
        return self.get(f"{self.base}/authorize?{query}", "authorize"), verifier

    def code(self):
        """A fresh code and its verifier, signing in when asked; None when refused."""
        page, verifier = self.authorize()
        for _ in range(6):
            location = page.header("location") or ""
            if location.startswith(REDIRECT):
                found = parse_qs(urlsplit(location).query).get("code")
                return (found[0], verifier) if found else None
            if location:
                page = self.get(urljoin(self.base + "/", location), "authorize")
            elif page.status == 200 and self.login_form(page):
                page = self.submit(self.login_form(page), self.password)
            else:
                return None
        return None

    def refresh_token(self):
        """A new grant's refresh token (a sign-in and a code exchange), or None."""
        got = self.code()
        if not got:
            return None
        answer = self.client.exchange(self.base, *got)
        return answer.json().get("refresh_token") if answer.status == 200 else None


class Chains:
    """Refresh chains: each one's last refresh token confirmed by a 200."""

    def __init__(self):
        self.chains, self.lock = [], threading.Lock()

    def open(self, worker, token):
        chain = {"worker": worker, "token": token, "state": "open", "rotations": 0, "opened": time.time()}
        with self.lock:
            self.chains.append(chain)
        return chain


def chain_worker(ctx, worker):
    """Signs in, then rotates the refresh token again and again; a refresh
    not answered 200 ends its chain as uncertain (or lost, when a confirmed
    token is refused) and a new sign-in starts another."""
    browser = Browser(ctx.balancer, ctx.clients["web"], f"walker{worker}")
    while not ctx.done.is_set():
        token = browser.refresh_token()
        if not token:
            time.sleep(0.5)
            continue
        chain = ctx.chains.open(worker, token)
        while not ctx.done.is_set():
            time.sleep(0.3)
            answer = ctx.clients["web"].refresh(ctx.balancer, chain["token"])
            if answer.status == 200:
                chain["token"], chain["rotations"] = answer.json()["refresh_token"], chain["rotations"] + 1
                continue
            if answer.status == 429:
                continue
            lost = answer.status == 400 and answer.json().get("error") == "invalid_grant"
            chain.update(state="lost" if lost else "uncertain", ended=time.time(), answer=repr(answer))
            break


def service_worker(ctx):
    """Client credentials, introspected; now and then revoked and introspected again."""
    service, resource = ctx.clients["service"], ctx.clients["resource"]
    while not ctx.done.is_set():
        answer = service.credentials(ctx.balancer)
        if answer.status == 200:
            token = answer.json()["access_token"]
            resource.introspect(ctx.balancer, token)
            if random.random() < 0.3 and service.revoke(ctx.balancer, token).status == 200:
                resource.introspect(ctx.balancer, token, "introspect_revoked")
        time.sleep(0.1)


def admin_worker(ctx):
    """Changes a client every half second; creates and deletes one now and then."""
    churn = ctx.clients["churn"].id
    for step in range(10 ** 9):
        if ctx.done.wait(0.5):
            return
        change = ({"client_name": f"churn {step}"} if step % 2 else
                  {"redirect_uris": [REDIRECT, f"https://app.example/cb{step % 3}"]})
        ctx.admin.request("PATCH", f"/clients/{churn}", change, kind="admin_patch")
        if step % 8 == 0:
            created = ctx.admin.request("POST", "/clients", service_metadata(f"passing {step}"), kind="admin_create")
            if created.status == 201:
                ctx.admin.request("DELETE", f"/clients/{created.json()['client_id']}", kind="admin_delete")


def service_metadata(name, **extra):
    """Metadata of a client-credentials client with a secret."""
    return {"client_name": name, "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic", "token_rate_limit": 0, **extra}


def web_metadata(name):
    """Metadata of a confidential code-flow client that refreshes and skips consent."""
    return {"client_name": name, "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid offline_access", "skip_consent": True, "token_rate_limit": 0}


CLIENTS = {
    "web": web_metadata("cluster web"),
    "racer": web_metadata("cluster racer"),
    "churn": web_metadata("cluster churn"),
    "service": service_metadata("cluster service"),
    "signer": service_metadata("cluster key watcher"),
    "resource": service_metadata("cluster resource server", introspection_allowed=True),
    "victim": service_metadata("cluster disabled now and then"),
    "guarded": service_metadata("cluster locked out"),
    "limited": service_metadata("cluster rate limited", token_rate_limit=RATE_LIMIT),
}
USERS = ["walker0", "walker1", "walker2", "racer", "throttled"]


class Context:
    """What every worker and probe shares."""

    def __init__(self, config):
        self.balancer, self.hosts = config["balancer"], config["hosts"]
        self.lockout_threshold = config["lockout_threshold"]
        self.admin = Admin(self.balancer, config["admin"])
        self.clients = {name: Client(self.admin.expect(201, "POST", "/clients", metadata))
                        for name, metadata in CLIENTS.items()}
        for username in USERS:
            self.admin.expect(201, "POST", "/users", {"username": username, "password": PASSWORD})
        self.phase, self.done, self.chains = Phase(), threading.Event(), Chains()
        self.samples = {name: [] for name in PROBE_TARGETS}
        self.racer = Browser(self.balancer, self.clients["racer"], "racer")

    def other_hosts(self, base):
        return [url for url in self.hosts.values() if url != base]


# Probes: each returns a sample (a dict), or None when a host did not answer (inconclusive).

def code_race(ctx):
    """A code sent to two hosts at once: exactly one may exchange it."""
    got = ctx.racer.code()
    if not got:
        return None
    pair = random.sample(sorted(ctx.hosts.values()), 2)
    racer = ctx.clients["racer"]
    answers = together([lambda base=base: racer.exchange(base, *got, kind="probe_code_race") for base in pair])
    return race_sample(answers)


def refresh_race(ctx):
    """One refresh token sent to all three hosts at once: exactly one may rotate it."""
    token = ctx.racer.refresh_token()
    if not token:
        return None
    racer = ctx.clients["racer"]
    answers = together([lambda base=base: racer.refresh(base, token, kind="probe_refresh_race")
                        for base in ctx.hosts.values()])
    return race_sample(answers)


def race_sample(answers):
    """How many of a race's answers won; None if any host failed to answer."""
    statuses = [a.status for a in answers]
    if any(s is None or s >= 500 for s in statuses):
        return None
    return {"statuses": statuses, "winners": statuses.count(200), "held": statuses.count(200) == 1}


def wait_until(check, timeout=3.0):
    """Polls check() every POLL seconds; the time it first held, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return time.time()
        time.sleep(POLL)
    return None


def seen_everywhere(bases, check, since):
    """For each base, seconds from since until check(base) held (None: never within 3 s)."""
    def latency(base):
        at = wait_until(lambda: check(base))
        return at - since if at else None
    return dict(zip(bases, together([lambda base=base: latency(base) for base in bases])))


def active(ctx, base, token, kind):
    """Whether base's introspection says token is active (None: no answer)."""
    answer = ctx.clients["resource"].introspect(base, token, kind)
    return answer.json().get("active") if answer.status == 200 else None


def revocation(ctx):
    """A token revoked on one host: how long until the others say it is inactive."""
    base = random.choice(sorted(ctx.hosts.values()))
    issued = ctx.clients["service"].credentials(base, "probe_token")
    if issued.status != 200:
        return None
    token, others = issued.json()["access_token"], ctx.other_hosts(base)
    if not all(active(ctx, other, token, "probe_introspect") for other in others):
        return None
    if ctx.clients["service"].revoke(base, token, "probe_revoke").status != 200:
        return None
    latencies = seen_everywhere(others, lambda other: active(ctx, other, token, "probe_introspect") is False,
                                time.time())
    return {"latencies": list(latencies.values())}


def client_change(ctx):
    """A client disabled on one host: how long until the others refuse its
    tokens; then enabled again, and how long until they take them again."""
    base, victim = random.choice(sorted(ctx.hosts.values())), ctx.clients["victim"]
    issued = victim.credentials(base, "probe_token")
    if issued.status != 200:
        return None
    token, others = issued.json()["access_token"], ctx.other_hosts(base)
    if not all(active(ctx, other, token, "probe_introspect") for other in others):
        return None
    if ctx.admin.request("POST", f"/clients/{victim.id}/disable", base=base, kind="probe_disable").status != 200:
        return None
    disabled = seen_everywhere(others, lambda other: active(ctx, other, token, "probe_introspect") is False,
                               time.time())
    if ctx.admin.request("POST", f"/clients/{victim.id}/enable", base=base, kind="probe_enable").status != 200:
        return None
    enabled = seen_everywhere(others, lambda other: active(ctx, other, token, "probe_introspect") is True,
                              time.time())
    return {"latencies": list(disabled.values()), "enable_latencies": list(enabled.values())}


class KeyWatcher:
    """Polls every host's JWKS and tokens signed there, keeping each
    observation with the time its request started and ended."""

    def __init__(self, ctx):
        self.ctx, self.jwks, self.signed, self.stop = ctx, [], [], threading.Event()
        self.threads = [threading.Thread(target=poll, args=(base,))
                        for base in ctx.hosts.values() for poll in (self.poll_jwks, self.poll_tokens)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def poll_jwks(self, base):
        while not self.stop.wait(0.01):
            started, answer = time.time(), call("GET", base + "/jwks", "probe_jwks")
            if answer.status == 200:
                kids = {key["kid"] for key in answer.json().get("keys", [])}
                self.jwks.append((base, started, time.time(), kids))

    def poll_tokens(self, base):
        while not self.stop.wait(0.03):
            started, answer = time.time(), self.ctx.clients["signer"].credentials(base, "probe_signed_token")
            if answer.status == 200:
                self.signed.append((base, started, time.time(), jwt_header(answer.json()["access_token"])["kid"]))

    def published_everywhere(self, kid):
        return {base for base, _, _, kids in list(self.jwks) if kid in kids} == set(self.ctx.hosts.values())

    def signed_everywhere(self, kid):
        return {base for base, _, _, signer in list(self.signed) if signer == kid} == set(self.ctx.hosts.values())

    def verdict(self, kid, made, committed):
        """Publication latency per host (from the answer that made the key:
        its commit, after the key was generated), and whether some host was
        shown not to publish the key after a token it signed had been answered."""
        first_signed = min((end for _, _, end, signer in self.signed if signer == kid), default=None)
        sample = {"kid": kid, "latencies": [], "signed_after": None if first_signed is None else first_signed - made}
        sample["held"] = first_signed is not None
        for base in self.ctx.hosts.values():
            present = [end for b, _, end, kids in self.jwks if b == base and kid in kids]
            absent = [start for b, start, _, kids in self.jwks if b == base and kid not in kids]
            sample["latencies"].append(max(0.0, min(present) - committed) if present else None)
            if first_signed is not None and absent and max(absent) > first_signed:
                sample["held"] = False
                sample.setdefault("unpublished_after_signing", []).append(
                    {"host": base, "ms_after_a_signed_token": round(1000 * (max(absent) - first_signed), 1)})
        return sample


def key_stage(ctx):
    """A staged key: how fast every host publishes it; once activated, it
    must be published everywhere before any host signs with it."""
    return watch_key(ctx, rotate=False)


def key_rotate(ctx):
    """A rotated key (it signs at once, as the server decides): published
    everywhere before any host signs with it."""
    return watch_key(ctx, rotate=True)


def watch_key(ctx, rotate):
    base = random.choice(sorted(ctx.hosts.values()))
    with KeyWatcher(ctx) as watcher:
        time.sleep(0.1)
        made = time.time()
        answer = ctx.admin.request("POST", "/keys/rotate" if rotate else "/keys", {"alg": "RS256"}, base=base,
                                   kind="probe_key")
        if answer.status not in (200, 201):
            return None
        committed, kid = time.time(), answer.json()["kid"]
        if not rotate:
            wait_until(lambda: watcher.published_everywhere(kid))
            activated = ctx.admin.request("POST", f"/keys/{kid}/activate", base=base, kind="probe_key")
            if activated.status != 200:
                return None
        wait_until(lambda: watcher.signed_everywhere(kid), timeout=4)
    return watcher.verdict(kid, made, committed)


PROBES = [code_race, refresh_race, revocation, client_change, key_stage, key_rotate]


def probe_worker(ctx, finishing):
    """Runs the probes in turn while the window is steady, a few times per
    window so they spread over the run, keeping samples of probes the window
    is steady in; when finishing is set, runs the rest at once and
    ends when every target is met (or SOAK_LIMIT passed)."""
    ran, soak_started = collections.Counter(), None
    while True:
        if finishing.is_set():
            soak_started = soak_started or time.time()
            if time.time() - soak_started > SOAK_LIMIT or all(
                    len(ctx.samples[p]) >= n for p, n in PROBE_TARGETS.items()):
                return
        generation = ctx.phase.generation
        wanted = [p for p in PROBES if len(ctx.samples[p.__name__]) < PROBE_TARGETS[p.__name__] and (
            finishing.is_set() or ran[generation, p.__name__] < PER_WINDOW.get(p.__name__, 3))]
        if not ctx.phase.steady or not wanted:
            time.sleep(0.2)
            continue
        for probe in wanted:
            with ctx.phase.lock:
                if ctx.phase.generation != generation:
                    break
                ran[generation, probe.__name__] += 1
                run_probe(ctx, probe)
            time.sleep(0.3)


def run_probe(ctx, probe):
    """Runs probe once, keeping its sample with when and in which window."""
    at = time.time()
    try:
        sample = probe(ctx)
    except Exception as failure:  # a probe's own bug must not stop the run
        sample = {"held": False, "error": f"{type(failure).__name__}: {failure}"}
    if sample is not None:
        ctx.samples[probe.__name__].append(dict(sample, at=at, phase=ctx.phase.name))


# The last checks, after the load stopped.

def chains_survive(ctx):
    """Every chain still open refreshes once more through HAProxy."""
    for chain in ctx.chains.chains:
        if chain["state"] == "open":
            answer = ctx.clients["web"].refresh(ctx.balancer, chain["token"], "final_refresh")
            chain["state"] = "kept" if answer.status == 200 else "lost"
            chain["final"] = repr(answer)
    return ctx.chains.chains


def lockout(ctx):
    """Wrong secrets spread over the hosts up to the threshold; then even the
    right one must be refused on every host."""
    guarded, bases = ctx.clients["guarded"], sorted(ctx.hosts.values())
    wrong = [guarded.credentials(bases[i % 3], "probe_lockout", secret="wrong-" + secrets.token_hex(8)).status
             for i in range(ctx.lockout_threshold)]
    at_once = [guarded.credentials(base, "probe_lockout").status for base in bases]
    time.sleep(1.2)
    later = [guarded.credentials(base, "probe_lockout").status for base in bases]
    return {"wrong": wrong, "right_at_once": at_once, "right_after_1.2s": later,
            "held": all(s == 401 for s in wrong) and all(s != 200 for s in later)}


def rate_limit(ctx, pause=0.1):
    """Six times a client's per-minute limit, spread over the hosts and over
    six seconds. Counted on each host alone, three times the limit would be
    granted; counted cluster-wide, as crates/portcullis-app/src/rate_limits.rs
    bounds it: the limit, plus what the other hosts granted within one sync
    interval (a second) before the counts met, plus under a tenth of the
    limit on each host before it first writes its count."""
    limited, bases, started = ctx.clients["limited"], sorted(ctx.hosts.values()), time.time()
    statuses = []
    for i in range(6 * RATE_LIMIT):
        statuses.append(limited.credentials(bases[i % 3], "probe_rate_limit").status)
        time.sleep(pause)
    seconds = time.time() - started
    per_host_second = len(statuses) / seconds / len(bases)
    bound = RATE_LIMIT + (len(bases) - 1) * per_host_second + len(bases) * -(-RATE_LIMIT // 10)
    granted = statuses.count(200)
    return {"limit": RATE_LIMIT, "sent": len(statuses), "granted": granted, "bound": round(bound, 1),
            "seconds": round(seconds, 1), "statuses": dict(collections.Counter(statuses)),
            "held": RATE_LIMIT <= granted <= bound}


def login_throttle(ctx, attempts=8, allowed=5):
    """Wrong passwords for one account from one address, spread over the
    hosts: the first `allowed` are judged, the rest refused with 429."""
    bases, outcomes = sorted(ctx.hosts.values()), []
    for attempt in range(attempts):
        browser = Browser(bases[attempt % 3], ctx.clients["web"], "throttled")
        page, _ = browser.authorize()
        while page.header("location") and not page.header("location").startswith(REDIRECT):
            page = browser.get(urljoin(browser.base + "/", page.header("location")), "probe_throttle")
        form = browser.login_form(page)
        answer = browser.submit(form, "wrong password", "probe_throttle") if form else page
        outcomes.append({"status": answer.status, "retry_after": answer.header("retry-after")})
    judged = all(o["status"] != 429 for o in outcomes[:allowed])
    refused = all(o["status"] == 429 and o["retry_after"] for o in outcomes[allowed:])
    return {"attempts": outcomes, "held": judged and refused}


def main():
    config = json.load(open(sys.argv[1]))
    RECORDER.names.update({urlsplit(url).netloc: name for name, url in config["hosts"].items()})
    RECORDER.names[urlsplit(config["balancer"]).netloc] = "lb"
    ctx = Context(config)
    threading.Thread(target=ctx.phase.follow, args=(sys.stdin,), daemon=True).start()
    workers = [threading.Thread(target=chain_worker, args=(ctx, n)) for n in range(3)]
    workers += [threading.Thread(target=service_worker, args=(ctx,)) for _ in range(2)]
    workers += [threading.Thread(target=admin_worker, args=(ctx,))]
    prober = threading.Thread(target=probe_worker, args=(ctx, ctx.phase.stop))
    for thread in workers + [prober]:
        thread.start()
    print("ready", flush=True)
    ctx.phase.stop.wait()
    prober.join()
    ctx.done.set()
    for thread in workers:
        thread.join()
    finals = {"chains": chains_survive(ctx), "lockout": lockout(ctx), "rate_limit": rate_limit(ctx),
              "login_throttle": login_throttle(ctx)}
    with open(config["results"], "w") as out:
        json.dump({"records": RECORDER.records, "samples": ctx.samples, **finals}, out)


if __name__ == "__main__":
    main()

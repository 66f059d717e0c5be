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
import itertools
import json
import math
import random
import re
import secrets
import sys
import threading
import time
import traceback
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

REDIRECT = "https://app.example/cb"
TIMEOUT = 15
PASSWORD = "correct horse battery staple 7"
RATE_LIMIT = 10
SYNC_INTERVAL = 1.0  # crates/portcullis-app/src/rate_limits.rs
REUSE_INTERVAL = 30  # the web client's refresh_token_reuse_interval: a resent token is not reuse within it
PROBE_TARGETS = {"code_race": 20, "refresh_race": 20, "revocation": 15, "client_change": 15,
                 "key_stage": 4, "key_rotate": 4}
PER_WINDOW = {"key_stage": 1, "key_rotate": 1}  # runs of a probe in one steady window; 3 if not named
SOAK_LIMIT = 120
POLL = 0.005
PROPAGATION = 1.0  # how soon a revocation, a client change or a key must reach every host


class Answer:
    """One response, or the error that stood in for it, with when its request started and ended."""

    def __init__(self, t0, status=None, headers=(), body=b"", error=None):
        """An answer to a request sent at t0, ending now."""
        self.t0, self.t1 = t0, time.time()
        self.status, self.headers, self.body, self.error = status, list(headers), body, error

    def header(self, name):
        """The first value of the header name (lower case), or None."""
        return next((v for k, v in self.headers if k.lower() == name), None)

    def json(self):
        """The body as JSON; {} when it is not a JSON object."""
        try:
            found = json.loads(self.body)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def text(self):
        """The body as text."""
        return self.body.decode(errors="replace")

    def error_code(self):
        """The OAuth `error` of the body, or None."""
        return self.json().get("error")

    def unanswered(self):
        """Whether the request's fate is unknown: no response, a gateway's 502/504, or a 503."""
        return self.status in (None, 502, 503, 504)

    def retry_after(self, longest=5.0):
        """Seconds to wait before asking again: Retry-After (1 if absent), at most longest."""
        try:
            return min(longest, float(self.header("retry-after") or 1))
        except ValueError:
            return 1.0

    def __repr__(self):
        """The status (or error) and the start of the body."""
        return f"{self.status or self.error} {self.body[:160]!r}"


class Recorder:
    """Every request made, for the harness to judge against its windows."""

    def __init__(self, names):
        """An empty recorder; names maps a host:port to the name it is reported by."""
        self.names, self.records, self.lock = names, [], threading.Lock()

    def add(self, url, kind, answer):
        """Keeps one request's record: its timing, target, status and what the report judges it by."""
        netloc = urlsplit(url).netloc
        record = {"t0": answer.t0, "t1": answer.t1, "kind": kind, "target": self.names.get(netloc, netloc),
                  "status": answer.status, "retry_after": answer.header("retry-after") is not None,
                  "served_by": answer.header("x-served-by"), "error": answer.error}
        if kind.startswith("introspect") and answer.status == 200:
            record["active"] = answer.json().get("active")
        if answer.status and answer.status >= 400:
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
        answer = Answer(started, response.status, response.getheaders(), response.read())
    except (OSError, http.client.HTTPException) as failure:
        answer = Answer(started, error=f"{type(failure).__name__}: {failure}")
    finally:
        connection.close()
    RECORDER.add(url, kind, answer)
    return answer


def jwt_header(token):
    """The decoded header of a JWT."""
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def together(calls):
    """Runs the calls at once, released by one barrier; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def one(index, fn):
        """Waits for the others, then makes its call."""
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
        """The setup window, steady, until standard input says otherwise."""
        self.name, self.steady, self.generation = "setup", True, 0
        self.lock, self.stop = threading.Lock(), threading.Event()

    def follow(self, stream):
        """Follows the harness's lines on stream until `stop` or its end."""
        try:
            for line in stream:
                words = line.split()
                if words[:1] == ["phase"]:
                    with self.lock:
                        self.name, self.steady = " ".join(words[1:-1]), words[-1] == "steady"
                        self.generation += 1
                    print("ok", flush=True)
                elif words[:1] == ["stop"]:
                    break
        finally:
            self.stop.set()


class Client:
    """A registered client: its id, secret, and token-endpoint calls."""

    def __init__(self, created):
        """A client as the admin API created it."""
        self.id, self.secret = created["client_id"], created.get("client_secret")

    def credentials(self, base, kind="client_credentials", secret=None):
        """A client-credentials token request to base, with secret instead of the client's if given."""
        return call("POST", base + "/token", kind, form={"grant_type": "client_credentials"},
                    auth=(self.id, secret or self.secret))

    def introspect(self, base, token, kind="introspect"):
        """Introspects token at base."""
        return call("POST", base + "/introspect", kind, form={"token": token}, auth=(self.id, self.secret))

    def revoke(self, base, token, kind="revoke"):
        """Revokes token at base."""
        return call("POST", base + "/revoke", kind, form={"token": token}, auth=(self.id, self.secret))

    def refresh(self, base, token, kind="refresh"):
        """Exchanges a refresh token at base."""
        return call("POST", base + "/token", kind, form={"grant_type": "refresh_token", "refresh_token": token},
                    auth=(self.id, self.secret))

    def exchange(self, base, code, verifier, kind="code_exchange"):
        """Exchanges a code and its PKCE verifier at base."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        return call("POST", base + "/token", kind, form=form, auth=(self.id, self.secret))


class Admin:
    """The admin API, with the bootstrap client's token."""

    def __init__(self, base, client):
        """Takes an admin token with the bootstrap client's credentials at base."""
        self.base, self.client = base, Client(client)
        answer = self.client.credentials(base, "admin_token")
        if answer.status != 200:
            raise RuntimeError(f"no admin token: {answer}")
        self.token = answer.json()["access_token"]

    def request(self, method, path, body=None, base=None, kind="admin"):
        """One admin API request, to base (else through HAProxy)."""
        return call(method, (base or self.base) + "/admin/v1" + path, kind, body=body, bearer=self.token)

    def expect(self, status, method, path, body=None):
        """The JSON of a request that must answer status."""
        answer = self.request(method, path, body)
        if answer.status != status:
            raise RuntimeError(f"{method} {path}: {answer}")
        return answer.json()


class Browser:
    """A user agent with its own cookies, signing in through the code flow with PKCE."""

    def __init__(self, base, client, username, password=PASSWORD):
        """A browser without cookies, for username at base, through client."""
        self.base, self.client, self.username, self.password = base, client, username, password
        self.cookies = {}

    def get(self, url, kind):
        """GET url with the cookies, keeping what it sets."""
        answer = call("GET", url, kind, cookies=self.cookies)
        self.keep_cookies(answer)
        return answer

    def keep_cookies(self, answer):
        """Keeps the cookies answer sets."""
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                key, _, val = value.split(";")[0].partition("=")
                self.cookies[key.strip()] = val

    def login_form(self, page):
        """The login page's hidden fields and action, or None."""
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text()))
        action = re.search(r'<form method="post" action="([^"]+)"', page.text())
        return (fields, action.group(1)) if action and "interaction" in fields else None

    def submit(self, form, password, kind="login"):
        """Posts the login form with password."""
        fields, action = form
        fields = dict(fields, username=self.username, password=password)
        answer = call("POST", urljoin(self.base + "/", action), kind, form=fields, cookies=self.cookies)
        self.keep_cookies(answer)
        return answer

    def follow(self, page, kind, limit=6):
        """Follows the server's redirects from page (at most limit); the first answer that is not one,
        or a redirect to the client."""
        for _ in range(limit):
            location = page.header("location")
            if not location or location.startswith(REDIRECT):
                return page
            page = self.get(urljoin(self.base + "/", location), kind)
        raise RuntimeError(f"more than {limit} redirects from {self.base}")

    def authorize(self, kind="authorize"):
        """Where /authorize leads (redirects followed), and the PKCE verifier of its request."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"response_type": "code", "client_id": self.client.id, "redirect_uri": REDIRECT,
                           "scope": "openid offline_access", "code_challenge": challenge,
                           "code_challenge_method": "S256", "state": secrets.token_urlsafe(8)})
        return self.follow(self.get(f"{self.base}/authorize?{query}", kind), kind), verifier

    def code(self):
        """A fresh code and its verifier, signing in when asked; None when refused."""
        page, verifier = self.authorize()
        form = page.status == 200 and self.login_form(page)
        if form:
            page = self.follow(self.submit(form, self.password), "authorize")
        location = page.header("location") or ""
        found = parse_qs(urlsplit(location).query).get("code") if location.startswith(REDIRECT) else None
        return (found[0], verifier) if found else None

    def refresh_token(self):
        """A new grant's refresh token (a sign-in and a code exchange), or None."""
        got = self.code()
        if not got:
            return None
        answer = self.client.exchange(self.base, *got)
        return answer.json().get("refresh_token") if answer.status == 200 else None


def guarded(ctx, fn, *args):
    """fn(*args); an exception it raises is kept in ctx.errors (a failure), and None returned."""
    try:
        return fn(*args)
    except Exception:  # a dead thread must fail the run, not shrink it silently
        ctx.errors.append(f"{fn.__name__}: {traceback.format_exc(limit=4)}")
        return None


def chain_worker(ctx, worker):
    """Signs in, then rotates the refresh token again and again until the chain ends (see advance);
    a new sign-in starts another."""
    browser = Browser(ctx.balancer, ctx.clients["web"], f"walker{worker}")
    while not ctx.done.is_set():
        token = browser.refresh_token()
        if not token:
            time.sleep(0.5)
            continue
        chain = ctx.open_chain(token)
        while chain["state"] == "open" and not ctx.done.wait(0.3):
            advance(ctx, chain)


def resend(ctx, token, answer, kind, until):
    """While answer left the refresh's fate unknown, token sent again after its Retry-After, until
    the instant until; the last answer."""
    while answer.unanswered() and time.time() + answer.retry_after() < until:
        time.sleep(answer.retry_after())
        answer = ctx.clients["web"].refresh(ctx.balancer, token, kind)
    return answer


def advance(ctx, chain):
    """One rotation of chain. After a refresh left unanswered (no response, 502/504, 503) the last
    confirmed token is sent again within the reuse interval: a 200 continues the chain; invalid_grant
    means the lost request rotated it (alive, but its new token unknown): uncertain, as is no answer
    at all; invalid_grant to the first request means the family was lost; any other answer fails."""
    first = ctx.clients["web"].refresh(ctx.balancer, chain["token"])
    answer = resend(ctx, chain["token"], first, "refresh_resend", first.t0 + REUSE_INTERVAL - 5)
    if answer.status == 200:
        chain["token"], chain["rotations"] = answer.json()["refresh_token"], chain["rotations"] + 1
        return
    if answer.unanswered() or (answer is not first and answer.error_code() == "invalid_grant"):
        state = "uncertain"
    else:
        state = "lost" if answer.error_code() == "invalid_grant" else "failed"
    chain.update(state=state, t0=first.t0, t1=first.t1, answer=repr(answer))


def service_worker(ctx):
    """Client credentials, introspected; now and then revoked, then introspected until some host calls
    it inactive (`introspect_revoking`: the revocation may take PROPAGATION to reach every host); if
    none did within it, once more (`introspect_revoked`, which must say inactive)."""
    service, resource = ctx.clients["service"], ctx.clients["resource"]

    def inactive(token, kind):
        """Whether the host HAProxy picks calls token inactive."""
        return resource.introspect(ctx.balancer, token, kind).json().get("active") is False

    while not ctx.done.is_set():
        answer = service.credentials(ctx.balancer)
        if answer.status == 200:
            token = answer.json()["access_token"]
            resource.introspect(ctx.balancer, token)
            if random.random() < 0.3 and service.revoke(ctx.balancer, token).status == 200:
                if not wait_until(lambda: inactive(token, "introspect_revoking"), PROPAGATION):
                    inactive(token, "introspect_revoked")
        time.sleep(0.1)


def admin_worker(ctx):
    """Changes a client every half second; creates and deletes one now and then."""
    churn = ctx.clients["churn"].id
    for step in itertools.count():
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


def web_metadata(name, **extra):
    """Metadata of a confidential code-flow client that refreshes and skips consent."""
    return {"client_name": name, "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid offline_access", "skip_consent": True, "token_rate_limit": 0, **extra}


CLIENTS = {
    "web": web_metadata("cluster web", refresh_token_reuse_interval=REUSE_INTERVAL),
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
        """Creates the clients and users over the admin API."""
        self.balancer, self.hosts = config["balancer"], config["hosts"]
        self.lockout_threshold = config["lockout_threshold"]
        self.admin = Admin(self.balancer, config["admin"])
        self.clients = {name: Client(self.admin.expect(201, "POST", "/clients", metadata))
                        for name, metadata in CLIENTS.items()}
        for username in USERS:
            self.admin.expect(201, "POST", "/users", {"username": username, "password": PASSWORD})
        self.phase, self.done = Phase(), threading.Event()
        self.chains, self.chains_lock, self.errors = [], threading.Lock(), []
        self.samples = {name: [] for name in PROBE_TARGETS}
        self.inconclusive = collections.Counter()
        self.racer = Browser(self.balancer, self.clients["racer"], "racer")

    def open_chain(self, token):
        """A new refresh chain, its last refresh token confirmed by a 200."""
        chain = {"token": token, "state": "open", "rotations": 0}
        with self.chains_lock:
            self.chains.append(chain)
        return chain

    def other_hosts(self, base):
        """Every host's URL but base."""
        return [url for url in self.hosts.values() if url != base]


# Probes: each returns a sample (a dict), or None when a host did not answer (inconclusive);
# an exception is a failed sample.

def code_race(ctx):
    """A code sent to two hosts at once: exactly one may exchange it."""
    got = ctx.racer.code()
    if not got:
        return None
    pair = random.sample(sorted(ctx.hosts.values()), 2)
    racer = ctx.clients["racer"]
    return race_sample(together([lambda base=base: racer.exchange(base, *got, kind="probe_code_race")
                                 for base in pair]))


def refresh_race(ctx):
    """One refresh token sent to all three hosts at once: exactly one may rotate it."""
    token = ctx.racer.refresh_token()
    if not token:
        return None
    racer = ctx.clients["racer"]
    return race_sample(together([lambda base=base: racer.refresh(base, token, kind="probe_refresh_race")
                                 for base in ctx.hosts.values()]))


def race_sample(answers):
    """How many of a race's answers won. None (inconclusive) if a host failed to answer, or if the
    requests did not really overlap in time (one answered before another was sent) and one won."""
    statuses = [a.status for a in answers]
    if any(s is None or s >= 500 for s in statuses):
        return None
    overlapped = max(a.t0 for a in answers) < min(a.t1 for a in answers)
    if statuses.count(200) == 1 and not overlapped:
        return None
    return {"statuses": statuses, "winners": statuses.count(200), "overlapped": overlapped,
            "held": statuses.count(200) == 1}


def wait_until(check, timeout=3.0):
    """Polls check() every POLL seconds; the time it first held, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return time.time()
        time.sleep(POLL)
    return None


def active(ctx, base, token):
    """Whether base's introspection says token is active (None: no answer)."""
    answer = ctx.clients["resource"].introspect(base, token, "probe_introspect")
    return answer.json().get("active") if answer.status == 200 else None


def seen_everywhere(ctx, bases, token, state):
    """For each base, seconds until its introspection says token's active is state (None: never within 3 s)."""
    since = time.time()

    def latency(base):
        """Seconds until base shows the state, or None."""
        at = wait_until(lambda: active(ctx, base, token) is state)
        return at - since if at else None
    return together([lambda base=base: latency(base) for base in bases])


def fresh_token(ctx, client):
    """A token of client from one host, checked active on the others: (that host, token, the others);
    None when a host did not answer; an error when another host calls it inactive."""
    base = random.choice(sorted(ctx.hosts.values()))
    issued = client.credentials(base, "probe_token")
    if issued.status != 200:
        return None
    token, others = issued.json()["access_token"], ctx.other_hosts(base)
    seen = [active(ctx, other, token) for other in others]
    if None in seen:
        return None
    if not all(seen):
        raise RuntimeError(f"a fresh token is inactive on another host: {dict(zip(others, seen))}")
    return base, token, others


def revocation(ctx):
    """A token revoked on one host: how long until the others say it is inactive."""
    fresh = fresh_token(ctx, ctx.clients["service"])
    if not fresh:
        return None
    base, token, others = fresh
    if ctx.clients["service"].revoke(base, token, "probe_revoke").status != 200:
        return None
    return {"latencies": seen_everywhere(ctx, others, token, False)}


def set_enabled(ctx, client, enabled, base):
    """Enables or disables client through base; whether it answered 200."""
    action = "enable" if enabled else "disable"
    return ctx.admin.request("POST", f"/clients/{client.id}/{action}", base=base,
                             kind=f"probe_{action}").status == 200


def client_change(ctx):
    """A client disabled on one host: how long until the others refuse its tokens; then enabled
    again, and how long until they take them again. The client ends enabled whatever happens."""
    victim = ctx.clients["victim"]
    fresh = fresh_token(ctx, victim)
    if not fresh:
        return None
    base, token, others = fresh
    restored = False
    try:
        if not set_enabled(ctx, victim, False, base):
            return None
        disabled = seen_everywhere(ctx, others, token, False)
        restored = set_enabled(ctx, victim, True, base)
        if not restored:
            return None
        return {"latencies": disabled, "enable_latencies": seen_everywhere(ctx, others, token, True)}
    finally:
        for _ in range(20):
            if restored:
                break
            time.sleep(0.5)
            restored = set_enabled(ctx, victim, True, ctx.balancer)
        if not restored:
            raise RuntimeError("the victim client could not be enabled again")


class KeyWatcher:
    """Polls every host's JWKS and tokens signed there, keeping each
    observation (host, start, end, key ids) with the times its request started and ended."""

    def __init__(self, ctx):
        """A watcher of every host, two polling threads each, not started yet."""
        self.ctx, self.jwks, self.signed, self.stop = ctx, [], [], threading.Event()
        self.threads = [threading.Thread(target=guarded, args=(ctx, poll, base))
                        for base in ctx.hosts.values() for poll in (self.poll_jwks, self.poll_tokens)]

    def __enter__(self):
        """Starts polling."""
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        """Stops polling."""
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def poll_jwks(self, base):
        """The key ids base publishes, every 10 ms."""
        while not self.stop.wait(0.01):
            answer = call("GET", base + "/jwks", "probe_jwks")
            if answer.status == 200:
                kids = {key["kid"] for key in answer.json().get("keys", [])}
                self.jwks.append((base, answer.t0, answer.t1, kids))

    def poll_tokens(self, base):
        """The key id of a token base signs, every 30 ms."""
        while not self.stop.wait(0.03):
            answer = self.ctx.clients["signer"].credentials(base, "probe_signed_token")
            if answer.status == 200:
                kid = jwt_header(answer.json()["access_token"])["kid"]
                self.signed.append((base, answer.t0, answer.t1, {kid}))

    def everywhere(self, observations, kid):
        """Whether every host has shown kid in observations (self.jwks or self.signed)."""
        return {base for base, _, _, kids in list(observations) if kid in kids} == set(self.ctx.hosts.values())

    def verdict(self, kid, made, committed):
        """Publication latency per host (from the answer that made the key:
        its commit, after the key was generated), and whether some host was
        shown not to publish the key after a token it signed had been answered."""
        first_signed = min((end for _, _, end, kids in self.signed if kid in kids), default=None)
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
    """A staged key, activated once every host publishes it: how fast they do; that every host
    signs with it after activation; the publication-before-signing check is easy here (it waited)."""
    return watch_key(ctx, rotate=False)


def key_rotate(ctx):
    """A rotated key (it signs as soon as the server lets it, with no wait by the harness):
    published everywhere before any host signs with it."""
    return watch_key(ctx, rotate=True)


def watch_key(ctx, rotate):
    """Makes a key on one host (rotated, or staged then activated) while every host is watched;
    the KeyWatcher's verdict, or None when the admin API did not answer."""
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
            wait_until(lambda: watcher.everywhere(watcher.jwks, kid))
            if ctx.admin.request("POST", f"/keys/{kid}/activate", base=base, kind="probe_key").status != 200:
                return None
        wait_until(lambda: watcher.everywhere(watcher.signed, kid), timeout=4)
    return watcher.verdict(kid, made, committed)


PROBES = [code_race, refresh_race, revocation, client_change, key_stage, key_rotate]


def probe_worker(ctx):
    """Runs the probes in turn while the window is steady, a few times per
    window so they spread over the run; once the harness says `stop`, runs
    the rest at once and ends when every target is met (or SOAK_LIMIT passed)."""
    ran, soak_started, finishing = collections.Counter(), None, ctx.phase.stop
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
    """Runs probe once, keeping its sample with when and in which window (an exception: a failed
    sample; None: counted inconclusive)."""
    at = time.time()
    try:
        sample = probe(ctx)
    except Exception as failure:
        sample = {"held": False, "error": f"{type(failure).__name__}: {failure}"}
    if sample is None:
        ctx.inconclusive[probe.__name__] += 1
    else:
        ctx.samples[probe.__name__].append(dict(sample, at=at, phase=ctx.phase.name))


# The last checks, after the load stopped.

def chains_survive(ctx):
    """Every chain still open refreshes once more through HAProxy (asked again on a 503 or no
    answer): kept on a 200, lost on invalid_grant, failed on anything else."""
    for chain in ctx.chains:
        if chain["state"] == "open":
            first = ctx.clients["web"].refresh(ctx.balancer, chain["token"], "final_refresh")
            answer = resend(ctx, chain["token"], first, "final_refresh", time.time() + 30)
            chain["state"] = ("kept" if answer.status == 200 else
                              "lost" if answer.error_code() == "invalid_grant" else "failed")
            chain["answer"] = repr(answer)
    return ctx.chains


def outcome(answer):
    """A status and its OAuth error, e.g. `401 invalid_client`."""
    return f"{answer.status} {answer.error_code()}" if answer.error_code() else str(answer.status)


def lockout(ctx):
    """Wrong secrets spread over the hosts up to the threshold; once the
    lockout has had its second to reach every host, even the right secret
    must be refused (401 invalid_client) on every host. Not sooner: a host
    the lockout has not reached yet lets the right secret through, and from
    then on counts that address among the client's own callers, which a
    lockout never shuts out (crates/portcullis-oauth/src/client_auth.rs)."""
    guarded_client, bases = ctx.clients["guarded"], sorted(ctx.hosts.values())
    wrong = [outcome(guarded_client.credentials(bases[i % 3], "probe_lockout", secret="wrong-" + secrets.token_hex(8)))
             for i in range(ctx.lockout_threshold)]
    time.sleep(1.2)
    later = [outcome(guarded_client.credentials(base, "probe_lockout")) for base in bases]
    return {"wrong": wrong, "right_after_1.2s": later,
            "held": all(s == "401 invalid_client" for s in wrong + later)}


def rate_limit(ctx, pause=0.3):
    """Six times a client's per-minute limit, spread over the hosts. Counted
    on each host alone, three times the limit would be granted; counted
    cluster-wide, crates/portcullis-app/src/rate_limits.rs bounds it: the
    limit, plus what the other hosts admitted in up to two sync intervals
    before their counts are seen, plus under a tenth of the limit on each
    host before it first writes its count. Slow enough for the bound to stay
    well below what the hosts alone would grant."""
    limited, bases, started = ctx.clients["limited"], sorted(ctx.hosts.values()), time.time()
    statuses = []
    for i in range(6 * RATE_LIMIT):
        statuses.append(limited.credentials(bases[i % 3], "probe_rate_limit").status)
        time.sleep(pause)
    seconds = time.time() - started
    others_rate = len(statuses) / seconds * (len(bases) - 1) / len(bases)
    bound = RATE_LIMIT + 2 * SYNC_INTERVAL * others_rate + len(bases) * math.ceil(RATE_LIMIT / 10)
    granted, alone = statuses.count(200), len(bases) * RATE_LIMIT
    return {"limit": RATE_LIMIT, "sent": len(statuses), "granted": granted, "bound": round(bound, 1),
            "alone": alone, "seconds": round(seconds, 1), "statuses": dict(collections.Counter(statuses)),
            "held": RATE_LIMIT <= granted <= bound < alone}


def login_throttle(ctx, attempts=8, allowed=5):
    """Wrong passwords for one account from one address, spread over the
    hosts: the first `allowed` refused as wrong (401), the rest throttled (429 with Retry-After)."""
    bases, outcomes = sorted(ctx.hosts.values()), []
    for attempt in range(attempts):
        browser = Browser(bases[attempt % 3], ctx.clients["web"], "throttled")
        page, _ = browser.authorize("probe_throttle")
        form = browser.login_form(page)
        answer = browser.submit(form, "wrong password", "probe_throttle_login") if form else page
        outcomes.append({"status": answer.status, "retry_after": answer.header("retry-after")})
    judged = all(o["status"] == 401 for o in outcomes[:allowed])
    refused = all(o["status"] == 429 and o["retry_after"] for o in outcomes[allowed:])
    return {"attempts": outcomes, "held": judged and refused}


FINAL_CHECKS = [chains_survive, lockout, rate_limit, login_throttle]


def main():
    """Sets up, says `ready`, loads and probes until `stop`, runs the last checks, writes the results."""
    with open(sys.argv[1]) as source:
        config = json.load(source)
    RECORDER.names.update({urlsplit(url).netloc: name for name, url in config["hosts"].items()})
    RECORDER.names[urlsplit(config["balancer"]).netloc] = "lb"
    ctx = Context(config)
    threading.Thread(target=ctx.phase.follow, args=(sys.stdin,), daemon=True).start()
    workers = [threading.Thread(target=guarded, args=(ctx, chain_worker, ctx, n)) for n in range(3)]
    workers += [threading.Thread(target=guarded, args=(ctx, service_worker, ctx)) for _ in range(2)]
    workers += [threading.Thread(target=guarded, args=(ctx, admin_worker, ctx))]
    prober = threading.Thread(target=guarded, args=(ctx, probe_worker, ctx))
    for thread in workers + [prober]:
        thread.start()
    print("ready", flush=True)
    ctx.phase.stop.wait()
    prober.join()
    ctx.done.set()
    for thread in workers:
        thread.join()
    finals = {check.__name__: guarded(ctx, check, ctx) for check in FINAL_CHECKS}
    with open(config["results"], "w") as out:
        json.dump({"records": RECORDER.records, "samples": ctx.samples, "targets": PROBE_TARGETS,
                   "inconclusive": ctx.inconclusive, "errors": ctx.errors, **finals}, out)


if __name__ == "__main__":
    main()

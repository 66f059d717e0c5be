#!/usr/bin/env python3
"""Runs the code flow for SECONDS with a plain request, then for SECONDS
pushed (RFC 9126): a signed-in browser sends the request (or pushes it and
sends its request_uri) to /authorize, which answers with a code at once
(the client skips consent), and the code is exchanged at /token, one flow
after another. Prints flows a second; on PostgreSQL (DATABASE_URL
postgres://...) also what each flow wrote to the pushed_requests table and
how many transactions the database committed meanwhile (every statement
outside a transaction counts, and so do the server's own background jobs),
from PostgreSQL's own statistics: what PAR adds to a sign-in is the
difference between the two lines.

    python3 bench/par_flow.py ISSUER CLIENT_ID SECRET USERNAME PASSWORD SECONDS
"""
import base64, hashlib, os, re, secrets, subprocess, sys, time
from urllib.parse import parse_qs, urljoin, urlparse
import requests

issuer, client_id, secret, username, password, seconds = sys.argv[1:7]
REDIRECT = "https://app.example/cb"
database = os.environ.get("DATABASE_URL", "")


def counters():
    """pushed_requests inserts and deletes, and commits in the database."""
    if not database.startswith("postgres"):
        return None
    query = ("SELECT n_tup_ins, n_tup_del, (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) "
             "FROM pg_stat_user_tables WHERE relname = 'pushed_requests'")
    # A backend publishes its counts at a transaction's end at most once a second, and once
    # idle after 10 s (PostgreSQL 15's PGSTAT_MIN_INTERVAL and PGSTAT_IDLE_INTERVAL): wait both out.
    time.sleep(11)
    row = subprocess.run(["psql", database, "-Atc", query], check=True, capture_output=True, text=True).stdout
    return [int(n) for n in row.strip().split("|")]


browser = requests.Session()
token_client = requests.Session()
token_client.auth = (client_id, secret)


def sign_in():
    """Signs the browser in once, through the login form of a first flow."""
    page = browser.get(issuer + "/authorize", params=authorization(push=False)[0], allow_redirects=False)
    while not page.headers.get("location", "").startswith(REDIRECT):
        if "location" in page.headers:
            page = browser.get(urljoin(issuer, page.headers["location"]), allow_redirects=False)
            continue
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        fields.update(username=username, password=password)
        page = browser.post(urljoin(issuer, action), data=fields, allow_redirects=False)


def authorization(push=True):
    """The request's parameters (pushed first when push) and its verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    if push:
        pushed = token_client.post(issuer + "/par", data=params)
        assert pushed.status_code == 201, pushed.text
        params = {"client_id": client_id, "request_uri": pushed.json()["request_uri"]}
    return params, verifier


def flow(push):
    params, verifier = authorization(push)
    answer = browser.get(issuer + "/authorize", params=params, allow_redirects=False)
    callback = parse_qs(urlparse(answer.headers.get("location", "")).query)
    assert "code" in callback, (answer.status_code, answer.headers.get("location"), answer.text[:300])
    code = callback["code"][0]
    tokens = token_client.post(issuer + "/token", data={"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text


sign_in()
for push in (False, True):
    flow(push)
    before = counters()
    flows, start = 0, time.monotonic()
    while time.monotonic() - start < float(seconds):
        flow(push)
        flows += 1
    elapsed = time.monotonic() - start
    after = counters()
    line = f"{'pushed' if push else 'plain'}: {flows / elapsed:.0f} flows/s"
    if before and after:
        inserts, deletes, commits = (b - a for a, b in zip(before, after))
        # The first reading's own transaction is counted once.
        line += (f"; per flow: pushed_requests {inserts / flows:.2f} inserts, {deletes / flows:.2f} deletes,"
                 f" {(commits - 1) / flows:.2f} commits in all")
    print(line)

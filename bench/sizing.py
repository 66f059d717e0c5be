#!/usr/bin/env python3
"""Sign-ins for bench/run --sizing, through the login form as a browser
does, with a client that skips consent.

    python3 bench/sizing.py seed ISSUER CLIENT_ID SECRET USERNAME PASSWORD N
        prints N refresh tokens, one a line (one browser signed in once,
        then N code flows of a client with the refresh_token grant), for
        bench/wrk/refresh.lua
    python3 bench/sizing.py sign-ins ISSUER CLIENT_ID SECRET USERNAME PASSWORD SECONDS THREADS
        full password sign-ins (a new browser each: the login form, the
        password checked, the code exchanged) from THREADS threads for
        SECONDS; prints how many, how many a second, and the requests each took
"""
import base64, hashlib, re, secrets, sys, threading, time
from urllib.parse import parse_qs, urljoin, urlparse
import requests

REDIRECT = "https://app.example/cb"
mode, issuer, client_id, secret, username, password = sys.argv[1:7]


def code_flow(browser):
    """One code flow in BROWSER (signing in on the way when it is not yet);
    returns the token response and the HTTP requests it took."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    page = browser.get(issuer + "/authorize", params=params, allow_redirects=False)
    sent = 2  # this one, and the token request
    while not page.headers.get("location", "").startswith(REDIRECT):
        if "location" in page.headers:
            page = browser.get(urljoin(issuer, page.headers["location"]), allow_redirects=False)
            sent += 1
            continue
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action, (page.status_code, page.text[:300])
        fields.update(username=username, password=password)
        page = browser.post(urljoin(issuer, action.group(1)), data=fields, allow_redirects=False)
        sent += 1
    code = parse_qs(urlparse(page.headers["location"]).query)["code"][0]
    tokens = requests.post(issuer + "/token", auth=(client_id, secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    return tokens.json(), sent


def seed(count):
    browser = requests.Session()
    for _ in range(count):
        print(code_flow(browser)[0]["refresh_token"])


def sign_ins(seconds, threads):
    done, deadline = [], time.monotonic() + seconds

    def signing_in():
        while time.monotonic() < deadline:
            done.append(code_flow(requests.Session())[1])

    start = time.monotonic()
    workers = [threading.Thread(target=signing_in) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(len(done), f"{len(done) / (time.monotonic() - start):.1f}", sum(done) // max(len(done), 1))


if mode == "seed":
    seed(int(sys.argv[7]))
else:
    sign_ins(float(sys.argv[7]), int(sys.argv[8]))

#!/usr/bin/env python3
"""Seeds a running Portcullis for the console's and the portal's page
benchmark and signs in to both.

    python3 bench/console_seed.py BASE_URL ADMIN_BASIC USERNAME PASSWORD DEVELOPER DEV_PASSWORD \
        [TEAMS] [CLIENTS] [AUDIT_ENTRIES]

ADMIN_BASIC is the base64 of an admin client's "client_id:client_secret".

Creates TEAMS teams (100) and registers CLIENTS clients (1,000) in them, in
turn, over the admin API, then changes their names until the audit log holds
AUDIT_ENTRIES entries (100,000), each change a version and an audit entry as
an admin's would be. Then signs USERNAME in to the console the way a browser
does (login page, TOTP enrolment with a code computed here, recovery codes,
callback), and DEVELOPER in to the portal, joining the first team by an
invitation link. Prints the console session's cookie, one client id of the
first team, the portal session's cookie and that team's id, tab-separated.
Standard library only.
"""
import base64
import hashlib
import hmac
import http.cookiejar
import json
import re
import struct
import sys
import time
import urllib.parse
import urllib.request

from portal_session import cookie, field, join


class Admin:
    """The admin API, with a client-credentials token renewed before it expires."""

    def __init__(self, base, basic):
        self.base, self.basic, self.token, self.renew_at = base, basic, None, 0

    def call(self, method, path, body=None):
        if time.time() >= self.renew_at:
            request = urllib.request.Request(self.base + "/token", data=b"grant_type=client_credentials",
                                             headers={"Authorization": "Basic " + self.basic})
            with urllib.request.urlopen(request) as response:
                answer = json.loads(response.read())
            self.token, self.renew_at = answer["access_token"], time.time() + answer["expires_in"] / 2
        request = urllib.request.Request(
            self.base + "/admin/v1" + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            text = response.read()
            return json.loads(text) if text else None


def newest_seq(admin):
    entries = admin.call("GET", "/audit-logs?order=newest&limit=1")["entries"]
    return entries[0]["seq"] if entries else 0


def totp(key):
    secret = base64.b32decode(key.replace(" ", "") + "=" * (-len(key.replace(" ", "")) % 8))
    digest = hmac.new(secret, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def sign_in(base, username, password):
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    get = lambda url: browser.open(url).read().decode()
    post = lambda path, form: browser.open(base + path, urllib.parse.urlencode(form).encode()).read().decode()
    login = get(base + "/console")
    enrol = post("/login", {"interaction": field(login, "interaction"), "csrf": field(login, "csrf"),
                            "username": username, "password": password})
    key = re.search(r'<span class="key">([^<]*)</span>', enrol).group(1)
    codes = post("/login/second-factor", {"interaction": field(enrol, "interaction"),
                                          "csrf": field(enrol, "csrf"), "code": totp(key)})
    resume = re.search(r'href="(/authorize/resume[^"]*)"', codes).group(1).replace("&amp;", "&")
    get(base + resume)
    return next(c.value for c in jar if c.name == "portcullis_console")


def main():
    base, basic, username, password, developer, dev_password = sys.argv[1:7]
    admin = Admin(base, basic)
    teams = int(sys.argv[7]) if len(sys.argv) > 7 else 100
    clients = int(sys.argv[8]) if len(sys.argv) > 8 else 1000
    target = int(sys.argv[9]) if len(sys.argv) > 9 else 100000
    team_ids = [admin.call("POST", "/teams", {"name": "team %d" % n})["team_id"] for n in range(teams)]
    ids = [admin.call("POST", "/teams/%s/clients" % team_ids[n % teams],
                      {"client_name": "bench %d" % n, "grant_types": ["client_credentials"], "scope": "read"}
                      )["client_id"] for n in range(clients)]
    seq, change = newest_seq(admin), 0
    while seq < target:
        for client_id in ids[: min(len(ids), target - seq)]:
            change += 1
            admin.call("PATCH", "/clients/" + client_id, {"client_name": "bench %d" % change})
        seq = newest_seq(admin)
        print("audit entries: %d" % seq, file=sys.stderr)
    invitation = admin.call("POST", "/teams/%s/invitations" % team_ids[0], {"role": "developer"})["invitation_token"]
    _, jar, _ = join(base, developer, dev_password, invitation)
    portal = cookie(jar, "portcullis_portal")
    print("%s\t%s\t%s\t%s" % (sign_in(base, username, password), ids[0], portal, team_ids[0]))


main()

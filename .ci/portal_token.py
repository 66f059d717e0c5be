"""Signs in to the developer portal as a browser does and joins a team by
its invitation link (bench/portal_session.py), then prints a personal
access token for the team, made over /portal/v1 with the portal's session
and its CSRF token in X-CSRF-Token: what CI needs to run schemathesis
against the portal's API. Standard library only.

Usage: portal_token.py BASE_URL USERNAME PASSWORD INVITATION_URL [SCOPE]

SCOPE is the token's (by default every portal scope, which needs the owner's
role); a refusal is printed as the server said it.
"""
import json
import pathlib
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
from portal_session import cookie, join  # noqa: E402


def main():
    base, username, password, invitation_url = sys.argv[1:5]
    scope = sys.argv[5] if len(sys.argv) > 5 else "portal:read portal:apps portal:members"
    invitation = urllib.parse.parse_qs(urllib.parse.urlsplit(invitation_url).query)["token"][0]
    browser, jar, team_page = join(base, username, password, invitation)
    team = team_page.rstrip("/").rsplit("/", 1)[-1]
    wanted = {"name": "schemathesis", "scope": scope, "expires_in_days": 1}
    request = urllib.request.Request(
        "%s/portal/v1/teams/%s/personal-tokens" % (base, team), json.dumps(wanted).encode(),
        {"Content-Type": "application/json", "X-CSRF-Token": cookie(jar, "portcullis_portal_csrf")})
    try:
        print(json.load(browser.open(request))["token"])
    except urllib.error.HTTPError as refused:
        sys.exit("the token was refused: %s %s" % (refused.code, refused.read().decode()))


main()

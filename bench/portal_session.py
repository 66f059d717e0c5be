"""Signs in to the developer portal as a browser does: an invitation link
leads, signed out, through the portal's sign-in to the login form at this
server's authorization endpoint, and back to the invitation, which is
accepted. Shared by bench/console_seed.py and .ci/portal_token.py.
Standard library only.
"""
import http.cookiejar
import re
import urllib.parse
import urllib.request


def field(html, name):
    """The value of the form field `name` on the page `html`."""
    found = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    if not found:
        raise ValueError("no %s on the page:\n%s" % (name, html))
    return found.group(1)


def join(base, username, password, invitation):
    """Signs USERNAME in through the invitation (its token) and joins the
    team; returns the browser (a urllib opener), its cookies, and the URL of
    the team's page it landed on."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = browser.open(base + "/portal/join?token=" + invitation).read().decode()
    form = {"interaction": field(login, "interaction"), "csrf": field(login, "csrf"),
            "username": username, "password": password}
    question = browser.open(base + "/login", urllib.parse.urlencode(form).encode()).read().decode()
    form = {"csrf": field(question, "csrf"), "token": invitation}
    joined = browser.open(base + "/portal/join", urllib.parse.urlencode(form).encode())
    return browser, jar, joined.geturl()


def cookie(jar, name):
    """The value of the cookie `name`."""
    return next(c.value for c in jar if c.name == name)

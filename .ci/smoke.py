"""Smoke check of a running SmartMkt: log in, then dashboard, insights, admin login and schema
answer 200."""

from __future__ import annotations

import http.cookiejar
import re
import sys
import time
import urllib.parse
import urllib.request


def main(base: str, email: str, password: str) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for _ in range(60):
        try:
            page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
            break
        except OSError:
            time.sleep(1)
    else:
        print("server did not come up", file=sys.stderr)
        return 1
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not token:
        print("no CSRF token on the login page", file=sys.stderr)
        return 1
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "login": email, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": base}
    )
    opener.open(request, timeout=30).read()
    anonymous = urllib.request.build_opener()
    failures = []
    checks = [
        (opener, "/", "Revenue"),
        # make demo analysed the demo shop's reviews and posts and fitted their topics
        (opener, "/insights/", "Texts analysed"),
        (opener, "/insights/topics/", "topic-card"),
        # ...and forecast every series (the headline chart is the shop's weekly revenue)
        (opener, "/forecasts/", "headline-chart"),
        (opener, "/forecasts/s/shop.all.revenue.D/", "forecast-chart"),
        (anonymous, "/admin/login/", "SmartMkt"),
        (anonymous, "/api/schema/", "openapi"),
    ]
    for client, path, needle in checks:
        response = client.open(f"{base}{path}", timeout=60)
        body = response.read().decode(errors="replace")
        ok = response.status == 200 and needle in body and "/accounts/login/" not in response.url
        print(f"{'ok  ' if ok else 'FAIL'} {path} -> {response.status} {response.url}")
        if not ok:
            failures.append(path)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

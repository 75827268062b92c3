"""Links of an email: UTM parameters added, and each http(s) link routed through a tracker."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def utm_add(url: str, params: Mapping[str, str]) -> str:
    """`url` with the UTM parameters it does not have yet (its own values win)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    query += [(name, value) for name, value in params.items() if value and name not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def links_rewrite(html: str, rewrite: Callable[[str], str | None]) -> str:
    """Every <a href> with an http(s) address passed through `rewrite` (None keeps it)."""

    def replace(match: re.Match[str]) -> str:
        prefix, quote, url = match.group(1), match.group(2), match.group(3)
        address = url.strip().replace("&amp;", "&")
        if not address.lower().startswith(("http://", "https://")):
            return match.group(0)
        new = rewrite(address)
        if new is None:
            return match.group(0)
        return f"{prefix}{quote}{new.replace('&', '&amp;')}{quote}"

    return _HREF.sub(replace, html)

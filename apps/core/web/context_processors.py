"""Navigation of the web UI: one entry per area, grouped in sections, highlighted by URL prefix."""

from __future__ import annotations

from functools import cache
from typing import Any

from apps.accounts.selectors import user_role

NAVIGATION = [
    ("Dashboard", "/", "speedometer2", "Overview"),
    ("Customers", "/customers/", "people", "Audience"),
    ("Segments", "/segments/", "diagram-3", "Audience"),
    ("Campaigns", "/campaigns/", "megaphone", "Engage"),
    ("Recommendations", "/recommendations/", "stars", "Engage"),
    ("Insights", "/insights/", "chat-quote", "Understand"),
    ("Media", "/media/", "image", "Understand"),
    ("Forecasts", "/forecasts/", "graph-up-arrow", "Understand"),
    ("Data", "/data/", "database", "Platform"),
    ("Models", "/models/", "cpu", "Platform"),
    ("Settings", "/settings/", "gear", "Platform"),
]


def navigation(request: Any) -> dict[str, Any]:
    current = request.path
    items = []
    for label, url, icon, section in NAVIGATION:
        active = current == "/" if url == "/" else current.startswith(url)
        items.append(
            {"label": label, "url": url, "icon": icon, "active": active, "section": section}
        )

    # A callable: the template engine calls it only on pages that show the role (one query).
    @cache
    def current_role() -> str:
        user = getattr(request, "user", None)
        return user_role(user=user) if user is not None else ""

    return {"nav_items": items, "current_role": current_role}

"""Navigation of the web UI: one entry per area, highlighted by URL prefix."""

from __future__ import annotations

from typing import Any

NAVIGATION = [
    ("Dashboard", "/", "speedometer"),
    ("Customers", "/customers/", "people"),
    ("Segments", "/segments/", "diagram-3"),
    ("Campaigns", "/campaigns/", "megaphone"),
    ("Recommendations", "/recommendations/", "stars"),
    ("Insights", "/insights/", "chat-quote"),
    ("Media", "/media/", "image"),
    ("Forecasts", "/forecasts/", "graph-up"),
    ("Data", "/data/", "database"),
    ("Models", "/models/", "cpu"),
    ("Settings", "/settings/", "gear"),
]


def navigation(request: Any) -> dict[str, Any]:
    current = request.path
    items = []
    for label, url, icon in NAVIGATION:
        active = current == "/" if url == "/" else current.startswith(url)
        items.append({"label": label, "url": url, "icon": icon, "active": active})
    return {"nav_items": items}

"""Errors of the recommendations app (the API turns them into `{"detail", "code"}`)."""

from __future__ import annotations

from apps.core.errors import NotFound


class PlacementNotFound(NotFound):
    """No placement has this key."""

    code = "placement_not_found"

"""A customer's time zone from what is known: an IANA name, else their country."""

from __future__ import annotations

import functools
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@functools.cache
def _country_zones() -> dict[str, str]:
    """ISO country code -> its first (most populous) zone, from tzdata's zone.tab."""
    zones: dict[str, str] = {}
    text = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            zones.setdefault(fields[0].upper(), fields[2])
    return zones


@functools.cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def customer_zone(*, zone_name: str, country: str, default: str) -> ZoneInfo:
    """The zone named (when valid), else the country's main zone, else `default`."""
    for name in (zone_name.strip(), _country_zones().get(country.strip().upper(), ""), default):
        zone = _zone(name) if name else None
        if zone is not None:
            return zone
    return ZoneInfo("UTC")

"""What every part of one simulation run shares: spec, calendar, catalogue, curves, ids, seeds.

Pure: numpy and the standard library only, no Django.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from apps.core.demo.catalog import CatalogBuild, ProductPicker, build_catalog
from apps.core.demo.config import DemoShopConfig
from apps.core.demo.text import TextBank
from apps.core.demo.timeline import RateCurves, ShopCalendar, Zone

# One random stream per phase and chunk: SeedSequence(seed, spawn_key=(phase, chunk)).
STREAMS = {
    "catalog": 0,
    "customers": 1,
    "purchases": 2,
    "orders": 3,
    "events": 4,
    "reviews": 5,
    "social": 6,
}


@dataclass(frozen=True)
class DemoShopSpec:
    """Size, seed and window of one run. The window is [start, end) in UTC days."""

    customers: int
    seed: int
    start: date
    end: date
    months: int

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_epoch(self) -> int:
        return int(
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp()
        )


def window_start(end: date, months: int) -> date:
    """The same day of the month `months` calendar months before `end` (clamped to month end)."""
    month_index = end.year * 12 + end.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in range(end.day, 27, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, min(end.day, 28))


class ShopContext:
    """The run's fixed parts plus its running id counters (orders, events, sessions ...)."""

    def __init__(self, config: DemoShopConfig, spec: DemoShopSpec) -> None:
        self.config = config
        self.spec = spec
        self.segments = config.segments
        self.countries = list(config.customers["countries"])
        zones = [Zone(int(c["utc_offset_hours"]), str(c["language"])) for c in self.countries]
        self.timeline = ShopCalendar(
            start=spec.start, n_days=spec.n_days, calendar=config.calendar, zones=zones
        )
        self.hours = self.timeline.hours
        self.end_epoch = spec.start_epoch + self.hours * 3600
        self.catalog: CatalogBuild = build_catalog(
            config.catalog,
            rng=self.rng("catalog", 0),
            rnd=self.random("catalog", 0),
            start_epoch=spec.start_epoch,
        )
        orders = config.behaviour["orders"]
        self.picker = ProductPicker(
            self.catalog.latent,
            style_loyalty=float(orders["style_loyalty"]),
            season_loyalty=float(orders["season_loyalty"]),
        )
        self.texts = TextBank(config.texts, config.catalog["shop"])
        self.currency = str(config.catalog["shop"].get("currency", "USD"))
        base = [self.timeline.base_curve(z) for z in range(len(zones))]
        promo = [self.timeline.promotion_curve(z) for z in range(len(zones))]
        # Purchase curves: one per (segment, country), group = segment * countries + country.
        self.purchase_curves = RateCurves(
            np.stack(
                [
                    base[c] * promo[c] ** segment.promo_sensitivity
                    for segment in self.segments
                    for c in range(len(zones))
                ]
            )
        )
        growth = np.exp(
            float(config.customers["signup_growth"]) * np.arange(self.hours) / self.hours
        )
        # Sign-ups (and anonymous visits) per country: the shop grows over the window.
        self.signup_curves = RateCurves(
            np.stack([base[c] * promo[c] * growth for c in range(len(zones))])
        )
        self._counters = {"order": 0, "event": 0, "session": 0, "review": 0, "social": 0}

    def seed_sequence(self, phase: str, chunk: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.spec.seed, spawn_key=(STREAMS[phase], chunk))

    def rng(self, phase: str, chunk: int) -> np.random.Generator:
        return np.random.default_rng(self.seed_sequence(phase, chunk))

    def random(self, phase: str, chunk: int) -> random.Random:
        """A stdlib generator on the same stream family, for fast per-row choices."""
        state = self.seed_sequence(phase, chunk).generate_state(4, dtype=np.uint32)
        return random.Random(int.from_bytes(state.tobytes(), "little"))

    def epoch(self, t_hours: float) -> int:
        """Hours since the window start to Unix seconds."""
        return self.spec.start_epoch + int(t_hours * 3600)

    def next_id(self, counter: str) -> int:
        self._counters[counter] += 1
        return self._counters[counter]

    def group(self, segment: np.ndarray, country: np.ndarray) -> np.ndarray:
        """Index of the (segment, country) purchase curve."""
        return segment * len(self.countries) + country

    def product_properties(self, product: int) -> dict[str, Any]:
        return {
            "sku": self.catalog.rows.products.sku[product],
            "price": self.catalog.rows.products.price_cents[product] / 100,
            "category": self.catalog.latent.category_path[product],
        }

"""Series the forecasting tests share: the airline passengers and planted patterns."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Order, OrderLine
from apps.forecasts.choices import RunTrigger
from apps.forecasts.engine.series import Series, series_build
from apps.forecasts.services.runs import forecast_run_start


def monthly_dates(count: int, start: str = "2015-01-01") -> list[date]:
    return [stamp.date() for stamp in pd.date_range(start, periods=count, freq="MS")]


def daily_dates(count: int, start: str = "2025-01-01") -> list[date]:
    return [stamp.date() for stamp in pd.date_range(start, periods=count, freq="D")]


@pytest.fixture(scope="session")
def airline() -> Series:
    from pmdarima.datasets import load_airpassengers

    values = load_airpassengers().astype(float)
    return series_build(monthly_dates(len(values), "1949-01-01"), list(values), name="airline")


def planted(
    count: int = 96,
    *,
    slope: float = 0.5,
    amplitude: float = 10.0,
    noise: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """100 + slope*t + amplitude*sin(2 pi t / 12) + N(0, noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(count)
    return 100 + slope * t + amplitude * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, count)


@pytest.fixture
def planted_series() -> Series:
    values = planted()
    return series_build(monthly_dates(len(values)), list(values), name="planted")


NOW = timezone.make_aware(datetime(2026, 6, 3, 9, 0))  # a Wednesday
TODAY = date(2026, 6, 3)


@pytest.fixture(autouse=True)
def quick_candidates(settings):
    """ARIMA searches cost seconds per series; the engine tests cover them."""
    settings.FORECASTS_SHOP_CANDIDATES = "naive,drift,ets,theta"
    settings.FORECASTS_PRODUCT_CANDIDATES = "naive,ets"


def place_orders(
    product, days: int, per_day, *, price: str = "10.00", campaign_days=(), today: date = TODAY
) -> None:
    """Orders of `product` on each of the `days` days before `today` (per_day(k) units on
    the day k days back)."""
    customer = CustomerFactory()
    orders, lines = [], []
    for k in range(days, 0, -1):
        day = today - timedelta(days=k)
        units = int(per_day(k))
        if units <= 0:
            continue
        placed = timezone.make_aware(datetime.combine(day, time(12)))
        total = Decimal(price) * units
        orders.append(
            Order(
                external_id=f"o-{product.sku}-{k}",
                customer=customer,
                placed_at=placed,
                subtotal=total,
                total=total,
                campaign="promo" if day in campaign_days else "",
            )
        )
    Order.objects.bulk_create(orders)
    for order in Order.objects.filter(external_id__startswith=f"o-{product.sku}-"):
        units = int(order.total / Decimal(price))
        lines.append(
            OrderLine(
                order=order,
                product=product,
                sku=product.sku,
                quantity=units,
                unit_price=Decimal(price),
                line_total=order.total,
            )
        )
    OrderLine.objects.bulk_create(lines)


@pytest.fixture
def refresh(django_capture_on_commit_callbacks):
    """Start a run and let its chunk tasks run (eager Celery, after the commit)."""

    def start(trigger=RunTrigger.MANUAL, now=NOW):
        with django_capture_on_commit_callbacks(execute=True):
            run = forecast_run_start(trigger=trigger, now=now)
        run.refresh_from_db()
        return run

    return start


def shop_create(settings, today: date) -> dict:
    """Boots sell ~25 a week (5 in stock), caps ~17 a week, a rare product 6 in a year."""
    settings.FORECASTS_PRODUCT_MIN_UNITS = 50
    settings.FORECASTS_HISTORY_DAYS = 400
    settings.FORECASTS_HOLIDAY_COUNTRY = ""
    shoes, hats = CategoryFactory(name="Shoes"), CategoryFactory(name="Hats")
    boot = ProductFactory(sku="BOOT", category=shoes, stock=5)
    cap = ProductFactory(sku="CAP", category=hats, stock=10_000)
    rare = ProductFactory(sku="RARE", category=hats)
    place_orders(boot, 364, lambda k: 3 + (k % 7 == 0) * 4, today=today)
    place_orders(cap, 364, lambda k: 2 + (k % 3 == 0), today=today)
    place_orders(rare, 364, lambda k: 1 if k % 60 == 0 else 0, today=today)
    return {"boot": boot, "cap": cap, "rare": rare, "shoes": shoes, "hats": hats}


@pytest.fixture
def shop(settings) -> dict:
    """The shop as of NOW (a fixed Wednesday)."""
    return shop_create(settings, TODAY)


@pytest.fixture
def live_shop(settings) -> dict:
    """The same shop as of today (for commands and requests that read the clock)."""
    return shop_create(settings, timezone.localdate())

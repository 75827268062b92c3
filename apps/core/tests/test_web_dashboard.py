"""The dashboard: its numbers come from the database, its charts from the same reads."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.selectors import Metric, customer_countries, dashboard_overview
from tests.browser.shop_data import create_small_shop, create_user


@pytest.fixture
def analyst_client(client):
    client.force_login(create_user(role="analyst"))
    return client


@pytest.mark.parametrize(
    ("value", "previous", "change", "trend"),
    [
        (3, 1, 200.0, "up"),
        (Decimal("90.00"), Decimal("120.00"), -25.0, "down"),
        (5, 5, 0.0, "flat"),
        (5, 0, None, "flat"),
        (5, None, None, "flat"),
    ],
)
def test_metric_change_against_the_previous_period(value, previous, change, trend):
    metric = Metric(value, previous)

    assert (metric.change_percent, metric.trend) == (change, trend)


@pytest.mark.django_db
def test_overview_reads_the_last_30_days_and_the_30_before():
    now = timezone.now()
    shop = create_small_shop(now=now)

    overview = dashboard_overview(days=30, chart_days=90, now=now)

    assert overview.customers == shop.customers
    assert overview.active_customers == Metric(shop.active_customers, 1)
    assert overview.orders == Metric(shop.orders, shop.previous_orders)
    assert overview.revenue == Metric(shop.revenue, shop.previous_revenue)
    assert overview.average_order_value == Metric(shop.average_order_value, Decimal("80.00"))
    assert overview.events == Metric(shop.events, 0)
    # 90 complete days, ending yesterday: today's partial day is not charted
    assert len(overview.revenue_per_day) == 90
    assert overview.revenue_per_day[-1].day == timezone.localtime(now).date() - timedelta(days=1)
    assert sum(point.value for point in overview.revenue_per_day) == 440.0
    assert [(product.sku, product.units) for product in overview.top_products] == [
        ("DRS-001", 3),
        ("BOOT-7", 1),
    ]
    assert overview.is_empty is False


@pytest.mark.django_db
def test_dashboard_page_renders_kpis_and_chart_data(analyst_client):
    create_small_shop()

    response = analyst_client.get("/")

    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="kpi-revenue-value"' in content
    assert "360.00" in content
    revenue = json.loads(
        content.split('id="revenue-chart-data" type="application/json">')[1].split("</script>")[0]
    )
    assert (len(revenue["labels"]), sum(revenue["values"]), revenue["has_data"]) == (
        90,
        440.0,
        True,
    )
    assert "Linen Summer Dress" in content


@pytest.mark.django_db
def test_dashboard_on_an_empty_database_shows_the_demo_command(analyst_client):
    response = analyst_client.get("/")

    assert response.context["overview"].is_empty is True
    assert b"python manage.py demo_data --customers 5000 --seed 7" in response.content
    assert b"revenue-chart" not in response.content


@pytest.mark.django_db
def test_country_filter_offers_the_countries_customers_live_in():
    create_small_shop()

    assert customer_countries() == ["GB", "US"]

"""The Quality page in a real browser: run the cleaning pipeline from the button, read the
cards and their charts, merge a pair of possible duplicates and split it back."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import EventFactory, OrderFactory
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHART_VALUES = """id => {
    const chart = Chart.getChart(document.getElementById(id));
    return chart ? chart.data.datasets[0].data : null;
}"""
SHOTS = Path("/tmp/shots/quality")


def keep(web, name: str) -> None:
    path = web.screenshot(name)
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def messy_shop() -> None:
    CustomerFactory(
        external_id="kim", email=" KIM@Example.com ", phone="+49 30 1234567", first_name="Kim"
    )
    CustomerFactory(
        external_id="kim-2", email="kim2@example.com", phone="030 1234567", first_name="Kimberly"
    )
    CustomerFactory(external_id="lee", email="not-an-email", phone="")
    for index in range(25):
        OrderFactory(customer=None, total=Decimal(40 + index), subtotal=Decimal(40 + index))
    OrderFactory(customer=None, total=Decimal("90000.00"), subtotal=Decimal("90000.00"))
    EventFactory(source="web", customer=None)


def test_running_cleaning_shows_reports_and_duplicates_merge_and_split_back(web):
    # given a messy shop and a marketer
    messy_shop()
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    # when she opens the Quality page before any run
    assert web.goto("/data/quality/") == 200
    assert "No quality report yet" in web.page.inner_text("main")
    keep(web, "quality-before-run")

    # and runs the cleaning pipeline
    web.page.click("[data-testid=run-cleaning]")
    web.page.wait_for_load_state("networkidle")

    # then every entity has a card; the customers chart shows completeness per field
    assert "started; its changes appear below" in web.page.inner_text(".alert-success")
    for entity in ("customers", "products", "orders", "events", "reviews", "social"):
        assert web.page.is_visible(f"[data-testid=quality-card-{entity}]")
    values = web.page.evaluate(CHART_VALUES, "completeness-customers")
    labels = web.page.evaluate(
        "id => Chart.getChart(document.getElementById(id)).data.labels", "completeness-customers"
    )
    completeness = dict(zip(labels, values, strict=True))
    assert completeness["email"] == 100.0
    assert completeness["phone"] == pytest.approx(66.7)
    assert "not an email address" in web.page.inner_text("[data-testid=invalid-table-customers]")
    assert "web" in web.page.inner_text("[data-testid=freshness-table]")
    assert "1 amount outlier" in web.page.inner_text("[data-testid=quality-card-orders]")
    # and the run lists what it changed
    runs = web.page.inner_text("[data-testid=runs]")
    assert "phone_e164" in runs
    assert "email_normalise" in runs
    keep(web, "quality-after-run")

    # when she merges the pair sharing a phone into the second profile
    duplicates = web.page.inner_text("[data-testid=duplicates-table]")
    assert "kim" in duplicates and "kim-2" in duplicates and "+49301234567" in duplicates
    web.page.check("input[name=survivor][value=kim-2]")
    web.page.click("[data-testid=merge-button]")
    web.page.wait_for_load_state("networkidle")

    # then only the survivor is left, and the merge can be split back
    assert "Merged kim into kim-2" in web.page.inner_text(".alert-success")
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["kim-2", "lee"]
    keep(web, "quality-after-merge")
    web.page.click("[data-testid=split-button]")
    web.page.wait_for_load_state("networkidle")
    assert "kim is a customer of its own again" in web.page.inner_text(".alert-success")
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["kim", "kim-2", "lee"]
    assert web.console_errors == []


def test_the_quality_page_fits_a_phone(phone):
    messy_shop()
    create_user(username="anna", role="analyst")
    phone.sign_in("anna", PASSWORD)

    assert phone.goto("/data/quality/") == 200
    assert "No quality report yet" in phone.page.inner_text("main")
    assert phone.page.query_selector("[data-testid=run-cleaning]") is None
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    keep(phone, "quality-phone")
    assert phone.console_errors == []

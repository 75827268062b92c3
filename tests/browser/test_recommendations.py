"""Recommendations in a real browser: the home draws the model comparison chart; a marketer
adds a placement (a bad category slug is marked under its field first), edits it, then tries it
for a customer picked with the search box and sees the pinned item first, the reasons and the
customer's history beside them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from playwright.sync_api import expect

from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType
from apps.events.tests.factories import EventFactory
from apps.recommendations.models import Placement
from apps.recommendations.services.champion import loaded_models_clear
from apps.recommendations.services.fallback import popularity_cache_clear
from apps.recommendations.tests.shop import publish, shop_build, toy_model
from apps.recommendations.tests.test_web import REPORT
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def recommender(settings, tmp_path) -> Iterator[None]:
    """A private artifact folder, and no model or popularity list left from another test (the
    live server runs in this process, and ids repeat after each flush)."""
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    loaded_models_clear()
    popularity_cache_clear()
    caches["default"].clear()
    yield
    loaded_models_clear()
    popularity_cache_clear()


def _shop():
    shop = shop_build()
    alice = CustomerFactory(external_id="alice", first_name="Alice", last_name="Ng")
    EventFactory(customer=alice, event_type=EventType.PRODUCT_VIEW, product=shop.products["HAT-1"])
    publish(toy_model(), metrics=REPORT)
    return shop


def test_the_home_draws_the_comparison_chart(web):
    _shop()
    create_user(username="ann", role="analyst")
    web.sign_in("ann", PASSWORD)

    assert web.goto("/recommendations/") == 200

    rows = web.page.locator("[data-testid=reco-algorithm]")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-algorithm", "blend")
    drawn = web.page.evaluate(
        "() => { const c = window.Chart.getChart(document.getElementById('reco-ndcg-chart'));"
        " return c ? c.data.datasets[0].data : null; }"
    )
    assert drawn == [0.1874, 0.1523, 0.0812]
    web.screenshot("recommendations-home")
    assert web.console_errors == []


def test_add_and_edit_a_placement_then_try_it_for_a_customer(web):
    # given a shop with a champion, alice who viewed a hat, and a marketer
    _shop()
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    # when she adds a placement with a category slug that does not exist
    assert web.goto("/recommendations/placements/") == 200
    web.page.click("text=Add a placement")
    web.page.fill("#id_key", "home")
    web.page.fill("#id_name", "Home page")
    web.page.fill("#id_include_categories", "shirts, shoes, nope")
    web.page.fill("#id_pinned_skus", "SHOE-4")
    web.page.fill("#id_diversity", "0")
    web.page.click("[data-testid=placement-save]")

    # then the form comes back with the problem under that field, and nothing was saved
    expect(web.page.locator("[data-testid=error-include_categories]")).to_have_text(
        "No category with slug 'nope'"
    )
    expect(web.page.locator("#id_include_categories")).to_have_class("form-control is-invalid")
    assert Placement.objects.count() == 0

    # when she fixes it and saves
    web.page.fill("#id_include_categories", "shirts, shoes, hats")
    web.page.click("[data-testid=placement-save]")
    web.page.wait_for_load_state("networkidle")

    # then the placement is listed with its rules
    assert web.page.url == f"{web.base_url}/recommendations/placements/"
    row = web.page.locator("[data-testid=placement-row][data-key=home]")
    expect(row.locator("[data-testid=placement-rules]:visible")).to_contain_text("1 pinned")

    # when she edits it: 4 items
    row.locator("[data-testid=placement-edit]:visible").click()
    expect(web.page.locator("#id_pinned_skus")).to_have_value("SHOE-4")
    web.page.fill("#id_default_count", "4")
    web.page.click("[data-testid=placement-save]")
    web.page.wait_for_load_state("networkidle")
    expect(row.locator("[data-testid=placement-rules]:visible")).to_contain_text("4 items")
    assert Placement.objects.get().default_count == 4

    # when she tries it, picking alice with the search box
    row.locator("[data-testid=placement-try]:visible").click()
    web.page.wait_for_load_state("networkidle")
    web.page.fill("[data-testid=try-customer]", "alic")
    web.page.click("[data-testid=search-result]")
    expect(web.page.locator("[data-testid=try-customer]")).to_have_value("alice")
    web.page.click("[data-testid=try-submit]")
    web.page.wait_for_load_state("networkidle")

    # then she sees the API's four items, the pinned shoe first, with reasons and her history
    items = web.page.locator("[data-testid=try-item]")
    expect(items).to_have_count(4)
    expect(items.first).to_have_attribute("data-sku", "SHOE-4")
    expect(items.first.locator("[data-testid=reco-reason]:visible")).to_have_text("Pinned")
    expect(web.page.locator("[data-testid=try-result]")).to_contain_text("Because you viewed Hat 1")
    expect(web.page.locator("[data-testid=try-visitor]")).to_have_text("Alice Ng")
    expect(web.page.locator("[data-testid=history-row]")).to_have_count(1)
    expect(web.page.locator("[data-testid=history-row]")).to_contain_text("Hat 1")
    web.screenshot("recommendations-try")
    # the refused form answered 400 on purpose (the browser logs that); nothing else failed
    assert [error for error in web.console_errors if "status of 400" not in error] == []

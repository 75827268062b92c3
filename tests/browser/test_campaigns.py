"""Campaigns in a real browser: a marketer writes a campaign with a subject test, previews it
as a customer, sends themselves a test, launches it, and reads the report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.campaigns.models import Campaign
from apps.campaigns.tests.factories import subscriber
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_kept_answers():
    """Kept recommendation answers of an earlier test name customers that are gone (ids and
    external ids repeat after each flush): start from an empty cache."""
    from django.core.cache import caches

    caches["default"].clear()


def test_a_marketer_builds_previews_tests_and_sends_a_campaign(web, smtp_sink, settings):
    settings.CAMPAIGNS_QUIET_HOURS = ""
    for name in ("Ann", "Bo", "Cy", "Di"):
        subscriber(first_name=name, external_id=f"c-{name.lower()}")
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    # an empty list says what to do
    assert web.goto("/campaigns/") == 200
    expect(web.page.locator("[data-testid=empty-state]")).to_be_visible()
    web.screenshot("campaigns-empty")

    # write the campaign: a subject with a second one to test, everyone, 25% holdout
    web.page.click("[data-testid=campaign-new]")
    web.page.fill("#id_name", "Spring picks")
    web.page.fill("#id_subject", "Spring picks for {{ customer.first_name }}")
    web.page.fill("#id_subject_b", "{{ customer.first_name }}, these are back")
    web.page.check("#id_all_customers")
    web.page.fill("#id_holdout_percent", "25")
    web.screenshot("campaigns-form")
    web.page.click("[data-testid=campaign-save]")
    web.page.wait_for_load_state("networkidle")
    campaign = Campaign.objects.get(name="Spring picks")
    assert [v.key for v in campaign.variants.all()] == ["A", "B"]

    # preview as a customer
    web.page.fill("#id_customer", "c-bo")
    web.page.click("text=Show")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=preview-subject]")).to_have_text("Spring picks for Bo")
    frame = web.page.frame_locator("[data-testid=preview-frame]")
    expect(frame.locator("text=Hi Bo,")).to_be_visible()
    web.screenshot("campaigns-preview")

    # send a test to oneself
    web.page.fill("[data-testid=test-send] input[name=to]", "mia@example.com")
    web.page.click("[data-testid=test-send] button")
    web.page.wait_for_load_state("networkidle")
    assert smtp_sink.recipients() == ["mia@example.com"]
    assert smtp_sink.received[0].message()["Subject"] == "[Test] Spring picks for Bo"

    # launch: the senders run (in process in tests) and the report shows the funnel
    web.page.click("[data-testid=campaign-launch]")
    web.page.wait_for_load_state("networkidle")
    web.goto(f"/campaigns/{campaign.pk}/")
    campaign.refresh_from_db()
    assert campaign.status == "done"
    sent = campaign.messages.filter(status="sent").count()
    assert len(smtp_sink.received) == 1 + sent
    expect(web.page.locator("[data-testid=campaign-status]")).to_have_text("Done")
    expect(web.page.locator("[data-testid=kpi-sent-value]")).to_have_text(str(sent))
    expect(web.page.locator("[data-testid=funnel]")).to_contain_text("Delivered")
    web.screenshot("campaigns-detail")

    # and the list shows it
    web.goto("/campaigns/")
    expect(web.page.locator("[data-testid=campaign-row]")).to_have_count(1)
    expect(web.page.locator("[data-testid=kpi-overview-sent-value]")).to_have_text(str(sent))
    web.screenshot("campaigns-list")
    assert web.console_errors == []


def test_a_marketer_creates_a_coupon_program_and_reads_its_page(web):
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)
    assert web.goto("/campaigns/coupons/") == 200
    expect(web.page.locator("[data-testid=empty-state]")).to_be_visible()

    web.page.click("[data-testid=coupon-new]")
    web.page.fill("#id_key", "spring")
    web.page.fill("#id_name", "Spring 10%")
    web.page.fill("#id_value", "150")  # a percent above 100 is refused, naming the field
    web.page.select_option("#id_target", "persuadable")
    web.page.click("[data-testid=coupon-save]")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=error-value]")).to_contain_text("percent")
    web.screenshot("coupons-form-error")

    web.page.fill("#id_value", "10")
    web.page.click("[data-testid=coupon-save]")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("h1")).to_have_text("Spring 10%")
    expect(web.page.locator("[data-testid=coupon-uplift]")).to_contain_text("appears once")
    web.screenshot("coupons-detail")
    web.goto("/campaigns/coupons/")
    expect(web.page.locator("[data-testid=coupon-row]")).to_have_count(1)
    web.screenshot("coupons-list")
    assert web.console_errors == []


def test_a_marketer_starts_a_journey_from_a_template_and_activates_it(web):
    from decimal import Decimal

    from apps.campaigns.services.coupons import coupon_program_create

    coupon_program_create(key="cart-10", name="Cart 10%", value=Decimal("10"))
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)
    assert web.goto("/campaigns/journeys/") == 200
    expect(web.page.locator("[data-testid=journey-templates] .card")).to_have_count(6)
    web.screenshot("journeys-templates")

    web.page.click("[data-testid=journey-use-abandoned_cart]")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=journey-step]")).to_have_count(4)

    # a broken edit is refused, naming the step and field
    web.page.click("[data-testid=journey-edit]")
    text = web.page.input_value("#id_steps").replace('"next": "reminder"', '"next": "nowhere"')
    web.page.fill("#id_steps", text)
    web.page.click("[data-testid=journey-save]")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=form-errors]")).to_contain_text(
        "steps[0].next: no step with id 'nowhere'"
    )
    web.screenshot("journeys-edit-error")
    web.page.goto(web.page.url.replace("/edit", "/"))
    web.page.wait_for_load_state("networkidle")

    web.page.click("[data-testid=journey-activate]")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=campaign-status]")).to_have_text("Active")
    web.screenshot("journeys-detail")
    assert web.console_errors == []


def test_the_ads_optimiser_splits_a_budget_and_simulates_convergence(web):
    from datetime import timedelta

    from django.utils import timezone

    from apps.customers.tests.factories import CustomerFactory
    from apps.events.tests.factories import EventFactory

    shopper = CustomerFactory()
    now = timezone.now() - timedelta(hours=1)
    for creative, shown, clicked in (("summer-a", 400, 8), ("summer-b", 400, 30)):
        for _ in range(shown):
            EventFactory(
                customer=shopper, product=None, event_type="custom", occurred_at=now,
                name="Ad Impression", properties={"creative": creative},
            )  # fmt: skip
        for _ in range(clicked):
            EventFactory(
                customer=shopper, product=None, event_type="custom", occurred_at=now,
                name="Ad Clicked", properties={"creative": creative},
            )  # fmt: skip
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    assert web.goto("/campaigns/optimise/?budget=250") == 200

    rows = web.page.locator("[data-testid=allocation] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("summer-b")
    budget_b = float(rows.nth(1).locator("td").last.inner_text())
    budget_a = float(rows.nth(0).locator("td").last.inner_text())
    assert budget_a + budget_b == 250.0 and budget_b > 200
    expect(web.page.locator("[data-testid=simulation-summary]")).to_contain_text("fewer")
    drawn = web.page.evaluate(
        "() => { const c = window.Chart.getChart(document.querySelector('[data-testid=share-chart]'));"
        " return c ? c.data.datasets[0].data.length : 0; }"
    )
    assert drawn == 28
    web.screenshot("campaigns-optimiser")
    assert web.console_errors == []


def test_a_marketer_edits_adds_and_removes_journey_steps(web):
    from apps.campaigns.models import Journey
    from apps.campaigns.services.journeys import journey_create

    journey = journey_create(template="post_purchase")
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)
    web.goto(f"/campaigns/journeys/{journey.pk}/")

    # change the wait to 5 days at 9:00
    web.page.click("[data-testid=step-edit-wait-3d]")
    web.page.fill("#id_days", "5")
    web.page.fill("#id_until_hour", "9")
    web.page.click("[data-testid=step-save]")
    web.page.wait_for_load_state("networkidle")
    journey.refresh_from_db()
    assert journey.steps[0]["days"] == 5 and journey.steps[0]["until_hour"] == 9

    # add a tag step after the email; a bad JSON value is refused, naming the field
    web.page.select_option(
        "[data-testid=step-add-email] >> xpath=preceding-sibling::select", "update_attribute"
    )
    web.page.click("[data-testid=step-add-email]")
    web.page.wait_for_load_state("networkidle")
    web.page.fill("#id_attribute", "cross_sold")
    web.page.fill("#id_value", "yes please")
    web.page.click("[data-testid=step-save]")
    web.page.wait_for_load_state("networkidle")
    expect(web.page.locator("[data-testid=form-errors]")).to_contain_text("value: not valid JSON")
    web.screenshot("journeys-step-error")
    web.page.fill("#id_value", "true")
    web.page.click("[data-testid=step-save]")
    web.page.wait_for_load_state("networkidle")
    journey.refresh_from_db()
    assert [s["id"] for s in journey.steps] == ["wait-3d", "email", "update_attribute-1"]
    assert journey.steps[1]["next"] == "update_attribute-1"
    expect(web.page.locator("[data-testid=journey-step]")).to_have_count(3)
    web.screenshot("journeys-steps-editor")

    # remove the wait: the email becomes the entry
    web.page.locator("[data-step=wait-3d] button[title='Remove this step']").click()
    web.page.wait_for_load_state("networkidle")
    journey = Journey.objects.get(pk=journey.pk)
    assert [s["id"] for s in journey.steps] == ["email", "update_attribute-1"]
    assert web.console_errors == []

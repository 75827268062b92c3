"""The segment builder in a real browser: conditions added and edited in the visual editor,
the live size following every edit (debounced preview), a faulty value marked on its
condition with its JSON path, then the segment saved and its members shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.segments.models import Segment
from apps.segments.tests.segment_data import build_shop
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _count(web) -> str:
    preview = web.page.locator("#preview[data-preview-state=ready]")
    expect(preview).to_be_visible()
    return web.page.inner_text("[data-testid=preview-count]")


def test_build_a_segment_with_a_live_size_and_save_it(web):
    # given six hand-made customers (two in DE; bob has a churn risk of 0.9) and a marketer
    build_shop()
    create_user(username="mia", role="marketer")
    web.sign_in("mia", PASSWORD)

    # when the builder opens: an empty AND group is every customer
    assert web.goto("/segments/new/") == 200
    assert _count(web) == "6"
    assert web.page.inner_text("[data-testid=preview-share]") == "100% of 6 customers"

    # when a condition "Country is DE" is added
    web.page.click("[data-testid=root-group] > .builder-actions [data-testid=add-condition]")
    first = web.page.locator("[data-testid=condition]").nth(0)
    first.locator("[data-role=value]").fill("DE")
    expect(web.page.locator("[data-testid=preview-count]")).to_have_text("2")

    # and a prediction "Churn risk greater than 0.5"
    web.page.click("[data-testid=root-group] > .builder-actions [data-testid=add-condition]")
    second = web.page.locator("[data-testid=condition]").nth(1)
    second.locator("[data-role=type]").select_option("score")
    expect(second.locator("[data-role=field]")).to_have_value("churn_risk")
    expect(web.page.locator("[data-testid=preview-count]")).to_have_text("1")
    words = web.page.locator("[data-testid=preview-words] li")
    expect(words).to_have_text(["All of", "Country is DE", "Churn risk greater than 0.5"])

    # when the group becomes "Any of", the size follows
    web.page.click("[data-testid=root-group] [data-testid=operator-or] >> nth=0")
    expect(web.page.locator("[data-testid=preview-count]")).to_have_text("2")
    expect(web.page.locator("[data-testid=preview-sample] li")).to_have_count(2)

    # when a value is not a number, the condition is marked with the server's message
    second.locator("[data-role=value]").fill("")
    expect(second).to_have_class("builder-condition has-error")
    expect(second.locator("[data-role=error]")).to_have_text("must be a number")
    expect(web.page.locator("[data-testid=preview-errors]")).to_contain_text(
        "conditions[1].value: must be a number"
    )
    web.screenshot("segment-builder-error")

    # when it is fixed, named and saved
    second.locator("[data-role=value]").fill("0.95")
    expect(web.page.locator("[data-testid=preview-count]")).to_have_text("2")
    expect(second).not_to_have_class("builder-condition has-error")
    web.page.fill("[data-testid=segment-name]", "Germans or churners")
    web.screenshot("segment-builder")
    web.page.click("[data-testid=save-segment]")
    web.page.wait_for_load_state("networkidle")

    # then the segment page shows its two members, and the stored definition is the edited one
    segment = Segment.objects.get()
    assert web.page.url == f"{web.base_url}/segments/{segment.pk}/"
    assert segment.member_count == 2
    assert segment.definition == {
        "type": "group",
        "operator": "or",
        "conditions": [
            {"type": "property", "field": "country", "operator": "equals", "value": "DE"},
            {"type": "score", "field": "churn_risk", "operator": "gt", "value": 0.95},
        ],
    }
    expect(web.page.locator("[data-testid=member-row]")).to_have_count(2)
    assert "Segment Germans or churners created: 2 members." in web.page.inner_text("main")
    web.screenshot("segment-detail")

    # with each member's churn risk and CLV, and the "Why?" links inside the card at 1440 px
    # (not behind the table's horizontal scroll)
    expect(web.page.locator("[data-testid=member-churn]")).to_have_text(["90%", "10%"])
    expect(web.page.locator("[data-testid=member-clv]")).to_have_text(["20.00", "900.00"])
    members = web.page.locator("[data-testid=members]").bounding_box()
    assert members is not None and members["x"] + members["width"] <= 1440
    for link in web.page.locator("[data-testid=explain-link]").all():
        box = link.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= members["x"] + members["width"]
    assert web.page.evaluate("() => document.documentElement.scrollWidth") == 1440
    # and the size chart of a segment one day old shows its single day as a point
    radius = web.page.evaluate(
        "() => Chart.getChart(document.querySelector('[data-testid=size-chart]'))"
        ".data.datasets[0].pointRadius"
    )
    assert radius == 4

    # and a member's explanation shows each condition with the customer's value
    web.page.locator("[data-testid=explain-link]").first.click()
    web.page.wait_for_load_state("networkidle")
    rows = web.page.locator("[data-testid=explain-row]")
    expect(rows).to_have_count(3)
    web.screenshot("segment-member")
    assert web.console_errors == []

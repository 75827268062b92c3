"""The web UI in a real browser: sign in, the dashboard's numbers and charts, navigation,
customer search and profile, empty states, and sign-in protection."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.web.context_processors import NAVIGATION
from tests.browser.shop_data import PASSWORD, create_small_shop, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHART_TOTAL = """id => {
    const chart = Chart.getChart(document.getElementById(id));
    return chart ? chart.data.datasets[0].data.reduce((sum, value) => sum + value, 0) : null;
}"""


def kpi(web, name: str) -> str:
    return web.page.inner_text(f"[data-testid=kpi-{name}-value]").strip()


def test_signing_in_shows_the_dashboard_with_the_database_numbers_and_charts(web):
    # given a shop with known orders and events, and an analyst
    shop = create_small_shop()
    create_user(username="anna", role="analyst")

    # when the analyst signs in through the allauth form
    web.sign_in("anna", PASSWORD)

    # then the dashboard shows the numbers of the last 30 days
    assert web.page.url == web.base_url + "/"
    assert kpi(web, "customers") == str(shop.customers)
    assert kpi(web, "active-customers") == str(shop.active_customers)
    assert kpi(web, "orders") == str(shop.orders)
    assert kpi(web, "revenue") == "360.00"
    assert kpi(web, "aov") == "120.00"
    assert kpi(web, "events") == str(shop.events)
    assert "200.0%" in web.page.inner_text("[data-testid=kpi-orders]")
    # and Chart.js drew both charts (revenue over 90 days: both periods)
    assert web.page.evaluate(CHART_TOTAL, "revenue-chart") == float(
        shop.revenue + shop.previous_revenue
    )
    assert web.page.evaluate(CHART_TOTAL, "events-chart") == 5
    # and the best seller leads the top products table
    first_row = web.page.inner_text("[data-testid=top-products] tbody tr:first-child")
    assert "Linen Summer Dress" in first_row
    assert "240.00" in first_row
    assert web.page.inner_text("[data-testid=user-menu]").lower().split() == [
        "aa",
        "anna",
        "analyst",
        "analyst",
    ]
    web.screenshot("dashboard")
    assert web.console_errors == []


def test_every_navigation_entry_opens_without_console_errors(web):
    create_small_shop()
    create_user(username="anna", role="analyst")
    web.sign_in("anna", PASSWORD)

    hrefs = web.page.eval_on_selector_all(
        ".sidebar-nav a", "links => links.map(link => link.getAttribute('href'))"
    )
    assert hrefs == [url for _label, url, _icon, _section in NAVIGATION]
    for href in hrefs:
        status = web.goto(href)

        assert (href, status) == (href, 200)
        assert web.page.get_attribute(".sidebar-nav a.active", "href") == href
        web.screenshot("page-" + (href.strip("/") or "dashboard"))
    assert web.console_errors == []


def test_customer_search_finds_a_customer_and_opens_the_profile(web):
    create_small_shop()
    create_user(username="anna", role="analyst")
    web.sign_in("anna", PASSWORD)
    web.goto("/customers/")
    assert "2 customers" in web.page.inner_text("[data-testid=customer-results] .card-title")

    # when the analyst types a name: htmx swaps the results without a page load,
    # sending Django's CSRF token as every htmx request does
    with web.page.expect_request(lambda request: "q=lovelace" in request.url) as search:
        web.page.fill("[data-testid=customer-search]", "lovelace")
    token = web.page.get_attribute("meta[name=csrf-token]", "content")
    assert search.value.headers["hx-request"] == "true"
    assert search.value.headers["x-csrftoken"] == token
    web.page.wait_for_function(
        "document.querySelector('[data-testid=customer-results] .card-title')"
        ".innerText.startsWith('1 customer')"
    )
    assert web.page.url.endswith(
        "/customers/?q=lovelace&country=&channel=&has_email=&consent=&order_by=-signup_at"
    )
    assert web.page.inner_text("[data-testid=customer-link]") == "Ada Lovelace"
    web.screenshot("customers-search")

    # and opens the profile
    web.page.click("[data-testid=customer-link]")
    web.page.wait_for_load_state("networkidle")

    assert web.page.url == web.base_url + "/customers/cus-ada/"
    assert web.page.inner_text("[data-testid=customer-name]") == "Ada Lovelace"
    consent = web.page.inner_text("[data-testid=consent]")
    assert "Email marketing\nGranted" in consent
    assert "Profiling and personalisation\nWithdrawn" in consent
    assert "via preference_centre" in consent
    orders = web.page.inner_text("[data-testid=orders]")
    assert "ORD-1001" in orders and "ORD-1002" in orders
    assert "2 × Linen Summer Dress" in orders
    event_types = web.page.eval_on_selector_all(
        "[data-testid=timeline] [data-event-type]",
        "items => items.map(item => item.dataset.eventType)",
    )
    assert event_types == ["purchase", "add_to_cart", "product_view", "search"]
    assert "favourite_colour" in web.page.inner_text("[data-testid=custom-attributes]")
    web.screenshot("customer-profile")
    assert web.console_errors == []


def test_customer_list_filters_by_consent_and_pages(web):
    create_small_shop()
    create_user(username="anna", role="analyst")
    web.sign_in("anna", PASSWORD)
    web.goto("/customers/")

    web.page.select_option("#id_consent", "email_marketing")
    web.page.wait_for_function(
        "document.querySelector('[data-testid=customer-results] .card-title')"
        ".innerText.startsWith('1 customer')"
    )

    assert web.page.inner_text("[data-testid=customer-link]") == "Ada Lovelace"
    assert web.console_errors == []


def test_a_shell_page_shows_an_honest_empty_state(web):
    create_user(username="anna", role="analyst")
    web.sign_in("anna", PASSWORD)

    web.goto(reverse("media:index"))

    assert web.page.is_visible("[data-testid=empty-state]")
    assert "Not built yet" in web.page.inner_text("[data-testid=empty-state]")
    assert "images evaluate" in web.page.inner_text("[data-testid=planned-issue]")


def test_an_empty_database_shows_how_to_load_the_demo_shop(web):
    create_user(username="anna", role="analyst")
    web.sign_in("anna", PASSWORD)

    assert web.page.is_visible("[data-testid=empty-state]")
    assert "manage.py demo_data" in web.page.inner_text("[data-testid=empty-state-command]")
    web.screenshot("dashboard-empty")
    assert web.console_errors == []


def test_signed_out_visitors_are_sent_to_sign_in_and_sign_out_works(web):
    create_user(username="anna", role="analyst")

    web.goto("/customers/")
    assert web.page.url == web.base_url + "/accounts/login/?next=/customers/"
    assert web.page.is_visible("[data-testid=login-form]")
    web.screenshot("login")

    web.sign_in("anna", PASSWORD, from_current_page=True)
    assert web.page.url == web.base_url + "/customers/"
    web.page.click("[data-testid=user-menu]")
    web.page.click("[data-testid=logout]")
    web.page.wait_for_load_state("networkidle")

    assert web.page.url == web.base_url + "/accounts/login/"
    assert web.goto("/") == 200
    assert web.page.url == web.base_url + "/accounts/login/?next=/"


def test_on_a_phone_the_menu_opens_as_a_drawer(phone):
    create_small_shop()
    create_user(username="anna", role="analyst")
    phone.sign_in("anna", PASSWORD)
    assert not phone.page.is_visible(".sidebar-nav")

    phone.page.click("button[aria-controls=sidebar]")
    phone.page.wait_for_selector("#sidebar.show")

    assert phone.page.is_visible(".sidebar-nav a[href='/customers/']")
    phone.screenshot("phone-menu")
    phone.page.click("#sidebar .btn-close")
    phone.page.wait_for_selector("#sidebar:not(.show)", state="attached")
    phone.screenshot("phone-dashboard")
    assert phone.console_errors == []

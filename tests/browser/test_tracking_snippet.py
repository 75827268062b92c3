"""smartmkt.js in headless Chromium against the live server: the sandbox shop page loads the
snippet from the app's static files and sends real events to /api/v1/batch.

Checked end to end: every kind of call arrives with the right type, identify links the
customer, each message is stored exactly once across failed and repeated deliveries (503, 429,
network errors, sendBeacon on leaving or closing the page, a queue left in localStorage), the
opt-out, and the email pixel that never shows as a broken image.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import ApiKeyFactory
from apps.catalog.models import Product
from apps.customers.models import Customer
from apps.events.models import Event, MessageReceipt, Order, QuarantinedMessage
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SANDBOX = "/data/tracking/sandbox/"
BATCH_ROUTE = "**/api/v1/batch?*"
# What Chromium logs for each failed request.
FAILURES = {
    "503": "the server responded with a status of 503 (Service Unavailable)",
    "429": "the server responded with a status of 429 (Too Many Requests)",
    "network": "net::ERR_CONNECTION_RESET",
}


def wait_until(check: Callable[[], bool], *, timeout: float = 15.0, what: str = "") -> None:
    """Poll the database (written by the live server's thread) until `check` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")


def web_events() -> list[Event]:
    return list(Event.objects.filter(source="web").order_by("occurred_at", "id"))


def log_rows(web) -> list[dict]:
    """The sandbox's list of what the snippet did, oldest first."""
    return web.page.eval_on_selector_all(
        "[data-testid=sandbox-log] li[data-message-id]",
        """rows => rows.reverse().map(row => ({
            id: row.dataset.messageId, type: row.dataset.type, event: row.dataset.event,
            status: row.dataset.status, label: row.querySelector('.status-badge').textContent,
        }))""",
    )


def wait_for_log(web, count: int, status: str) -> list[dict]:
    web.page.wait_for_function(
        """([count, status]) => {
            const rows = document.querySelectorAll('[data-testid=sandbox-log] li[data-message-id]');
            return rows.length === count
                && [...rows].every(row => row.dataset.status === status);
        }""",
        arg=[count, status],
        timeout=15000,
    )
    return log_rows(web)


@pytest.fixture
def shop(web):
    """A signed-in marketer, a product, and a browser key (events:write only)."""
    create_user(username="mark", role="marketer")
    product = Product.objects.create(sku="DRS-001", title="Linen Dress", price=Decimal("80.00"))
    key = ApiKeyFactory(name="browser", scopes=["events:write"])
    web.sign_in("mark", PASSWORD)
    return {"product": product, "key": key.raw_key}


def open_sandbox(web, key: str) -> None:
    web.goto(f"{SANDBOX}?key={key}")
    # the page view made through the loader stub, replayed once smartmkt.js arrived
    web.page.wait_for_selector("[data-testid=sandbox-log] li[data-type=page]")


def test_page_product_cart_search_and_identify_arrive_once_linked_to_the_customer(web, shop):
    # given the sandbox shop, loaded with the snippet
    open_sandbox(web, shop["key"])

    # when a visitor views a product, adds it, searches, signs in, and the queue is flushed
    web.page.click("[data-testid=view-DRS-001]")
    web.page.click("[data-testid=add-DRS-001]")
    web.page.fill("[data-testid=search-input]", "linen dress")
    web.page.press("[data-testid=search-input]", "Enter")
    web.page.fill("[data-testid=identify-user-id]", "cus-ada")
    web.page.fill("[data-testid=identify-email]", "ada@example.com")
    web.page.click("[data-testid=identify-form] button[type=submit]")
    web.page.click("[data-testid=flush]")

    # then the page shows every message accepted by the server
    rows = wait_for_log(web, 5, "sent")
    assert [row["label"] for row in rows] == ["accepted"] * 5
    web.screenshot("tracking-sandbox")

    # and each is stored once, with its type, under the message id the snippet made
    events = web_events()
    assert [event.event_type for event in events] == [
        "page_view",
        "product_view",
        "add_to_cart",
        "search",
        "identify",
    ]
    assert [event.event_id for event in events] == [row["id"] for row in rows]
    assert MessageReceipt.objects.filter(source="web").count() == 5
    assert events[0].name == "Sandbox shop · SmartMkt"
    assert events[0].properties["path"] == SANDBOX
    assert [event.product_id for event in events[1:3]] == [shop["product"].pk] * 2
    assert events[1].properties == {"sku": "DRS-001", "name": "Linen Dress", "price": 80}
    assert events[3].properties == {"query": "linen dress"}
    assert events[4].properties == {"email": "ada@example.com"}
    # and identify made the customer and gave them the anonymous history of this browser
    customer = Customer.objects.get(external_id="cus-ada")
    assert customer.email == "ada@example.com"
    assert {event.customer_id for event in events} == {customer.pk}
    anonymous_id = web.page.evaluate("smartmkt.user().anonymousId")
    assert {event.anonymous_id for event in events} == {anonymous_id}
    assert web.page.inner_text("[data-testid=user-id]") == "cus-ada"
    context = events[1].context
    assert context["library"] == {"name": "smartmkt.js", "version": "1.0.0"}
    assert context["page"]["path"] == SANDBOX
    assert context["user_agent"].startswith("Mozilla/5.0")
    assert len(context["session_id"]) == 36

    # and the Tracking page lists them live
    web.goto("/data/tracking/")
    types = web.page.eval_on_selector_all(
        "[data-testid=recent-events-table] tr[data-event-type]",
        "rows => rows.map(row => row.dataset.eventType)",
    )
    assert types == ["identify", "search", "add_to_cart", "product_view", "page_view"]
    web.screenshot("tracking-page")
    assert web.console_errors == []


def test_an_order_placed_in_the_sandbox_is_recorded_as_a_purchase_and_an_order(web, shop):
    # given a signed-in visitor with two dresses in the cart
    open_sandbox(web, shop["key"])
    web.page.fill("[data-testid=identify-user-id]", "cus-ada")
    web.page.click("[data-testid=identify-form] button[type=submit]")
    web.page.click("[data-testid=add-DRS-001]")
    web.page.click("[data-testid=add-DRS-001]")

    # when they place the order (Order Completed with products)
    web.page.click("[data-testid=place-order]")
    web.page.click("[data-testid=flush]")

    # then it is a purchase event and an order of the customer, with the product linked
    wait_for_log(web, 5, "sent")
    purchase = Event.objects.get(event_type="purchase")
    order = Order.objects.get(external_id=purchase.properties["order_id"])
    assert order.customer.external_id == "cus-ada"
    assert order.total == Decimal("160.00")
    lines = [
        (line.sku, line.quantity, line.unit_price, line.product_id) for line in order.lines.all()
    ]
    assert lines == [("DRS-001", 2, Decimal("80.00"), shop["product"].pk)]
    assert web.page.inner_text("[data-testid=cart-count]") == "0"


@pytest.mark.parametrize("failure", ["503", "429", "network"])
def test_a_failed_batch_is_retried_with_the_same_ids_and_stored_once(web, shop, failure):
    # given a server whose first answer is lost: for 503 and 429 the request even reached it
    # and stored the events (the worst case), for "network" the connection failed
    sent: list[dict] = []
    answers: list[dict] = []

    def first_one_fails(route, request):
        sent.append(json.loads(request.post_data))
        if len(sent) == 1 and failure == "network":
            route.abort("connectionreset")
            return
        response = route.fetch()
        if len(sent) == 1:
            route.fulfill(status=int(failure), body="try again later")
            return
        answers.append(response.json())
        route.fulfill(response=response)

    web.page.route(BATCH_ROUTE, first_one_fails)
    open_sandbox(web, shop["key"])

    # when the visitor views a product and the queue is flushed
    web.page.click("[data-testid=view-DRS-001]")
    web.page.click("[data-testid=flush]")

    # then the snippet retries after a back-off and the page ends with both delivered
    rows = wait_for_log(web, 2, "sent")
    assert len(sent) == 2
    first_ids = [message["message_id"] for message in sent[0]["batch"]]
    assert first_ids == [message["message_id"] for message in sent[1]["batch"]]
    assert first_ids == [row["id"] for row in rows]
    if failure == "network":
        assert answers[0]["counts"] == {"accepted": 2, "duplicates": 0, "rejected": 0}
    else:
        assert answers[0]["counts"] == {"accepted": 0, "duplicates": 2, "rejected": 0}
        assert [row["label"] for row in rows] == ["duplicate", "duplicate"]
    # and the server holds each event once
    assert [event.event_id for event in web_events()] == first_ids
    assert QuarantinedMessage.objects.count() == 0
    # and the only console error is the browser's own line about the failed request
    assert web.console_errors == [f"{web.page.url}: Failed to load resource: {FAILURES[failure]}"]


def test_a_refused_batch_is_dropped_with_a_warning_not_retried(web, shop):
    # given a server that refuses the batch for good (400)
    sent: list[dict] = []
    warnings: list[str] = []
    web.page.on(
        "console", lambda message: warnings.append(message.text) if message.type == "warning" else 0
    )

    def refuse(route, request):
        sent.append(json.loads(request.post_data))
        route.fulfill(status=400, body='{"detail": "batch: bad", "code": "malformed"}')

    web.page.route(BATCH_ROUTE, refuse)
    open_sandbox(web, shop["key"])

    # when the page view is sent
    web.page.click("[data-testid=flush]")

    # then it is dropped with a warning, and never sent again
    wait_for_log(web, 1, "dropped")
    web.page.wait_for_timeout(1500)  # longer than the first back-off: no retry comes
    assert len(sent) == 1
    assert warnings == [
        'smartmkt: dropped 1 event(s), server answered 400: {"detail": "batch: bad", '
        '"code": "malformed"}'
    ]
    assert web.page.evaluate("smartmkt.queued().length") == 0


# Playwright does not report requests an unloading page makes, so the page records its beacons.
RECORD_BEACONS = """
const sendBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (url, data) => {
    const sent = JSON.parse(localStorage.getItem("test.beacons") || "[]");
    localStorage.setItem("test.beacons", JSON.stringify(sent.concat([[url, data.type]])));
    return sendBeacon(url, data);
};
"""


@pytest.mark.parametrize("leave", ["navigate", "close"])
def test_queued_events_go_out_with_send_beacon_when_the_page_is_left(web, shop, leave):
    # given events queued but not yet sent (flushAt 20, flushInterval 5 s)
    web.page.add_init_script(RECORD_BEACONS)
    open_sandbox(web, shop["key"])
    web.page.click("[data-testid=view-DRS-001]")
    web.page.click("[data-testid=add-DRS-001]")
    queued = [message["message_id"] for message in web.page.evaluate("smartmkt.queued()")]
    assert len(queued) == 3

    # when the visitor leaves the page at once
    if leave == "navigate":
        web.goto("/data/")
    else:
        web.page.close()

    # then the browser delivered them by beacon, each stored once
    wait_until(lambda: len(web_events()) == 3, what="3 events sent by beacon")
    assert sorted(event.event_id for event in web_events()) == sorted(queued)
    if leave == "navigate":
        beacons = web.page.evaluate("JSON.parse(localStorage.getItem('test.beacons'))")
        assert beacons == [[f"{web.base_url}/api/v1/batch?key={shop['key']}", "text/plain"]]
        stored_keys = web.page.evaluate("Object.keys(localStorage)")
        assert [key for key in stored_keys if key.startswith("smartmkt.queue.")] == []


def test_a_queue_left_in_local_storage_is_sent_by_the_next_page(web, shop):
    # given a browser that cannot reach the server and whose beacons are refused
    offline = {"on": True}

    def maybe_offline(route, request):
        if offline["on"]:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    web.page.add_init_script("navigator.sendBeacon = () => false;")
    web.page.route(BATCH_ROUTE, maybe_offline)
    open_sandbox(web, shop["key"])
    web.page.click("[data-testid=view-DRS-001]")
    web.page.click("[data-testid=flush]")
    wait_for_log(web, 2, "retrying")
    queued = [message["message_id"] for message in web.page.evaluate("smartmkt.queued()")]

    # when the visitor goes to a page without the snippet, the queue stays in localStorage
    web.goto("/data/")
    stored = web.page.evaluate(
        """() => Object.keys(localStorage).filter(key => key.startsWith('smartmkt.queue.'))
                 .map(key => JSON.parse(localStorage.getItem(key)))"""
    )
    assert [[m["message_id"] for m in queue["messages"]] for queue in stored] == [queued]
    assert stored[0]["heartbeat"] == 0
    assert Event.objects.count() == 0

    # and comes back online to a page with the snippet
    offline["on"] = False
    open_sandbox(web, shop["key"])
    web.page.click("[data-testid=flush]")

    # then the new page sends the old queue with its own page view, each stored once
    wait_until(lambda: len(web_events()) == 3, what="the adopted queue and the new page view")
    stored_ids = [event.event_id for event in web_events()]
    assert stored_ids[:2] == queued
    assert [event.event_type for event in web_events()] == [
        "page_view",
        "product_view",
        "page_view",
    ]


def test_opting_out_deletes_the_queue_and_sends_nothing_until_opting_in(web, shop):
    # given a visitor with a page view queued
    open_sandbox(web, shop["key"])
    first_anonymous_id = web.page.evaluate("smartmkt.user().anonymousId")

    # when they opt out, view a product, reload, opt in again and add it to the cart
    web.page.click("[data-testid=opt-out]")
    web.page.click("[data-testid=view-DRS-001]")
    assert web.page.evaluate("smartmkt.queued()") == []
    assert web.page.evaluate("smartmkt.isOptedOut()") is True
    web.page.reload()
    web.page.wait_for_function("typeof smartmkt.isOptedOut === 'function'")
    assert web.page.evaluate("smartmkt.queued()") == []  # no page view after reload either
    web.page.click("[data-testid=opt-out]")  # now "Opt in again"
    web.page.click("[data-testid=add-DRS-001]")
    web.page.click("[data-testid=flush]")

    # then only what happened after opting in arrives, under a new anonymous id
    wait_until(lambda: len(web_events()) == 1, what="the event made after opting in")
    assert [event.event_type for event in web_events()] == ["add_to_cart"]
    assert web_events()[0].anonymous_id != first_anonymous_id


def test_the_pixel_is_an_image_even_for_a_bad_key(web, shop):
    web.goto("/data/tracking/")

    # when the browser loads the pixel with the browser key and with a wrong one
    sizes = web.page.evaluate(
        """keys => Promise.all(keys.map(key => new Promise(resolve => {
            const image = new Image();
            image.onload = () => resolve(image.naturalWidth + "x" + image.naturalHeight);
            image.onerror = () => resolve("broken");
            image.src = "/api/v1/pixel.gif?event=Email%20Opened&uid=cus-ada&key=" + key;
        })))""",
        [shop["key"], "not-a-key"],
    )

    # then both are 1x1 images (no broken icon), and only the good one recorded the open
    assert sizes == ["1x1", "1x1"]
    event = Event.objects.get()
    assert (event.event_type, event.source) == ("email_open", "pixel")

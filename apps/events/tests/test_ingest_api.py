"""Events ingestion API: /batch and the single-message endpoints, idempotency, quarantine."""

from __future__ import annotations

import uuid
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, bearer
from apps.catalog.tests.factories import ProductFactory
from apps.customers.models import Customer, CustomerAlias
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Event, MessageReceipt, Order, QuarantinedMessage
from apps.events.tests.conftest import api_client, track_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    return api_client("events:write")


def _post_batch(client: APIClient, batch, **kwargs):
    return client.post(
        "/api/v1/batch",
        data=orjson.dumps({"batch": batch}),
        content_type="application/json",
        **kwargs,
    )


def test_batch_stores_good_messages_and_reports_bad_ones_by_index(client):
    product = ProductFactory(sku="SKU-1")
    good = [
        track_message(),
        track_message(type="page", name="Home"),
        track_message(event="Products Searched"),
    ]
    bad_type = track_message(type="shout")
    missing_id = track_message(message_id=None)
    wrong_timestamp = track_message(timestamp="yesterday")

    response = _post_batch(
        client, [good[0], bad_type, good[1], missing_id, good[2], wrong_timestamp]
    )

    assert response.status_code == 200
    body = response.json()
    assert [row["index"] for row in body["accepted"]] == [0, 2, 4]
    assert body["duplicates"] == []
    assert [(row["index"], row["field"]) for row in body["rejected"]] == [
        (1, "type"),
        (3, "message_id"),
        (5, "timestamp"),
    ]
    assert body["rejected"][0]["reason"] == (
        "type: 'shout' is not one of track, page, screen, identify, alias"
    )
    assert body["counts"] == {"accepted": 3, "duplicates": 0, "rejected": 3}
    stored = Event.objects.order_by("id")
    assert [event.event_type for event in stored] == ["product_view", "page_view", "search"]
    assert {event.event_id for event in stored} == {m["message_id"] for m in good}
    assert stored[0].product_id == product.pk
    assert stored[0].source == "api"
    quarantined = QuarantinedMessage.objects.order_by("id")
    assert [row.pk for row in quarantined] == [r["quarantine_id"] for r in body["rejected"]]
    assert quarantined[0].payload == bad_type
    assert quarantined[2].error.startswith("timestamp: 'yesterday' is not an ISO 8601")


def test_resent_batch_is_acknowledged_as_duplicates_and_stored_once(client):
    batch = [track_message() for _ in range(5)]
    _post_batch(client, batch)

    response = _post_batch(client, batch)

    body = response.json()
    assert body["counts"] == {"accepted": 0, "duplicates": 5, "rejected": 0}
    assert [row["message_id"] for row in body["duplicates"]] == [m["message_id"] for m in batch]
    assert Event.objects.count() == 5
    assert QuarantinedMessage.objects.count() == 0


def test_retry_with_new_sent_at_is_still_a_duplicate(client):
    message = track_message(sent_at=timezone.now().isoformat())
    _post_batch(client, [message])

    retry = {**message, "sent_at": (timezone.now() + timedelta(seconds=30)).isoformat()}
    body = _post_batch(client, [retry]).json()

    assert body["counts"]["duplicates"] == 1
    assert Event.objects.count() == 1


def test_duplicate_flood_within_one_batch_stores_one_event(client):
    message = track_message()

    body = _post_batch(client, [message] * 1000).json()

    assert body["counts"] == {"accepted": 1, "duplicates": 999, "rejected": 0}
    assert Event.objects.count() == 1
    assert MessageReceipt.objects.count() == 1


def test_resent_id_with_different_payload_is_a_quarantined_conflict(client):
    original = track_message(properties={"sku": "SKU-1"})
    _post_batch(client, [original])

    changed = {**original, "properties": {"sku": "SKU-2"}}
    body = _post_batch(client, [changed]).json()

    assert body["counts"] == {"accepted": 0, "duplicates": 0, "rejected": 1}
    rejected = body["rejected"][0]
    assert rejected["field"] == "message_id"
    assert "different payload" in rejected["reason"]
    entry = QuarantinedMessage.objects.get(pk=rejected["quarantine_id"])
    assert entry.kind == "conflict"
    assert entry.payload == changed
    assert list(Event.objects.values_list("properties", flat=True)) == [{"sku": "SKU-1"}]


def test_same_message_id_under_another_source_is_another_event(client):
    message = track_message()
    _post_batch(client, [message])

    body = _post_batch(client, [{**message, "source": "app"}]).json()

    assert body["counts"]["accepted"] == 1
    assert sorted(Event.objects.values_list("source", flat=True)) == ["api", "app"]


def test_malformed_json_is_refused_and_kept_in_quarantine(client):
    response = client.post(
        "/api/v1/batch", data=b'{"batch": [{"type": "track",', content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "malformed"
    assert body["detail"].startswith("body: not valid JSON")
    entry = QuarantinedMessage.objects.get(pk=body["quarantine_id"])
    assert entry.kind == "malformed"
    assert entry.raw_body == '{"batch": [{"type": "track",'
    assert Event.objects.count() == 0


def test_body_that_is_not_a_batch_is_refused(client):
    response = client.post("/api/v1/batch", data=b"[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == 'batch: the body must be an object {"batch": [...]}'
    assert Event.objects.count() == 0


def test_more_than_1000_messages_is_refused_whole(client):
    response = _post_batch(client, [track_message() for _ in range(1001)])

    assert response.status_code == 400
    assert response.json() == {
        "detail": "batch: 1001 messages; at most 1000 per request: split it",
        "code": "batch_too_large",
        "field": "batch",
    }
    assert Event.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 0


def test_body_over_5_mb_is_refused_with_413(client):
    padding = "x" * 30_000
    batch = [track_message(properties={"pad": padding}) for _ in range(180)]

    response = _post_batch(client, batch)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Event.objects.count() == 0


def test_wrong_types_are_named_by_field(client):
    batch = [
        track_message(properties=["not", "an", "object"]),
        track_message(user_id={"id": 1}, anonymous_id=None),
        track_message(event=""),
        track_message(timestamp=(timezone.now() + timedelta(days=2)).isoformat()),
        track_message(context="mobile"),
        "not a message",
    ]

    body = _post_batch(client, batch).json()

    assert [(row["index"], row["field"]) for row in body["rejected"]] == [
        (0, "properties"),
        (1, "user_id"),
        (2, "event"),
        (3, "timestamp"),
        (4, "context"),
        (5, ""),
    ]
    assert body["rejected"][0]["reason"] == "properties: must be an object, not list"
    assert body["rejected"][5]["reason"] == "message must be an object, not str"
    assert Event.objects.count() == 0
    assert QuarantinedMessage.objects.count() == 6


def test_camel_case_segment_fields_are_accepted(client):
    message = {
        "type": "track",
        "event": "Product Added",
        "userId": "C-9",
        "messageId": "m-camel",
        "timestamp": timezone.now().isoformat(),
        "properties": {"sku": "SKU-1"},
    }

    body = _post_batch(client, [message]).json()

    assert body["counts"]["accepted"] == 1
    event = Event.objects.get()
    assert (event.event_type, event.event_id) == ("add_to_cart", "m-camel")
    assert event.customer.external_id == "C-9"


def test_unknown_user_id_creates_a_bare_customer(client):
    body = _post_batch(client, [track_message(user_id="NEW-1", anonymous_id=None)]).json()

    assert body["counts"]["accepted"] == 1
    customer = Customer.objects.get(external_id="NEW-1")
    assert customer.email == ""
    assert Event.objects.get().customer_id == customer.pk


def test_identify_updates_profile_and_merges_anonymous_history(client):
    customer = CustomerFactory(external_id="C-1", email="old@example.com", first_name="")
    earlier = [track_message(anonymous_id="browser-7") for _ in range(3)]
    _post_batch(client, earlier)
    assert Event.objects.filter(customer__isnull=True).count() == 3

    identify = {
        "type": "identify",
        "user_id": "C-1",
        "anonymous_id": "browser-7",
        "traits": {"email": " Ann@Example.COM ", "name": "Ann Lee", "plan": "gold"},
        "message_id": "identify-1",
    }
    response = client.post("/api/v1/identify", data=identify, format="json")

    assert response.status_code == 200, response.json()
    customer.refresh_from_db()
    assert (customer.email, customer.first_name, customer.last_name) == (
        "ann@example.com",
        "Ann",
        "Lee",
    )
    assert customer.attributes["plan"] == "gold"
    assert CustomerAlias.objects.get(alias="browser-7").customer_id == customer.pk
    assert Event.objects.filter(customer=customer).count() == 4
    later = _post_batch(client, [track_message(anonymous_id="browser-7")]).json()
    assert later["counts"]["accepted"] == 1
    assert Event.objects.filter(customer=customer).count() == 5


def test_identify_with_a_bad_trait_is_rejected_and_changes_nothing(client):
    customer = CustomerFactory(external_id="C-2", email="keep@example.com")

    response = client.post(
        "/api/v1/identify",
        data={"user_id": "C-2", "traits": {"email": "not-an-email"}, "message_id": "i-2"},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "traits.email"
    assert body["detail"].startswith("traits.email:")
    customer.refresh_from_db()
    assert customer.email == "keep@example.com"
    assert not MessageReceipt.objects.filter(message_id="i-2").exists()
    assert QuarantinedMessage.objects.get().message_id == "i-2"


def test_alias_links_previous_id_and_claims_its_events(client):
    _post_batch(client, [track_message(anonymous_id="device-3")])

    response = client.post(
        "/api/v1/alias",
        data={"previous_id": "device-3", "user_id": "C-3", "message_id": "a-1"},
        format="json",
    )

    assert response.status_code == 200
    customer = Customer.objects.get(external_id="C-3")
    assert CustomerAlias.objects.get(alias="device-3").customer_id == customer.pk
    assert Event.objects.filter(customer=customer, event_type="product_view").count() == 1
    assert Event.objects.filter(customer=customer, event_type="alias").count() == 1


def test_order_completed_with_products_records_the_order_once(client):
    ProductFactory(sku="SKU-1", price="10.00")
    purchase = track_message(
        event="Order Completed",
        user_id="C-4",
        properties={
            "order_id": "ORD-77",
            "products": [{"sku": "SKU-1", "quantity": 2, "price": 10}, {"sku": "NEW", "price": 5}],
            "shipping": 4,
            "currency": "eur",
        },
    )

    _post_batch(client, [purchase])
    resent_with_new_id = {**purchase, "message_id": str(uuid.uuid4())}
    body = _post_batch(client, [resent_with_new_id]).json()

    assert body["counts"]["accepted"] == 1
    order = Order.objects.get()
    assert (order.external_id, order.customer.external_id, order.currency) == (
        "ORD-77",
        "C-4",
        "EUR",
    )
    assert (str(order.subtotal), str(order.total)) == ("25.00", "29.00")
    assert sorted(order.lines.values_list("sku", "quantity")) == [("NEW", 1), ("SKU-1", 2)]
    assert Event.objects.filter(event_type="purchase").count() == 2


def test_order_completed_with_bad_products_is_rejected_with_the_line_named(client):
    purchase = track_message(
        event="Order Completed",
        properties={"order_id": "ORD-9", "products": [{"sku": "A", "quantity": 0}]},
    )

    body = _post_batch(client, [purchase]).json()

    assert body["rejected"][0]["field"] == "properties.products[0].quantity"
    assert Order.objects.count() == 0
    assert Event.objects.count() == 0


def test_single_track_endpoint_rejects_another_type(client):
    response = client.post("/api/v1/track", data=track_message(type="page"), format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "type: 'page' sent to the track endpoint"
    assert Event.objects.count() == 0


def test_single_page_endpoint_takes_the_type_from_the_path(client):
    message = track_message(name="Pricing")
    del message["type"]

    response = client.post("/api/v1/page", data=message, format="json")

    assert response.status_code == 200
    assert response.json()["counts"]["accepted"] == 1
    assert Event.objects.get().name == "Pricing"


def test_text_plain_body_and_query_key_work_for_send_beacon():
    key = ApiKeyFactory(scopes=["events:write"])
    anonymous = APIClient()

    response = anonymous.post(
        f"/api/v1/batch?key={key.raw_key}",
        data=orjson.dumps({"batch": [track_message()]}),
        content_type="text/plain;charset=UTF-8",
    )

    assert response.status_code == 200
    assert Event.objects.count() == 1


def test_ingestion_needs_a_key_with_events_write():
    anonymous = APIClient()
    assert _post_batch(anonymous, [track_message()]).status_code == 401
    reader = APIClient()
    reader.credentials(**bearer(ApiKeyFactory(scopes=["events:read"])))
    assert _post_batch(reader, [track_message()]).status_code == 403
    assert APIClient().post("/api/v1/batch?key=wrong", data={}).status_code == 401
    assert Event.objects.count() == 0


def test_cors_preflight_is_answered_on_ingestion_endpoints_only(client):
    headers = {
        "HTTP_ORIGIN": "https://shop.example.com",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type",
    }
    batch = client.options("/api/v1/batch", **headers)
    customers = client.options("/api/v1/customers", **headers)

    assert batch["Access-Control-Allow-Origin"] == "*"
    assert "access-control-allow-origin" not in {key.lower() for key in customers.headers}


def test_tabs_newlines_backslashes_and_unicode_are_stored_exactly(client):
    tricky = "tab\there\nnew line \\ back\\slash \\N ä中文 🙂"
    message = track_message(
        type="page",
        name=tricky,
        anonymous_id="anon\t2",
        properties={"q": tricky, "nested": {"list": [tricky, None, 1.5]}},
    )

    body = _post_batch(client, [message]).json()

    assert body["counts"]["accepted"] == 1
    event = Event.objects.get()
    assert event.name == tricky
    assert event.anonymous_id == "anon\t2"
    assert event.properties == {"q": tricky, "nested": {"list": [tricky, None, 1.5]}}


def test_a_nul_character_is_rejected_not_stored(client):
    body = _post_batch(client, [track_message(properties={"q": "a\u0000b"})]).json()

    assert body["rejected"][0]["reason"] == "message contains a NUL character (\\u0000)"
    assert Event.objects.count() == 0


def test_a_nul_character_in_the_message_id_is_quarantined_readably(client):
    body = _post_batch(client, [track_message(message_id="id\u0000x")]).json()

    assert body["counts"]["rejected"] == 1
    assert QuarantinedMessage.objects.get().message_id == "id\ufffdx"


def test_an_accepted_batch_asks_for_a_cleaning_run_of_what_it_touched(
    client, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from apps.quality.models import CleaningRun
    from apps.quality.services.runs import PENDING_KEY

    cache.delete_many([PENDING_KEY.format(entity=name) for name in ("events", "customers")])

    with django_capture_on_commit_callbacks(execute=True):
        _post_batch(client, [track_message(user_id="C-77")])

    run = CleaningRun.objects.get()
    assert run.trigger == "ingest"
    assert sorted(run.entities) == ["customers", "events"]


def test_a_fully_rejected_batch_asks_for_no_cleaning_run(
    client, django_capture_on_commit_callbacks
):
    from apps.quality.models import CleaningRun

    with django_capture_on_commit_callbacks(execute=True):
        _post_batch(client, [track_message(type="shout")])

    assert CleaningRun.objects.count() == 0


def test_a_merged_profiles_old_id_resolves_to_its_survivor(client):
    from apps.customers.tests.factories import CustomerAliasFactory

    survivor = CustomerFactory(external_id="C-SURVIVOR")
    CustomerAliasFactory(customer=survivor, alias="C-OLD", kind="external")

    body = _post_batch(client, [track_message(user_id="C-OLD", anonymous_id=None)]).json()

    assert body["counts"]["accepted"] == 1
    assert Event.objects.get().customer_id == survivor.pk
    assert not Customer.objects.filter(external_id="C-OLD").exists()


def test_a_new_user_signs_up_at_their_first_event_of_the_batch(client):
    early = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    late = timezone.now() - timedelta(hours=1)

    _post_batch(
        client,
        [
            track_message(user_id="C-NEW", timestamp=late.isoformat()),
            track_message(user_id="C-NEW", timestamp=early.isoformat()),
        ],
    )

    assert Customer.objects.get(external_id="C-NEW").signup_at == early


def test_an_accepted_track_message_marks_its_customer_touched_for_segments(
    client, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from apps.segments.models import SegmentTouchedCustomer
    from apps.segments.services.segments import TOUCH_PENDING_KEY, segment_create

    # given a dynamic segment, and an incremental refresh already queued (so the touches wait
    # in the table instead of being taken at once)
    segment_create(name="Everyone", definition={"type": "group", "operator": "and"})
    bystander = CustomerFactory(external_id="C-OTHER")
    cache.set(TOUCH_PENDING_KEY, 1)
    try:
        # when a batch with one track message of C-88 is accepted and committed
        with django_capture_on_commit_callbacks(execute=True):
            body = _post_batch(client, [track_message(user_id="C-88")]).json()
    finally:
        cache.delete(TOUCH_PENDING_KEY)

    # then C-88, and only C-88, waits for the incremental segment refresh
    assert body["counts"]["accepted"] == 1
    touched = set(SegmentTouchedCustomer.objects.values_list("customer_id", flat=True))
    assert touched == {Customer.objects.get(external_id="C-88").pk}
    assert bystander.pk not in touched

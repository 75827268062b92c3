"""The customer list (search, filters, pagination, htmx fragment) and the customer profile."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.customers.models import Customer, CustomerAlias
from tests.browser.shop_data import create_small_shop, create_user

LIST_URL = "/customers/"


@pytest.fixture
def analyst_client(client):
    client.force_login(create_user(role="analyst"))
    return client


def listed_ids(response) -> list[str]:
    return [customer.external_id for customer, _stats in response.context["rows"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["cus-ada", "cus-grace"]),
        ({"q": "LOVELACE"}, ["cus-ada"]),
        ({"q": "arlington"}, ["cus-grace"]),
        ({"country": "US"}, ["cus-grace"]),
        ({"channel": "social"}, ["cus-ada"]),
        ({"has_email": "yes"}, ["cus-ada"]),
        ({"has_email": "no"}, ["cus-grace"]),
        ({"consent": "email_marketing"}, ["cus-ada"]),
        ({"consent": "profiling"}, []),
        ({"order_by": "signup_at"}, ["cus-grace", "cus-ada"]),
    ],
)
def test_list_searches_and_filters(analyst_client, query, expected):
    create_small_shop()

    response = analyst_client.get(LIST_URL, query)

    assert response.status_code == 200
    assert listed_ids(response) == expected


@pytest.mark.django_db
def test_list_shows_order_numbers_of_each_customer(analyst_client):
    shop = create_small_shop()

    response = analyst_client.get(LIST_URL)

    stats = {customer.external_id: row for customer, row in response.context["rows"]}
    assert (stats["cus-ada"]["orders"], str(stats["cus-ada"]["revenue"])) == (2, "280.00")
    assert (stats["cus-grace"]["orders"], str(stats["cus-grace"]["revenue"])) == (2, "160.00")
    assert stats["cus-ada"]["last_order_at"] == shop.ada.orders.order_by("-placed_at")[0].placed_at


@pytest.mark.django_db
def test_an_invalid_filter_value_is_ignored_and_reported(analyst_client):
    create_small_shop()

    response = analyst_client.get(LIST_URL, {"channel": "carrier-pigeon", "q": "ada"})

    assert listed_ids(response) == ["cus-ada"]
    assert "channel" in response.context["form"].errors


@pytest.mark.django_db
def test_list_pages_by_25(analyst_client):
    Customer.objects.bulk_create(Customer(external_id=f"c-{number:03d}") for number in range(30))

    first = analyst_client.get(LIST_URL, {"order_by": "email"})
    second = analyst_client.get(LIST_URL, {"order_by": "email", "page": 2})
    beyond = analyst_client.get(LIST_URL, {"order_by": "email", "page": 99})

    assert (len(first.context["rows"]), len(second.context["rows"])) == (25, 5)
    assert beyond.context["page"].number == 2
    assert b'href="?order_by=email&amp;page=2"' in first.content


@pytest.mark.django_db
def test_an_htmx_request_gets_only_the_results_fragment(analyst_client):
    create_small_shop()

    response = analyst_client.get(LIST_URL, {"q": "grace"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<div id="customer-results"')
    assert b"<html" not in response.content
    assert listed_ids(response) == ["cus-grace"]
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_an_htmx_history_restore_gets_the_whole_page(analyst_client):
    response = analyst_client.get(
        LIST_URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert b"<html" in response.content


@pytest.mark.django_db
def test_empty_list_says_how_to_get_customers(analyst_client):
    response = analyst_client.get(LIST_URL)

    assert b"No customers yet" in response.content
    assert b"manage.py demo_data" in response.content


@pytest.mark.django_db
def test_profile_shows_attributes_consent_orders_and_timeline(analyst_client):
    create_small_shop()

    response = analyst_client.get(reverse("customers:detail", args=["cus-ada"]))

    assert response.status_code == 200
    consents = {row["purpose"]: row for row in response.context["consents"]}
    assert consents["email_marketing"]["granted"] is True
    assert consents["profiling"]["granted"] is False
    assert len(consents["profiling"]["history"]) == 2
    assert [order.external_id for order in response.context["orders"]] == ["ORD-1001", "ORD-1002"]
    assert len(response.context["timeline"]) == 4
    assert response.context["attributes"] == [
        ("favourite_colour", "teal"),
        ("sizes", '["S", "M"]'),
        ("vip", "true"),
    ]
    assert b"Withdrawn" in response.content
    assert b"2 \xc3\x97 Linen Summer Dress" in response.content


@pytest.mark.django_db
def test_profile_found_by_an_alias_redirects_to_the_canonical_address(analyst_client):
    shop = create_small_shop()
    CustomerAlias.objects.create(customer=shop.grace, alias="anon-42")

    response = analyst_client.get(reverse("customers:detail", args=["anon-42"]))

    assert response.status_code == 302
    assert response["Location"] == "/customers/cus-grace/"


@pytest.mark.django_db
def test_unknown_customer_is_a_404_page(analyst_client):
    response = analyst_client.get(reverse("customers:detail", args=["nobody"]))

    assert response.status_code == 404
    assert b"Page not found" in response.content

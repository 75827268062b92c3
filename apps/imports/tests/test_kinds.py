"""Customers, products, reviews, social posts and events imports: happy paths, re-imports that
store nothing new, and bad rows that go to the error file while the others are stored."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from apps.catalog.models import Category, Product
from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Event, QuarantinedMessage, Review, SocialPost
from apps.imports.choices import ImportStatus

pytestmark = pytest.mark.django_db


def error_rows(job) -> list[dict[str, str]]:
    with default_storage.open(job.error_file.name, "rb") as stream:
        return list(csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8")))


CUSTOMERS = (
    "customer_id,Email Address,first_name,last_name,gender,birth_date,country,language,"
    "signup_at,channel,loyalty_tier\n"
    "c-1,  Ann@Example.COM ,Ann,Lee,F,1990-04-01,de,EN,2023-05-01T08:00:00Z,organic,gold\n"
    "c-2,bob@example.com,Bob,,male,,fr,fr,2023-06-01,paid search,\n"
)


def test_customers_import_normalises_profiles_and_keeps_extra_columns_as_attributes(run_import):
    job = run_import("customers", CUSTOMERS)

    assert job.status == ImportStatus.SUCCEEDED
    assert (job.rows_created, job.rows_updated, job.rows_failed) == (2, 0, 0)
    ann = Customer.objects.get(external_id="c-1")
    assert ann.email == "ann@example.com"
    assert (ann.first_name, ann.last_name, ann.gender) == ("Ann", "Lee", "female")
    assert ann.birth_date.isoformat() == "1990-04-01"
    assert (ann.country, ann.language) == ("DE", "en")
    assert ann.signup_at == datetime(2023, 5, 1, 8, tzinfo=UTC)
    assert ann.acquisition_channel == "organic"
    assert ann.attributes == {"loyalty_tier": "gold"}
    bob = Customer.objects.get(external_id="c-2")
    assert bob.acquisition_channel == "paid_search"
    assert bob.attributes == {}


def test_reimporting_customers_creates_nothing_and_a_changed_file_updates(run_import):
    run_import("customers", CUSTOMERS)

    again = run_import("customers", CUSTOMERS)
    changed = run_import(
        "customers", "external_id,city,vip\nc-1,Berlin,yes\nc-3,Paris,\n", name="more.csv"
    )

    assert (again.rows_created, again.rows_updated, again.rows_skipped) == (0, 0, 2)
    assert (changed.rows_created, changed.rows_updated, changed.rows_skipped) == (1, 1, 0)
    ann = Customer.objects.get(external_id="c-1")
    # columns the file did not have keep their values; attributes merge
    assert (ann.city, ann.email, ann.first_name) == ("Berlin", "ann@example.com", "Ann")
    assert ann.attributes == {"loyalty_tier": "gold", "vip": "yes"}
    assert Customer.objects.count() == 3


def test_bad_customer_rows_are_reported_by_row_and_column_and_the_others_stored(run_import):
    # given an existing profile, and rows with a bad email, gender, date and a missing id
    CustomerFactory(external_id="c-9", email="keep@example.com")
    content = (
        "external_id,email,gender,birth_date\n"
        "c-1,ok@example.com,female,1990-01-01\n"
        "c-2,not-an-email,,\n"
        "c-3,,robot,\n"
        ",x@example.com,,\n"
        "c-9,,,31/12/1990\n"
        "c-4,four@example.com,,\n"
    )

    job = run_import("customers", content)

    assert (job.rows_processed, job.rows_created, job.rows_failed) == (6, 2, 4)
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["c-1", "c-4", "c-9"]
    assert Customer.objects.get(external_id="c-9").email == "keep@example.com"
    rows = error_rows(job)
    assert [(row["row_number"], row["column"], row["reason"]) for row in rows] == [
        ("3", "email", "email: Enter a valid email address."),
        ("4", "gender", "gender: Value 'robot' is not a valid choice."),
        ("5", "external_id", "external_id: is required and empty"),
        (
            "6",
            "birth_date",
            "birth_date: '31/12/1990' is not a date-time (day and month order is ambiguous; "
            "use YYYY-MM-DD)",
        ),
    ]
    assert list(rows[0].keys()) == [
        "row_number",
        "column",
        "field",
        "reason",
        "external_id",
        "email",
        "gender",
        "birth_date",
    ]
    assert rows[0]["email"] == "not-an-email"


def test_products_import_upserts_by_sku_with_categories_brands_and_tags(run_import):
    CategoryFactory(name="Women", slug="women", path="women")
    content = (
        "sku,name,price,cost,currency,stock,category,brand,tags,active,launch_date\n"
        "P-1,Linen Dress,59.90,20,eur,12,Women > Dresses,Acme,summer|linen,yes,2024-04-01\n"
        "P-2,Wool Hat,$19.00,,,3,women,acme,winter,0,\n"
        "P-3,No price,,,,,,,,,\n"
        'P-4,Bad price,"12,50",,,,,,,,\n'
    )

    job = run_import("products", content)

    assert (job.rows_created, job.rows_failed) == (2, 2)
    dress = Product.objects.get(sku="P-1")
    assert (dress.title, dress.price, dress.cost, dress.currency) == (
        "Linen Dress",
        Decimal("59.90"),
        Decimal("20.00"),
        "EUR",
    )
    assert dress.category.path == "women/dresses"
    assert dress.brand.name == "Acme"
    assert dress.tags == ["summer", "linen"]
    assert dress.is_active is True
    assert dress.launched_at == datetime(2024, 4, 1, tzinfo=UTC)
    hat = Product.objects.get(sku="P-2")
    assert (hat.price, hat.is_active, hat.category.slug, hat.brand_id) == (
        Decimal("19.00"),
        False,
        "women",
        dress.brand_id,
    )
    assert [(row["row_number"], row["reason"]) for row in error_rows(job)] == [
        ("4", "price: is required for a new product"),
        ("5", "price: '12,50' is not a number (use a dot for decimals, e.g. 12.50)"),
    ]


def test_reimporting_products_skips_unchanged_rows_and_updates_changed_ones(run_import):
    content = "sku,title,price,category,tags\nP-1,Dress,10,Women > Dresses,a|b\nP-2,Hat,5,,\n"
    run_import("products", content)

    again = run_import("products", content)
    changed = run_import("products", "sku,price\nP-1,12.50\n", name="prices.csv")

    assert (again.rows_created, again.rows_updated, again.rows_skipped) == (0, 0, 2)
    assert (changed.rows_created, changed.rows_updated) == (0, 1)
    assert Product.objects.get(sku="P-1").price == Decimal("12.50")
    assert Product.objects.get(sku="P-1").title == "Dress"
    assert Category.objects.count() == 2


def test_reviews_import_is_idempotent_by_source_and_id_or_a_row_hash(run_import):
    ProductFactory(sku="P-1")
    CustomerFactory(external_id="c-1")
    content = (
        "review_id,sku,customer_id,stars,title,body,reviewed_at\n"
        "r-1,P-1,c-1,5,Great,Love it,2024-02-01\n"
        ",P-1,,4,,Fine,2024-02-02\n"
        "r-3,P-404,,3,,Where,2024-02-03\n"
        "r-4,P-1,,6,,Too many stars,2024-02-04\n"
    )

    first = run_import("reviews", content)
    again = run_import("reviews", content)

    assert (first.rows_created, first.rows_failed) == (2, 2)
    assert (again.rows_created, again.rows_skipped, again.rows_failed) == (0, 2, 2)
    assert Review.objects.count() == 2
    review = Review.objects.get(external_id="r-1")
    assert (review.source, review.rating, review.customer.external_id) == ("import", 5, "c-1")
    derived = Review.objects.exclude(external_id="r-1").get()
    assert derived.external_id.startswith("row-")
    assert [(row["row_number"], row["reason"]) for row in error_rows(first)] == [
        ("4", "sku: product 'P-404' does not exist"),
        ("5", "stars (rating): 6 is not a whole number from 1 to 5"),
    ]


def test_social_import_upserts_posts_and_a_reimport_skips_them(run_import):
    ProductFactory(sku="P-1")
    content = (
        "platform,post_id,author,text,likes,shares,posted_at,sku\n"
        "X,t-1,@ann,Love the dress,10,2,2024-03-01T12:00:00Z,P-1\n"
        "instagram,i-1,@bob,Nice,,,2024-03-02,\n"
        "myspace,m-1,@tom,Old,1,1,2024-03-02,\n"
    )

    first = run_import("social", content)
    again = run_import("social", content)
    updated = run_import(
        "social",
        "platform,post_id,text,likes,posted_at\ninstagram,i-1,Nice,99,2024-03-02\n",
        name="counts.csv",
    )

    assert (first.rows_created, first.rows_failed) == (2, 1)
    assert (again.rows_created, again.rows_updated, again.rows_skipped) == (0, 0, 2)
    assert (updated.rows_updated, updated.rows_created) == (1, 0)
    post = SocialPost.objects.get(external_id="t-1")
    assert (post.platform, post.likes, post.shares, post.product.sku) == ("twitter", 10, 2, "P-1")
    assert SocialPost.objects.get(external_id="i-1").likes == 99
    assert error_rows(first)[0]["reason"].startswith("platform: 'myspace' is not one of twitter")


def test_events_import_sends_messages_through_ingestion_and_a_reimport_is_duplicates(
    run_import,
):
    # given a file of events: one with a properties column, extras, an identify, a bad one
    content = (
        "event_id,type,event,user_id,anonymous_id,timestamp,properties,plan\n"
        'e-1,track,Product Viewed,c-1,,2024-05-01T10:00:00Z,"{""sku"": ""P-1""}",pro\n'
        "e-2,page,Home,,anon-1,2024-05-01T10:01:00Z,,\n"
        "e-3,identify,,c-1,anon-1,2024-05-01T10:02:00Z,,gold\n"
        "e-4,track,,c-1,,2024-05-01T10:03:00Z,,\n"
        "e-5,track,Search,c-1,,2024-05-01T10:04:00Z,{not json},\n"
    )

    first = run_import("events", content)
    again = run_import("events", content)

    assert (first.rows_created, first.rows_failed) == (3, 2)
    assert (again.rows_created, again.rows_skipped, again.rows_failed) == (0, 3, 2)
    assert Event.objects.filter(source="import").count() == 3
    viewed = Event.objects.get(event_id="e-1")
    assert viewed.name == "Product Viewed"
    assert viewed.properties == {"sku": "P-1", "plan": "pro"}
    assert viewed.customer.external_id == "c-1"
    assert viewed.occurred_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert Customer.objects.get(external_id="c-1").attributes == {"plan": "gold"}
    reasons = [(row["row_number"], row["column"], row["reason"]) for row in error_rows(first)]
    assert reasons[0][:2] == ("5", "event")
    assert reasons[0][2].startswith("event: track needs the event name")
    assert reasons[1] == (
        "6",
        "properties",
        "properties: not valid JSON: Expecting property name enclosed in double quotes at "
        "character 2",
    )
    assert QuarantinedMessage.objects.filter(received_via="import").count() == 2


def test_json_lines_and_json_arrays_import_like_csv(run_import):
    lines = "\n".join(
        json.dumps(record)
        for record in [
            {"external_id": "j-1", "email": "j1@example.com", "tier": {"level": 2}},
            {"external_id": "j-2", "email": "bad"},
            {"external_id": 3, "first_name": "Numeric id"},
        ]
    )
    array = json.dumps([{"sku": "A-1", "title": "Array", "price": 9.5, "tags": ["x", "y"]}])

    from_lines = run_import("customers", lines, name="people.jsonl")
    from_array = run_import("products", array, name="products.json")

    assert (from_lines.format, from_lines.rows_created, from_lines.rows_failed) == ("jsonl", 2, 1)
    assert Customer.objects.get(external_id="j-1").attributes == {"tier": {"level": 2}}
    assert Customer.objects.get(external_id="3").first_name == "Numeric id"
    rows = error_rows(from_lines)
    assert list(rows[0].keys()) == ["row_number", "column", "field", "reason", "record"]
    assert rows[0]["row_number"] == "2"
    assert json.loads(rows[0]["record"]) == {"external_id": "j-2", "email": "bad"}
    assert from_array.format == "json"
    product = Product.objects.get(sku="A-1")
    assert (product.price, product.tags) == (Decimal("9.50"), ["x", "y"])


def test_nul_characters_fail_their_row_and_the_error_file_still_holds_it(run_import):
    content = (
        "external_id,email,note\n"
        "c-1,a@example.com,fine\n"
        "c-2,b@example.com,bad\x00byte\n"
        "c-3,c@example.com,also fine\n"
    )
    json_lines = '{"external_id": "j-1", "profile": {"bio": "a\\u0000b"}}\n{"external_id": "j-2"}\n'

    from_csv = run_import("customers", content)
    from_json = run_import("customers", json_lines, name="people.jsonl")

    assert (from_csv.rows_created, from_csv.rows_failed) == (2, 1)
    rows = error_rows(from_csv)
    assert (rows[0]["row_number"], rows[0]["reason"]) == ("3", "the row contains a NUL character")
    assert rows[0]["note"] == "bad\ufffdbyte"
    assert (from_json.rows_created, from_json.rows_failed) == (1, 1)
    assert error_rows(from_json)[0]["reason"] == "profile: contains a NUL character"

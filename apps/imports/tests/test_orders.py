"""Orders imports: lines grouped into orders, totals, unknown customers, idempotency, bad rows."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from apps.catalog.tests.factories import ProductFactory
from apps.customers.models import Customer
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Order, OrderLine
from apps.imports.choices import ImportStatus

pytestmark = pytest.mark.django_db

HEADER = (
    "order_id,customer_id,placed_at,status,channel,currency,sku,quantity,unit_price,discount,"
    "discount_total,shipping_total,coupon_code,campaign\n"
)
ORDERS = HEADER + (
    "A-1,cust-1,2024-03-01T10:00:00Z,completed,web,EUR,SKU-1,2,10.00,1.00,2.00,4.90,SPRING,spring24\n"
    "A-1,,,,,,SKU-2,1,5.50,,,,,\n"
    "A-2,new-customer,2024-03-02 09:30,paid,app,EUR,SKU-1,1,10.00,0,0,0,,\n"
    "A-3,,2024-03-03,,,,UNKNOWN-SKU,3,1.10,,,,,\n"
)


def error_rows(job) -> list[dict[str, str]]:
    with default_storage.open(job.error_file.name, "rb") as stream:
        return list(csv.DictReader(io.TextIOWrapper(stream, encoding="utf-8")))


def test_orders_import_groups_lines_computes_totals_and_creates_unknown_customers(run_import):
    # given a known customer and product, and a file of three orders with four lines
    customer = CustomerFactory(external_id="cust-1")
    product = ProductFactory(sku="SKU-1")

    # when it is imported
    job = run_import("orders", ORDERS)

    # then every line is stored under its order, with totals computed like order_create
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.rows_total, job.rows_processed, job.rows_created, job.rows_failed) == (4, 4, 4, 0)
    assert job.details == {
        "orders_created": 3,
        "customers_created": 1,
        "lines_without_product": 2,
    }
    first = Order.objects.get(external_id="A-1")
    assert first.customer == customer
    assert first.currency == "EUR"
    assert first.subtotal == Decimal("24.50")  # 2 x 10.00 - 1.00 + 5.50
    assert first.discount_total == Decimal("2.00")
    assert first.shipping_total == Decimal("4.90")
    assert first.total == Decimal("27.40")
    assert (first.coupon_code, first.campaign) == ("SPRING", "spring24")
    assert first.placed_at.isoformat() == "2024-03-01T10:00:00+00:00"
    lines = list(first.lines.order_by("id").values_list("sku", "quantity", "product_id"))
    assert lines == [("SKU-1", 2, product.pk), ("SKU-2", 1, None)]
    # and the unknown customer got a bare profile that signed up with its first order
    second = Order.objects.get(external_id="A-2")
    assert second.customer.external_id == "new-customer"
    assert second.customer.signup_at == second.placed_at
    assert (second.status, second.channel) == ("paid", "app")
    third = Order.objects.get(external_id="A-3")
    assert third.customer is None
    assert (third.status, third.channel, third.currency) == ("completed", "web", "USD")
    assert third.placed_at.isoformat() == "2024-03-03T00:00:00+00:00"
    assert not job.error_file


def test_reimporting_the_same_orders_file_stores_nothing_new(run_import):
    ProductFactory(sku="SKU-1")
    run_import("orders", ORDERS)

    job = run_import("orders", ORDERS)

    assert job.status == ImportStatus.SUCCEEDED
    assert (job.rows_created, job.rows_skipped, job.rows_failed) == (0, 4, 0)
    assert job.details == {"orders_skipped": 3}
    assert Order.objects.count() == 3
    assert OrderLine.objects.count() == 4
    assert Customer.objects.count() == 2


def test_a_bad_line_refuses_its_whole_order_and_the_others_are_stored(run_import):
    # given an order whose second line has a bad quantity, and a good order after it
    content = (
        "order_id,placed_at,sku,quantity,unit_price\n"
        "B-1,2024-01-05,SKU-1,1,10.00\n"
        "B-1,2024-01-05,SKU-2,two,5.00\n"
        "B-2,2024-01-06,SKU-1,1,12,50\n"
        "B-3,2024-01-07,SKU-3,1,8.00\n"
    )

    job = run_import("orders", content)

    # then B-1 is refused as a whole, row 3 naming the column; B-2's row has too many values
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.rows_processed, job.rows_created, job.rows_failed) == (4, 1, 3)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["B-3"]
    rows = error_rows(job)
    assert [(row["row_number"], row["column"], row["field"]) for row in rows] == [
        ("2", "order_id", "order_id"),
        ("3", "quantity", "quantity"),
        ("4", "", ""),
    ]
    assert rows[0]["reason"] == "order_id: order not imported: row 3 of it was refused"
    assert rows[1]["reason"] == "quantity: 'two' is not a whole number"
    assert rows[2]["reason"] == "the row has 6 values but the header has 5 columns"
    # and the original values follow under the file's own column names
    assert rows[1]["sku"] == "SKU-2"
    assert rows[1]["quantity"] == "two"


def test_business_rules_of_order_create_apply_and_name_the_row(run_import):
    content = (
        "order_id,placed_at,sku,quantity,unit_price,discount,status\n"
        "C-1,2024-01-05,SKU-1,1,10.00,11.00,completed\n"
        "C-2,2024-01-05,SKU-1,1,10.00,0,lost\n"
        "C-3,2999-01-01,SKU-1,1,10.00,0,paid\n"
        "C-4,2024-01-05,SKU-1,1,-3,0,paid\n"
    )

    job = run_import("orders", content)

    assert Order.objects.count() == 0
    assert [(row["row_number"], row["reason"]) for row in error_rows(job)] == [
        ("2", "discount: 11.00 is more than the line's 10.00"),
        (
            "3",
            "status: 'lost' is not one of pending, paid, shipped, completed, cancelled, refunded",
        ),
        ("4", "placed_at: must not be in the future"),
        ("5", "unit_price: must not be negative"),
    ]


def test_a_total_that_does_not_match_the_lines_is_refused(run_import):
    content = "order_id,placed_at,sku,quantity,unit_price,total\nD-1,2024-01-05,S,2,10,25\n"

    job = run_import("orders", content)

    assert Order.objects.count() == 0
    assert error_rows(job)[0]["reason"] == (
        "total: 25 does not match the lines (subtotal 20.00 - discount 0.00 + shipping 0.00 = "
        "20.00)"
    )


def test_lines_of_an_order_that_come_back_later_in_the_file_are_refused(run_import):
    content = (
        "order_id,placed_at,sku,unit_price\n"
        "E-1,2024-01-05,S1,1\n"
        "E-2,2024-01-05,S1,1\n"
        "E-1,2024-01-05,S2,1\n"
    )

    job = run_import("orders", content)

    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["E-1", "E-2"]
    assert OrderLine.objects.filter(order__external_id="E-1").count() == 1
    rows = error_rows(job)
    assert [row["row_number"] for row in rows] == ["4"]
    assert rows[0]["reason"] == (
        "order_id: the lines of order 'E-1' are not contiguous: it also has lines from row 2; "
        "put all lines of an order together"
    )


def test_non_contiguous_lines_across_chunks_are_refused(run_import, monkeypatch):
    from apps.imports.services import writers

    monkeypatch.setattr(writers.OrderWriter, "chunk_size", 2)
    content = (
        "order_id,placed_at,sku,unit_price\n"
        "F-1,2024-01-05,S1,1\n"
        "F-2,2024-01-05,S1,1\n"
        "F-3,2024-01-05,S1,1\n"
        "F-1,2024-01-05,S2,1\n"
    )

    job = run_import("orders", content)

    assert Order.objects.count() == 3
    assert (job.rows_created, job.rows_skipped, job.rows_failed) == (3, 0, 1)
    assert "imported from lines earlier in this file" in error_rows(job)[0]["reason"]


def test_missing_required_column_is_refused_before_anything_is_stored(run_import):
    from apps.core.errors import ValidationFailed
    from apps.imports.models import ImportJob

    with pytest.raises(ValidationFailed) as caught:
        run_import("orders", "order_id,sku,unit_price\nG-1,S,1\n")

    assert caught.value.field == "placed_at"
    assert caught.value.message.startswith("missing required column: placed_at (")
    assert ImportJob.objects.count() == 0
    assert Order.objects.count() == 0

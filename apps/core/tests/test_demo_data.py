"""`manage.py demo_data` against the real PostgreSQL: rows, ground truth and refusals agree."""

from __future__ import annotations

import json
from collections import defaultdict
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, OuterRef, Subquery, Sum

from apps.catalog.models import Brand, Category, Product
from apps.customers.models import Consent, Customer, CustomerAlias
from apps.events.models import Event, Order, OrderLine, Review, SocialPost

pytestmark = pytest.mark.django_db

CUSTOMERS = 300
SEED = 11
END_DATE = "2026-11-29"


def _run(truth_file: Path, *extra: str, customers: int = CUSTOMERS) -> dict:
    out, err = StringIO(), StringIO()
    call_command(
        "demo_data",
        "--customers",
        str(customers),
        "--seed",
        str(SEED),
        "--end-date",
        END_DATE,
        "--truth-file",
        str(truth_file),
        "--json",
        *extra,
        stdout=out,
        stderr=err,
    )
    return json.loads(out.getvalue())


def _table_counts() -> dict[str, int]:
    return {
        "categories": Category.objects.count(),
        "brands": Brand.objects.count(),
        "products": Product.objects.count(),
        "customers": Customer.objects.count(),
        "consents": Consent.objects.count(),
        "customer_aliases": CustomerAlias.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": OrderLine.objects.count(),
        "events": Event.objects.count(),
        "reviews": Review.objects.count(),
        "social_posts": SocialPost.objects.count(),
    }


@pytest.fixture
def generated(tmp_path):
    truth_file = tmp_path / "truth.json"
    summary = _run(truth_file)
    return summary, json.loads(truth_file.read_text(encoding="utf-8")), truth_file


def test_json_summary_and_truth_counts_match_the_database(generated):
    summary, truth, truth_file = generated

    assert summary["seed"] == SEED
    assert summary["customers"] == CUSTOMERS
    assert summary["end"] == END_DATE and summary["start"] == "2025-03-29"
    assert summary["truth_file"] == str(truth_file)
    assert summary["database"] == "postgresql"
    assert summary["counts"] == truth["counts"] == _table_counts()
    assert truth["seed"] == SEED
    assert len(truth["customers"]) == CUSTOMERS
    assert len(truth["products"]) == summary["counts"]["products"]
    assert set(truth["segments"]) == {
        "vip",
        "regular",
        "occasional",
        "bargain_hunter",
        "one_and_done",
    }
    assert set(truth["segments"]["vip"]["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(truth["segments"]["vip"]["gamma_gamma"]) == {"p", "q", "v"}


def test_each_customers_orders_match_the_truth_and_stop_at_the_dropout(generated):
    _, truth, _ = generated
    orders = defaultdict(list)
    for external_id, placed_at in Order.objects.values_list("customer__external_id", "placed_at"):
        orders[external_id].append(placed_at)

    for record in truth["customers"]:
        placed = orders.get(record["external_id"], [])
        assert len(placed) == record["n_orders"], record["external_id"]
        if record["dropout_at"] is not None:
            assert len(placed) >= 2  # BG/NBD: no dropout right after the first order
            assert max(placed).strftime("%Y-%m-%dT%H:%M:%SZ") == record["dropout_at"]
            assert max(placed).date().isoformat() == record["dropout_date"]
        if record["first_order_at"] is not None:
            assert min(placed).strftime("%Y-%m-%dT%H:%M:%SZ") == record["first_order_at"]


def test_the_segment_with_the_higher_purchase_rate_orders_more(generated):
    _, truth, _ = generated
    segment_of = {record["external_id"]: record["segment"] for record in truth["customers"]}
    per_segment = defaultdict(list)
    for external_id, count in Customer.objects.annotate(n=Count("orders")).values_list(
        "external_id", "n"
    ):
        per_segment[segment_of[external_id]].append(count)
    mean = {name: float(np.mean(counts)) for name, counts in per_segment.items()}
    rate = {name: s["expected"]["mean_lambda_per_day"] for name, s in truth["segments"].items()}
    fastest, slowest = max(rate, key=rate.get), min(rate, key=rate.get)

    assert mean[fastest] > 3 * mean[slowest]
    assert mean["vip"] > mean["regular"] > mean["one_and_done"]


def test_order_lines_add_up_to_the_orders(generated):
    mismatched = (
        Order.objects.annotate(lines_total=Sum("lines__line_total"))
        .exclude(lines_total=F("subtotal") - F("discount_total"))
        .count()
    )
    promo_orders = Order.objects.exclude(coupon_code="").count()

    assert mismatched == 0
    assert Order.objects.filter(lines__isnull=True).count() == 0
    assert (
        Order.objects.exclude(
            total=F("subtotal") - F("discount_total") + F("shipping_total")
        ).count()
        == 0
    )
    assert 0 < promo_orders < Order.objects.count()
    assert set(Order.objects.values_list("status", flat=True)) >= {
        "completed",
        "cancelled",
        "refunded",
    }


def test_part_of_the_customers_have_an_email_and_email_marketing_consent(generated):
    latest = Consent.objects.filter(customer=OuterRef("pk"), purpose="email_marketing").order_by(
        "-recorded_at", "-id"
    )
    customers = Customer.objects.annotate(email_consent=Subquery(latest.values("granted")[:1]))
    with_email = customers.exclude(email="")
    consenting = with_email.filter(email_consent=True).count()

    assert 0.75 < with_email.count() / CUSTOMERS < 0.95
    assert 0.4 < consenting / with_email.count() < 0.8
    assert customers.filter(email="", email_consent__isnull=False).count() == 0
    withdrawn = Consent.objects.filter(
        purpose="email_marketing", granted=False, source="unsubscribe_link"
    )
    assert withdrawn.exists()
    for consent in withdrawn:
        assert consent.recorded_at > consent.customer.signup_at


def test_consent_in_force_matches_the_truth(generated):
    _, truth, _ = generated
    latest = Consent.objects.filter(customer=OuterRef("pk"), purpose="email_marketing").order_by(
        "-recorded_at", "-id"
    )
    in_force = dict(
        Customer.objects.annotate(granted=Subquery(latest.values("granted")[:1])).values_list(
            "external_id", "granted"
        )
    )

    for record in truth["customers"]:
        assert bool(in_force[record["external_id"]]) == record["email_marketing_consent"]


def test_events_have_unique_ids_and_anonymous_sessions(generated):
    events = Event.objects.filter(source="demo")

    assert events.count() == Event.objects.count()
    assert events.values("event_id").distinct().count() == events.count()
    assert not events.exclude(event_id__startswith=f"demo-{SEED}-").exists()
    assert events.filter(customer__isnull=True).exclude(anonymous_id="").exists()
    aliased = CustomerAlias.objects.values_list("alias", flat=True)
    assert events.filter(anonymous_id__in=aliased, customer__isnull=True).exists()
    assert events.filter(event_type="search", properties__has_key="query").exists()
    assert (
        events.filter(event_type="purchase").count()
        == Order.objects.exclude(channel="marketplace").count()
    )


def test_reviews_and_social_posts_are_linked_and_in_both_languages(generated):
    assert set(Review.objects.values_list("language", flat=True)) == {"en", "zh"}
    assert not Review.objects.filter(customer__isnull=True).exists()
    assert SocialPost.objects.filter(customer__isnull=False).exists()
    assert SocialPost.objects.filter(customer__isnull=True).exists()
    assert set(SocialPost.objects.values_list("platform", flat=True)) <= {
        "twitter",
        "instagram",
        "weibo",
        "xiaohongshu",
    }


def test_a_rerun_without_flush_refuses_and_writes_nothing(generated, tmp_path):
    summary, _, truth_file = generated
    before = _table_counts()
    truth_before = truth_file.read_bytes()
    other_truth = tmp_path / "other.json"

    with pytest.raises(CommandError, match=f"already has {CUSTOMERS} customers; run with --flush"):
        _run(other_truth)

    assert _table_counts() == before
    assert truth_file.read_bytes() == truth_before
    assert not other_truth.exists()
    assert list(tmp_path.iterdir()) == [truth_file]


def test_if_empty_keeps_existing_customers_and_succeeds(generated, tmp_path):
    _, _, truth_file = generated
    before = _table_counts()
    truth_before = truth_file.read_bytes()

    summary = _run(truth_file, "--if-empty")

    assert summary["skipped"] is True
    assert summary["counts"] == {}
    assert summary["note"] == f"the database already has {CUSTOMERS} customers; kept them"
    assert _table_counts() == before
    assert truth_file.read_bytes() == truth_before
    with pytest.raises(CommandError, match="--flush and --if-empty exclude each other"):
        _run(tmp_path / "x.json", "--if-empty", "--flush")


def test_if_empty_generates_into_an_empty_database(tmp_path):
    summary = _run(tmp_path / "truth.json", "--if-empty", customers=50)

    assert summary["skipped"] is False
    assert Customer.objects.count() == 50
    assert (tmp_path / "truth.json").exists()


def test_a_flushed_rerun_with_the_same_seed_rebuilds_the_same_shop(generated, tmp_path):
    summary, _, truth_file = generated
    orders_before = set(
        Order.objects.values_list("external_id", "customer__email", "total", "placed_at")
    )
    second_truth = tmp_path / "second.json"

    second = _run(second_truth, "--flush")

    assert second["flushed"]["customers"] == CUSTOMERS
    assert second["flushed"]["events"] == summary["counts"]["events"]
    assert second["counts"] == summary["counts"] == _table_counts()
    assert second_truth.read_bytes() == truth_file.read_bytes()
    assert (
        set(Order.objects.values_list("external_id", "customer__email", "total", "placed_at"))
        == orders_before
    )


def test_bad_arguments_exit_with_a_one_line_reason(tmp_path):
    with pytest.raises(CommandError, match="months must be between 18 and 120, got 12"):
        _run(tmp_path / "t.json", "--months", "12")
    with pytest.raises(CommandError, match="--end-date must be YYYY-MM-DD"):
        call_command("demo_data", "--end-date", "29/11/2026", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="customers must be between 1"):
        _run(tmp_path / "t.json", customers=0)

    assert Customer.objects.count() == 0
    assert not (tmp_path / "t.json").exists()

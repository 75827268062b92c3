"""Cleaning runs against the database: every change is written through the owning app and
recorded, real values are never overwritten, runs are idempotent, exact duplicates merge,
scheduling is debounced, a failing entity leaves nothing half-written; quality reports."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.models import AuditLog
from apps.catalog.models import Category, Product
from apps.catalog.tests.factories import CategoryFactory, ProductFactory
from apps.core.errors import NotFound, ValidationFailed
from apps.customers.models import Customer, CustomerAlias, CustomerMerge
from apps.customers.tests.factories import CustomerFactory
from apps.events.models import Order
from apps.events.tests.factories import EventFactory, OrderFactory
from apps.quality import services
from apps.quality.choices import Entity, RunStatus
from apps.quality.models import CleaningChange, CleaningRun, QualityReport
from apps.quality.services.runs import DEBOUNCE_SECONDS, PENDING_KEY
from apps.quality.tasks import run_cleaning_task
from smartmkt.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_pending_marks():
    keys = [PENDING_KEY.format(entity=entity) for entity in Entity.values]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def changes(run: CleaningRun) -> dict[tuple[str, str], int]:
    return {(change.rule, change.field): change.rows_affected for change in run.changes.all()}


def test_a_run_normalises_customers_and_records_each_rule_with_rows_and_examples():
    # given customers with messy emails, national phones and lower-case countries
    ada = CustomerFactory(email="  ADA@Example.com ", phone="030 1234567", country="de")
    bob = CustomerFactory(email="bob@example.com", phone="+49 30 7654321", country="DE")

    # when a run cleans customers
    run = services.cleaning_run(entities=["customers"])

    # then the values are normalised in the database
    ada.refresh_from_db()
    bob.refresh_from_db()
    assert (ada.email, ada.phone, ada.country) == ("ada@example.com", "+49301234567", "DE")
    assert bob.phone == "+49307654321"
    # and each rule is recorded with the rows it changed and before -> after examples
    assert run.status == RunStatus.SUCCEEDED
    assert changes(run)[("email_normalise", "email")] == 1
    assert changes(run)[("phone_e164", "phone")] == 2
    assert changes(run)[("country_iso2", "country")] == 1
    email = run.changes.get(rule="email_normalise")
    assert email.examples == [
        {"id": ada.external_id, "before": "  ADA@Example.com ", "after": "ada@example.com"}
    ]
    assert email.action == "updated"
    assert run.totals["customers"]["rows_changed"] == 2
    assert run.totals["customers"]["rows"] == 2


def test_a_second_run_changes_nothing():
    CustomerFactory.create_batch(3, email="  X@Example.com", country="de", phone="030 1234567")
    services.cleaning_run(entities=["customers"], auto_merge=False)

    second = services.cleaning_run(entities=["customers"], auto_merge=False)

    assert set(changes(second)) == {("duplicate_normalised_key", "email, phone")}
    assert second.totals["customers"]["rows_changed"] == 0


def test_imputation_fills_gaps_marks_them_and_never_overwrites_a_real_value():
    # given three Germans speaking German, one with no language, and one with a real "en"
    for _ in range(3):
        CustomerFactory(country="DE", language="de", birth_date=date(1990, 5, 5))
    gap = CustomerFactory(country="DE", language="", birth_date=None)
    real = CustomerFactory(country="DE", language="en", birth_date=date(1990, 5, 5))

    run = services.cleaning_run(entities=["customers"])

    gap.refresh_from_db()
    real.refresh_from_db()
    assert gap.language == "de"
    assert gap.imputed_values == {"language": "de", "age_band": "35-44"}
    assert gap.age_band == "35-44"
    assert (real.language, real.imputed_values, real.age_band) == ("en", {}, "35-44")
    language = run.changes.get(rule="impute_group_mode", field="language")
    assert (language.action, language.rows_affected) == ("imputed", 1)
    assert language.parameters["modes"] == {"DE": "de"}
    median = run.changes.get(rule="impute_median", field="age_band")
    assert median.parameters["median_age"] == 36.0


def test_a_real_value_that_arrives_later_removes_the_imputed_marker():
    for _ in range(3):
        CustomerFactory(country="DE", language="de")
    gap = CustomerFactory(country="DE", language="")
    services.cleaning_run(entities=["customers"])
    Customer.objects.filter(pk=gap.pk).update(language="fr")  # e.g. an import

    run = services.cleaning_run(entities=["customers"])

    gap.refresh_from_db()
    assert gap.language == "fr"
    assert "language" not in gap.imputed_values
    assert changes(run)[("imputed_superseded", "imputed_values")] == 1


def test_exact_duplicates_merge_and_conflicting_ones_are_only_reported():
    # given an exact duplicate (same email up to case, nothing disagrees) ...
    first = CustomerFactory(
        external_id="c-1", email="ada@example.com", first_name="Ada", last_name="L"
    )
    CustomerFactory(external_id="c-2", email="ADA@example.com ", first_name="ada", last_name="L")
    # ... and two profiles sharing a phone with different names
    CustomerFactory(external_id="c-3", phone="+4930111", first_name="Kim", last_name="A")
    CustomerFactory(external_id="c-4", phone="+4930111", first_name="Lee", last_name="B")
    first.signup_at = first.signup_at.replace(year=2020)
    first.save()

    run = services.cleaning_run(entities=["customers"])

    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["c-1", "c-3", "c-4"]
    assert CustomerAlias.objects.get(alias="c-2").customer_id == first.pk
    merge = CustomerMerge.objects.get()
    assert (merge.survivor_external_id, merge.merged_external_id, merge.reason) == (
        "c-1",
        "c-2",
        "duplicate_exact",
    )
    merged = run.changes.get(rule="duplicate_exact")
    assert (merged.action, merged.rows_affected) == ("merged", 1)
    assert merged.examples[0]["merge_ids"] == [merge.pk]
    reported = run.changes.get(rule="duplicate_normalised_key")
    assert (reported.action, reported.rows_affected) == ("reported", 2)
    assert reported.examples == [
        {
            "ids": ["c-3", "c-4"],
            "keys": {"phone": ["+4930111"]},
            "conflicts": ["email", "first_name", "last_name"],
        }
    ]


def test_without_auto_merge_exact_duplicates_are_reported_not_merged():
    CustomerFactory(email="ada@example.com", first_name="Ada")
    CustomerFactory(email="ada@example.com", first_name="Ada")

    run = services.cleaning_run(entities=["customers"], auto_merge=False)

    assert Customer.objects.count() == 2
    assert CustomerMerge.objects.count() == 0
    assert changes(run)[("duplicate_normalised_key", "email, phone")] == 2


def test_products_and_categories_are_cleaned_and_costs_imputed_from_their_category():
    category = CategoryFactory(name="  women's   dresses")
    for index in range(8):
        ProductFactory(
            category=category, price=Decimal(10 * (index + 1)), cost=Decimal(4 * (index + 1))
        )
    gap = ProductFactory(
        category=category, price=Decimal("50.00"), cost=None, title="  Wrap  dress "
    )
    Product.objects.filter(pk=gap.pk).update(currency="eur")

    run = services.cleaning_run(entities=["products"])

    gap.refresh_from_db()
    category.refresh_from_db()
    assert category.name == "Women's Dresses"
    assert (gap.title, gap.currency, gap.cost) == ("Wrap dress", "EUR", Decimal("20.00"))
    assert gap.imputed_values == {"cost": 20.0}
    assert gap.price_band == "mid"
    assert changes(run)[("category_name_normalise", "category.name")] == 1
    assert changes(run)[("impute_group_median", "cost")] == 1
    assert changes(run)[("price_band", "price_band")] == 9


def test_orders_get_flags_and_currencies_but_amounts_stay():
    for index in range(30):
        OrderFactory(total=Decimal(40 + index), subtotal=Decimal(40 + index))
    huge = OrderFactory(total=Decimal("90000.00"), subtotal=Decimal("90000.00"))
    negative = OrderFactory(
        subtotal=Decimal("20.00"), shipping_total=Decimal("-5.00"), total=Decimal("15.00")
    )
    Order.objects.filter(pk=negative.pk).update(currency="usd")

    run = services.cleaning_run(entities=["orders"])

    huge.refresh_from_db()
    negative.refresh_from_db()
    assert huge.quality_flags == ["amount_outlier"]
    assert huge.total == Decimal("90000.00")
    assert (negative.quality_flags, negative.currency) == (["negative_amount"], "USD")
    assert changes(run)[("outlier_flag", "quality_flags")] == 1
    outlier = run.changes.get(rule="outlier_flag")
    assert outlier.action == "flagged"
    assert outlier.parameters["bounds"]["USD"]["method"] == "modified_z"


def test_every_run_computes_the_reports_of_its_entities():
    CustomerFactory(email="", phone="+4930123")
    CustomerFactory(email="ada@example.com", phone="")
    EventFactory(source="web", customer=None)

    run = services.cleaning_run(entities=["customers", "events"])

    customers = QualityReport.objects.get(entity="customers")
    assert customers.run_id == run.pk
    assert customers.rows == 2
    completeness = {row["field"]: row for row in customers.metrics["completeness"]}
    assert completeness["email"] == {"field": "email", "filled": 1, "percent": 50.0}
    events = QualityReport.objects.get(entity="events")
    (web,) = events.metrics["freshness"]
    assert (web["source"], web["events"]) == ("web", 1)


def test_a_failing_entity_rolls_back_its_own_changes_and_fails_the_run(monkeypatch):
    ada = CustomerFactory(email=" ADA@example.com")
    order = OrderFactory(currency="eur")

    def broken(**kwargs):
        raise ValidationFailed("currency: broken on purpose", field="currency")

    monkeypatch.setattr("apps.quality.services.steps.order_currencies_write", broken)
    run = services.cleaning_run(entities=["customers", "orders"])

    assert run.status == RunStatus.FAILED
    assert run.error == "ValidationFailed: currency: broken on purpose"
    ada.refresh_from_db()
    order.refresh_from_db()
    assert ada.email == "ada@example.com"  # customers were cleaned before the failure
    assert order.currency == "eur"
    assert CleaningChange.objects.filter(run=run, entity="orders").count() == 0
    assert list(run.totals) == ["customers"]


def test_unknown_entity_is_refused_naming_it_and_nothing_is_created():
    with pytest.raises(ValidationFailed) as error:
        services.cleaning_run(entities=["customers", "unicorns"])

    assert error.value.field == "entities"
    assert "'unicorns'" in error.value.message
    assert CleaningRun.objects.count() == 0


def test_entities_parse_orders_and_defaults_to_all():
    assert services.entities_parse("orders, customers") == ["customers", "orders"]
    assert services.entities_parse(None) == [
        "customers",
        "products",
        "orders",
        "events",
        "reviews",
        "social",
    ]


def test_cleaning_start_queues_a_run_and_enqueues_it_after_commit(
    django_capture_on_commit_callbacks,
):
    CustomerFactory(email=" B@example.com")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = services.cleaning_start(entities=["customers"], actor_label="test")

    run.refresh_from_db()
    # the run's enqueue, then (from the run itself) the segments touch of the cleaned customer
    assert len(callbacks) == 2
    assert run.status == RunStatus.SUCCEEDED  # eager Celery ran it on commit
    assert run.trigger == "manual"
    assert AuditLog.objects.filter(action="quality.cleaning_started").count() == 1


def test_the_task_is_idempotent_by_run_id():
    run = services.cleaning_run(entities=["customers"])
    finished_at = run.finished_at

    status = run_cleaning_task(run.pk)

    run.refresh_from_db()
    assert status == RunStatus.SUCCEEDED
    assert run.finished_at == finished_at
    assert CleaningRun.objects.count() == 1


def test_executing_a_missing_run_is_not_found():
    with pytest.raises(NotFound):
        services.cleaning_run_execute(run_id=999_999)


def test_schedule_does_nothing_until_the_batch_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.cleaning_schedule(entities=["customers"], trigger="import")

    assert len(callbacks) == 1
    assert CleaningRun.objects.count() == 0
    assert cache.get(PENDING_KEY.format(entity="customers")) is None


def test_schedule_is_debounced_to_one_queued_run_per_entity(django_capture_on_commit_callbacks):
    # given a real broker (this test's Redis database) and no worker
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("default")
    celery_app.conf.task_always_eager = False
    try:
        # when three import batches commit, one of them also with social posts
        for entities in (["customers"], ["customers", "social"], ["customers"]):
            with django_capture_on_commit_callbacks(execute=True):
                services.cleaning_schedule(entities=entities, trigger="import")
        messages = [json.loads(raw) for raw in broker.lrange("default", 0, -1)]
    finally:
        celery_app.conf.task_always_eager = True
        broker.delete("default")

    # then one run for customers and one for social are queued, each sent once, delayed
    runs = list(CleaningRun.objects.order_by("pk").values_list("pk", "entities", "status"))
    assert [(entities, status) for _pk, entities, status in runs] == [
        (["customers"], "queued"),
        (["social"], "queued"),
    ]
    assert sorted(message["headers"]["argsrepr"] for message in messages) == sorted(
        f"[{pk}]" for pk, _entities, _status in runs
    )
    delays = [
        (datetime.fromisoformat(message["headers"]["eta"]) - timezone.now()).total_seconds()
        for message in messages
    ]
    assert all(100 < delay <= DEBOUNCE_SECONDS for delay in delays), delays
    assert {message["headers"]["task"] for message in messages} == {"quality.run_cleaning_task"}


def test_schedule_ignores_entities_it_does_not_know_and_refuses_unknown_triggers():
    services.cleaning_schedule(entities=["unicorns"], trigger="import")

    with pytest.raises(ValidationFailed):
        services.cleaning_schedule(entities=["customers"], trigger="whenever")
    assert CleaningRun.objects.count() == 0


def test_a_worker_starting_the_run_clears_the_pending_marks(django_capture_on_commit_callbacks):
    # given a real broker (this test's Redis) and a run queued after an ingest batch
    celery_app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.cleaning_schedule(entities=["orders"], trigger="ingest")
    finally:
        celery_app.conf.task_always_eager = True
    run = CleaningRun.objects.get()
    assert cache.get(PENDING_KEY.format(entity="orders")) == 1

    # when a worker executes it
    celery_app.conf.task_always_eager = False
    try:
        services.cleaning_run_execute(run_id=run.pk)
    finally:
        celery_app.conf.task_always_eager = True

    # then batches arriving from now on ask for the next run
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert cache.get(PENDING_KEY.format(entity="orders")) is None
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("default")


def test_quality_report_compute_refuses_an_unknown_entity():
    with pytest.raises(ValidationFailed):
        services.quality_report_compute(entity="unicorns")
    assert QualityReport.objects.count() == 0


def test_report_on_empty_tables():
    report = services.quality_report_compute(entity="customers")

    assert report.rows == 0
    assert report.metrics["duplicates"]["groups"] == 0
    assert Category.objects.count() == 0


def test_in_process_mode_runs_automatic_cleaning_at_most_once_per_entity_until_the_mark_expires(
    django_capture_on_commit_callbacks,
):
    # given in-process tasks (the embedded demo and the tests: no broker), a customer to clean
    CustomerFactory(email="  Someone@Example.COM ")

    # when two ingest batches in a row ask for a cleaning run
    for _batch in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.cleaning_schedule(entities=["customers"], trigger="ingest")

    # then only the first ran (inside its request); the second found the mark still set
    run = CleaningRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert cache.get(PENDING_KEY.format(entity="customers")) == 1


def test_a_manual_run_in_process_clears_the_marks(django_capture_on_commit_callbacks):
    cache.set(PENDING_KEY.format(entity="customers"), 1)

    with django_capture_on_commit_callbacks(execute=True):
        services.cleaning_start(entities=["customers"], trigger="manual")

    assert cache.get(PENDING_KEY.format(entity="customers")) is None

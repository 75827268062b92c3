"""The Quality page: cards per entity, empty states, the run button, merge and split back,
and what each role may do."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.customers.models import Customer, CustomerMerge
from apps.customers.tests.factories import CustomerFactory
from apps.quality import services
from apps.quality.models import CleaningRun

pytestmark = pytest.mark.django_db


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_empty_database_says_what_to_do():
    response = signed_in("analyst").get("/data/quality/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "No data to check yet" in page
    assert "python manage.py demo_data" in page
    assert 'data-testid="run-cleaning"' not in page  # analysts may not start runs


def test_data_without_a_report_offers_a_run_to_those_who_may():
    CustomerFactory()

    page = signed_in("marketer").get("/data/quality/").content.decode()

    assert "No quality report yet" in page
    assert 'data-testid="run-cleaning"' in page


def test_cards_show_completeness_chart_data_invalid_values_and_runs():
    CustomerFactory(external_id="c-1", email="not-an-email", phone="")
    CustomerFactory(external_id="c-2", email="ada@example.com", phone="+4930123456")
    run = services.cleaning_run(entities=["customers", "events"])

    response = signed_in("analyst").get("/data/quality/")

    page = response.content.decode()
    assert 'data-testid="quality-card-customers"' in page
    assert 'data-testid="quality-card-events"' in page
    chart = response.context["cards"][0]["chart"]
    completeness = dict(zip(chart["labels"], chart["values"], strict=True))
    assert (completeness["email"], completeness["phone"]) == (100.0, 50.0)
    assert json.dumps(chart["labels"])[:20] in page  # the json_script data is on the page
    assert "not an email address" in page
    assert "c-1" in page
    assert f'data-testid="run-{run.pk}"' in page
    assert "No events received yet" in page


def test_run_button_starts_a_run_for_marketers_only(django_capture_on_commit_callbacks):
    CustomerFactory(email=" ADA@example.com")

    refused = signed_in("analyst").post("/data/quality/runs/start")
    with django_capture_on_commit_callbacks(execute=True):
        started = signed_in("marketer").post("/data/quality/runs/start", follow=True)

    assert refused.status_code == 403
    assert started.status_code == 200
    run = CleaningRun.objects.get()
    assert (run.status, run.trigger) == ("succeeded", "manual")
    assert f"Cleaning run {run.pk} started" in started.content.decode()


def test_possible_duplicates_merge_into_the_chosen_profile_and_split_back():
    CustomerFactory(external_id="k", phone="+4930999", first_name="Kim")
    CustomerFactory(external_id="l", phone="+4930999", first_name="Lee")
    services.cleaning_run(entities=["customers"])
    marketer = signed_in("marketer")
    assert 'data-testid="duplicates-table"' in marketer.get("/data/quality/").content.decode()

    merged = marketer.post(
        "/data/quality/duplicates/merge", {"survivor": "l", "members": ["k", "l"]}, follow=True
    )

    page = merged.content.decode()
    assert "Merged k into l" in page
    assert 'data-testid="no-duplicates"' in page
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["l"]
    merge = CustomerMerge.objects.get()
    assert (merge.reason, merge.survivor_external_id) == ("ui", "l")

    split = marketer.post(f"/data/quality/merges/{merge.pk}/split", follow=True)

    assert "k is a customer of its own again" in split.content.decode()
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["k", "l"]


def test_analysts_may_not_merge_and_a_bad_merge_says_why():
    CustomerFactory(external_id="k")

    refused = signed_in("analyst").post(
        "/data/quality/duplicates/merge", {"survivor": "k", "members": ["k", "x"]}
    )
    failed = signed_in("marketer").post(
        "/data/quality/duplicates/merge", {"survivor": "k", "members": ["k", "ghost"]}, follow=True
    )

    assert refused.status_code == 403
    assert "Not merged: merged_external_id: customer &#x27;ghost&#x27; does not exist" in (
        failed.content.decode()
    )
    assert CustomerMerge.objects.count() == 0


def test_runs_partial_renders_alone():
    services.cleaning_run(entities=["orders"])

    response = signed_in("analyst").get("/data/quality/runs/table")

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="quality-runs"')


def test_users_without_a_role_are_refused():
    client = Client()
    client.force_login(UserFactory())

    assert client.get("/data/quality/").status_code == 403

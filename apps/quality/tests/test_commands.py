"""Commands: clean_data, quality_report and identity, with --json and clear failures."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.customers.models import Customer, CustomerMerge
from apps.customers.tests.factories import CustomerFactory
from apps.quality.models import CleaningRun, QualityReport

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_clean_data_json_prints_one_document_with_every_change():
    customer = CustomerFactory(email=" ADA@Example.com")

    document = json.loads(run("clean_data", "--entity", "customers", "--json"))

    assert document["status"] == "succeeded"
    assert document["entities"] == ["customers"]
    assert document["totals"]["customers"]["rows_changed"] == 1
    assert document["changes"][0]["rule"] == "email_normalise"
    assert document["changes"][0]["examples"] == [
        {"id": customer.external_id, "before": " ADA@Example.com", "after": "ada@example.com"}
    ]
    assert CleaningRun.objects.get().requested_label == "cli"


def test_clean_data_text_and_no_merge():
    CustomerFactory(email="ada@example.com", first_name="Ada")
    CustomerFactory(email="ADA@example.com", first_name="Ada")

    text = run("clean_data", "--entity", "customers", "--no-merge")

    assert "succeeded" in text
    assert "duplicate_normalised_key" in text
    assert Customer.objects.count() == 2


def test_clean_data_with_a_bad_entity_fails_in_one_line_and_runs_nothing():
    with pytest.raises(CommandError) as error:
        run("clean_data", "--entity", "customers,unicorns")

    assert str(error.value) == (
        "entities: unknown entity 'unicorns'; known: customers, products, orders, events, "
        "reviews, social"
    )
    assert CleaningRun.objects.count() == 0


def test_quality_report_computes_when_missing_and_reads_the_latest_otherwise():
    CustomerFactory(email="")

    first = json.loads(run("quality_report", "--entity", "customers", "--json"))
    second = json.loads(run("quality_report", "--entity", "customers", "--json"))
    text = run("quality_report", "--entity", "customers", "--refresh")

    assert first == second
    assert first["reports"]["customers"]["rows"] == 1
    assert "email                  0.0 % filled" in text
    assert QualityReport.objects.count() == 2


def test_identity_candidates_merge_and_split():
    CustomerFactory(external_id="k", phone="+4930999", first_name="Kim")
    CustomerFactory(external_id="l", phone="+4930999", first_name="Lee")
    run("clean_data", "--entity", "customers")

    candidates = json.loads(run("identity", "candidates", "--json"))
    merged = json.loads(run("identity", "merge", "--survivor", "k", "--merged", "l", "--json"))
    split_text = run("identity", "split", "--merge-id", str(merged["merges"][0]["id"]))

    assert [group["external_ids"] for group in candidates["groups"]] == [["k", "l"]]
    assert merged["merges"][0]["merged_external_id"] == "l"
    assert "l is its own customer again" in split_text
    assert CustomerMerge.objects.get().status == "split"


def test_identity_merge_of_an_unknown_customer_fails_clearly():
    CustomerFactory(external_id="k")

    with pytest.raises(CommandError) as error:
        run("identity", "merge", "--survivor", "k", "--merged", "ghost")

    assert str(error.value) == "merged_external_id: customer 'ghost' does not exist"
    assert CustomerMerge.objects.count() == 0

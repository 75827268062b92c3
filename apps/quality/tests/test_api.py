"""Data quality API: reports, runs, duplicates, merges and splits, with key scopes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory
from apps.customers.models import Customer, CustomerMerge
from apps.customers.tests.factories import CustomerFactory
from apps.quality import services
from apps.quality.models import CleaningRun

pytestmark = pytest.mark.django_db


def client(*scopes: str) -> APIClient:
    api_key = ApiKeyFactory(scopes=list(scopes))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}")
    return api


def test_reports_list_the_latest_report_of_each_entity():
    CustomerFactory(email="ADA@example.com")
    services.cleaning_run(entities=["customers", "orders"])
    services.quality_report_compute(entity="customers")

    response = client("events:read").get("/api/v1/quality/reports")

    assert response.status_code == 200
    body = response.json()
    assert [report["entity"] for report in body] == ["customers", "orders"]
    customers = body[0]
    assert customers["rows"] == 1
    assert customers["run_id"] is None  # the newest, computed on its own
    assert {"completeness", "duplicates", "invalid", "imputed"} <= set(customers["metrics"])


def test_report_of_one_entity_and_clear_404s():
    services.cleaning_run(entities=["events"])
    api = client("events:read")

    found = api.get("/api/v1/quality/reports/events")
    unknown = api.get("/api/v1/quality/reports/unicorns")
    missing = api.get("/api/v1/quality/reports/customers")

    assert found.status_code == 200
    assert found.json()["metrics"]["freshness"] == []
    assert (unknown.status_code, unknown.json()["code"]) == (404, "entity_not_found")
    assert (missing.status_code, missing.json()["code"]) == (404, "report_not_found")
    assert "POST /api/v1/quality/runs" in missing.json()["detail"]


def test_post_runs_starts_a_run_that_records_its_changes(django_capture_on_commit_callbacks):
    customer = CustomerFactory(email=" ADA@example.com ")
    api = client("quality:write", "events:read")

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/quality/runs", {"entities": ["customers"]}, format="json")
    run_id = created.json()["id"]
    detail = api.get(f"/api/v1/quality/runs/{run_id}")

    assert created.status_code == 202
    assert created.json()["status"] == "queued"
    body = detail.json()
    assert (body["status"], body["entities"], body["trigger"]) == (
        "succeeded",
        ["customers"],
        "manual",
    )
    assert body["changes"][0] == {
        "entity": "customers",
        "rule": "email_normalise",
        "action": "updated",
        "field": "email",
        "rows_affected": 1,
        "examples": [
            {"id": customer.external_id, "before": " ADA@example.com ", "after": "ada@example.com"}
        ],
        "parameters": {},
    }
    assert CleaningRun.objects.get().requested_label.startswith("api: ")


def test_post_runs_with_an_unknown_entity_names_it_and_creates_nothing():
    response = client("quality:write").post(
        "/api/v1/quality/runs", {"entities": ["customers", "unicorns"]}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == 'entities.1: "unicorns" is not a valid choice.'
    assert CleaningRun.objects.count() == 0


def test_runs_list_is_paginated_and_filterable():
    services.cleaning_run(entities=["customers"])
    services.cleaning_run(entities=["orders"])

    response = client("events:read").get("/api/v1/quality/runs", {"entity": "orders"})

    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["entities"] == ["orders"]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "/api/v1/quality/reports", "customers:read"),
        ("get", "/api/v1/quality/runs", "customers:read"),
        ("post", "/api/v1/quality/runs", "events:read"),
        ("get", "/api/v1/quality/duplicates", "events:read"),
        ("post", "/api/v1/quality/merges", "customers:read"),
    ],
)
def test_endpoints_need_their_scope(method, path, scope):
    response = getattr(client(scope), method)(path, {}, format="json")

    assert response.status_code == 403
    assert CleaningRun.objects.count() == 0


def test_duplicates_merge_and_split_through_the_api():
    CustomerFactory(external_id="k", phone="+4930999", first_name="Kim")
    CustomerFactory(external_id="l", phone="+4930999", first_name="Lee")
    services.cleaning_run(entities=["customers"])
    api = client("customers:read", "customers:write")

    duplicates = api.get("/api/v1/quality/duplicates").json()
    merged = api.post(
        "/api/v1/quality/merges",
        {"survivor_external_id": "k", "merged_external_ids": ["l"]},
        format="json",
    )
    merge_id = merged.json()[0]["id"]
    after_merge = api.get("/api/v1/quality/duplicates").json()
    split = api.post(f"/api/v1/quality/merges/{merge_id}/split")
    again = api.post(f"/api/v1/quality/merges/{merge_id}/split")

    assert [group["external_ids"] for group in duplicates] == [["k", "l"]]
    assert merged.status_code == 201
    assert merged.json()[0]["merged_external_id"] == "l"
    assert after_merge == []
    assert (split.status_code, split.json()["status"]) == (200, "split")
    assert (again.status_code, again.json()["code"]) == (409, "merge_already_split")
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["k", "l"]


def test_merging_an_unknown_customer_is_a_404_naming_the_field_and_nothing_merges():
    CustomerFactory(external_id="k")
    CustomerFactory(external_id="l")

    response = client("customers:write").post(
        "/api/v1/quality/merges",
        {"survivor_external_id": "k", "merged_external_ids": ["l", "ghost"]},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["field"] == "merged_external_id"
    assert "'ghost'" in response.json()["detail"]
    assert Customer.objects.count() == 2
    assert CustomerMerge.objects.count() == 0

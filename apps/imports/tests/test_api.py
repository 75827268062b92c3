"""Imports API: upload (202), job status, error file download, resume, list; keys and scopes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, all_scopes_except, bearer
from apps.customers.models import Customer
from apps.imports.choices import ImportStatus
from apps.imports.models import ImportJob
from apps.imports.tests.conftest import upload
from apps.imports.tests.factories import ImportJobFactory, ImportRowErrorFactory

# The API is mounted by smartmkt/api_urls.py; this URLconf adds it until it is.
pytestmark = pytest.mark.django_db

CUSTOMERS = "external_id,email\nc-1,ann@example.com\nc-2,not-an-email\nc-3,cy@example.com\n"


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=list(scopes))))
    return client


def post_file(client: APIClient, content: str, name: str = "customers.csv", **fields: str):
    return client.post(
        "/api/v1/imports",
        {"kind": "customers", "file": upload(content, name), **fields},
        format="multipart",
    )


def test_upload_is_accepted_with_202_and_runs_in_the_background(
    django_capture_on_commit_callbacks,
):
    client = client_with("imports:write", "imports:read")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, CUSTOMERS)

    assert response.status_code == 202
    body = response.json()
    job = ImportJob.objects.get()
    assert body["id"] == job.pk
    assert body["kind"] == "customers"
    assert body["file_name"] == "customers.csv"
    assert body["format"] == "csv"
    assert body["columns"] == ["external_id", "email"]
    assert body["mapping"] == {"external_id": "external_id", "email": "email"}
    assert body["trigger"] == "api"
    # and, the task having run (eager), the job reports its outcome
    status = client.get(f"/api/v1/imports/{job.pk}").json()
    assert status["status"] == ImportStatus.SUCCEEDED
    assert status["progress"] == 100
    assert (status["rows_total"], status["rows_created"], status["rows_failed"]) == (3, 2, 1)
    assert status["errors_url"] == f"http://testserver/api/v1/imports/{job.pk}/errors"
    assert job.created_by is None
    assert job.created_by_label.startswith("api-key:partner")
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["c-1", "c-3"]


def test_upload_without_running_yet_reports_a_queued_job(django_capture_on_commit_callbacks):
    client = client_with("imports:write")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_file(client, CUSTOMERS)

    assert response.status_code == 202
    assert len(callbacks) == 1  # the task is sent once the job row is committed
    assert response.json()["status"] == ImportStatus.QUEUED
    assert response.json()["progress"] == 0
    assert Customer.objects.count() == 0


def test_error_file_download_lists_row_number_column_reason_and_values(
    django_capture_on_commit_callbacks,
):
    client = client_with("imports:write", "imports:read")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = post_file(client, CUSTOMERS).json()["id"]

    response = client.get(f"/api/v1/imports/{job_id}/errors", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (f'attachment; filename="import-{job_id}-errors.csv"')
    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["row_number", "column", "field", "reason", "external_id", "email"],
        ["3", "email", "email", "email: Enter a valid email address.", "c-2", "not-an-email"],
    ]


def test_mapping_json_overrides_the_suggestion():
    client = client_with("imports:write")

    response = post_file(
        client,
        "Kunde,Mail,Notiz\nk-1,k1@example.com,hi\n",
        mapping=json.dumps({"Kunde": "external_id", "Mail": "email", "Notiz": "-"}),
    )

    assert response.status_code == 202
    assert response.json()["mapping"] == {"Kunde": "external_id", "Mail": "email", "Notiz": ""}


def test_missing_required_column_is_a_400_naming_it_and_nothing_is_stored():
    client = client_with("imports:write")

    response = post_file(client, "email\nann@example.com\n")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == "external_id"
    assert body["detail"].startswith("missing required column: external_id (")
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "detail"),
    [
        ("\n\n", "blank.csv", "file: the file is empty"),
        (
            '[{"external_id": "a"},',
            "broken.json",
            "file: not valid JSON at line 1, column 23: a record is missing after ','",
        ),
        ("[1, 2]", "numbers.json", "file: no JSON object with keys among the first records"),
        ("a,a\n1,2\n", "dupes.csv", "file: columns 1 and 2 are both named 'a'; rename one"),
    ],
)
def test_an_unreadable_file_is_a_400_naming_the_problem(content, name, detail):
    client = client_with("imports:write")

    response = post_file(client, content, name)

    assert response.status_code == 400
    assert response.json()["field"] == "file"
    assert response.json()["detail"].startswith(detail)
    assert ImportJob.objects.count() == 0


def test_bad_mapping_and_kind_are_400s():
    client = client_with("imports:write")

    unknown_field = post_file(client, CUSTOMERS, mapping=json.dumps({"email": "mail"}))
    not_json = post_file(client, CUSTOMERS, mapping="{nope")
    unknown_kind = client.post(
        "/api/v1/imports", {"kind": "planets", "file": upload(CUSTOMERS)}, format="multipart"
    )

    assert unknown_field.status_code == 400
    assert unknown_field.json()["detail"].startswith("mapping: 'mail' is not a field of customers")
    assert not_json.status_code == 400
    assert not_json.json()["detail"].startswith("mapping:")
    assert unknown_kind.status_code == 400
    assert unknown_kind.json()["detail"] == 'kind: "planets" is not a valid choice.'
    assert ImportJob.objects.count() == 0


def test_list_filters_by_kind_and_status():
    ImportJobFactory(kind="customers")
    wanted = ImportJobFactory(kind="orders", status=ImportStatus.FAILED)
    client = client_with("imports:read")

    response = client.get("/api/v1/imports", {"kind": "orders", "status": "failed"})

    assert response.status_code == 200
    assert [job["id"] for job in response.json()["results"]] == [wanted.pk]


def test_resume_of_a_job_that_did_not_fail_is_409():
    job = ImportJobFactory(status=ImportStatus.SUCCEEDED)
    client = client_with("imports:write")

    response = client.post(f"/api/v1/imports/{job.pk}/resume")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"import {job.pk} is succeeded; only a failed or stalled import can be resumed",
        "code": "import_not_failed",
    }


def test_unknown_import_is_404():
    response = client_with("imports:read").get("/api/v1/imports/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "import 999999 does not exist", "code": "import_not_found"}


def test_without_a_key_every_operation_is_401():
    job = ImportRowErrorFactory().job
    client = APIClient()

    statuses = [
        client.get("/api/v1/imports").status_code,
        client.get(f"/api/v1/imports/{job.pk}").status_code,
        client.get(f"/api/v1/imports/{job.pk}/errors").status_code,
        post_file(client, CUSTOMERS).status_code,
    ]

    assert statuses == [401, 401, 401, 401]
    assert ImportJob.objects.count() == 1


def test_a_key_without_the_scope_is_403():
    job = ImportJobFactory()
    reader = client_with(*all_scopes_except("imports:read"))
    writer = client_with(*all_scopes_except("imports:write"))

    read = reader.get(f"/api/v1/imports/{job.pk}/errors")
    write = post_file(writer, CUSTOMERS)

    assert read.status_code == 403
    assert read.json() == {
        "detail": "This operation needs the scope imports:read",
        "code": "permission_denied",
    }
    assert write.status_code == 403
    assert write.json()["detail"] == "This operation needs the scope imports:write"
    assert ImportJob.objects.count() == 1

"""Data > Imports pages: upload, the column-mapping preview, start, the job page and errors;
who may do what; and the admin's upload that starts a job through the service."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.customers.models import Customer
from apps.imports.choices import ImportStatus
from apps.imports.models import ImportJob
from apps.imports.tests.conftest import upload
from apps.imports.tests.factories import ImportJobFactory, ImportRowErrorFactory

pytestmark = pytest.mark.django_db

PEOPLE = (
    "Customer ID,Email Address,Tier\n"
    "c-1,ann@example.com,gold\n"
    "c-2,not-an-email,silver\n"
    "c-3,cy@example.com,\n"
)


def signed_in(role: str = "marketer") -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def test_anonymous_users_are_sent_to_sign_in():
    response = Client().get("/data/imports/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_list_shows_jobs_and_the_upload_form_with_the_tabs():
    job = ImportJobFactory(original_filename="spring-orders.csv", kind="orders")

    response = signed_in().get("/data/imports/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="data-tabs"' in html
    assert 'href="/data/imports/" aria-current="page"' in html
    assert "spring-orders.csv" in html
    assert f'href="/data/imports/{job.pk}/"' in html
    assert 'data-testid="import-upload-form"' in html
    assert "hx-get" not in html  # nothing is running: no polling


def test_an_empty_list_says_what_to_do():
    html = signed_in().get("/data/imports/").content.decode()

    assert "No imports yet" in html
    assert "python manage.py import_data --kind orders --file orders.csv" in html


def test_the_list_polls_while_an_import_runs():
    ImportJobFactory(status=ImportStatus.RUNNING)

    html = signed_in().get("/data/imports/").content.decode()

    assert 'hx-get="/data/imports/jobs/" hx-trigger="every 2s"' in html


def test_upload_then_mapping_preview_then_start_imports_the_file(
    django_capture_on_commit_callbacks,
):
    client = signed_in()

    # when a marketer uploads a file
    response = client.post(
        "/data/imports/upload/", {"kind": "customers", "file": upload(PEOPLE, "people.csv")}
    )

    # then a draft waits on the mapping page, which suggests a field per column
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DRAFT
    assert response.status_code == 302
    assert response["Location"] == f"/data/imports/{job.pk}/mapping/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert [column["name"] for column in page.context["columns"]] == [
        "Customer ID",
        "Email Address",
        "Tier",
    ]
    assert [column["target"] for column in page.context["columns"]] == [
        "external_id",
        "email",
        "+",
    ]
    assert [row.row_number for row in page.context["preview"].rows] == [2, 3, 4]
    assert '<option value="external_id" selected>external_id *</option>' in html
    assert "keep in attributes" in html
    assert "not-an-email" in html

    # when the mapping is confirmed with Tier left out
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"/data/imports/{job.pk}/mapping/",
            {"target-0": "external_id", "target-1": "email", "target-2": ""},
        )

    # then the job ran, and its page shows the counts and the error file
    assert started.status_code == 302
    assert started["Location"] == f"/data/imports/{job.pk}/"
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED
    assert job.mapping == {"Customer ID": "external_id", "Email Address": "email", "Tier": ""}
    assert Customer.objects.get(external_id="c-1").attributes == {}
    detail = client.get(started["Location"]).content.decode()
    assert 'data-testid="import-created">2<' in detail
    assert 'data-testid="import-failed">1<' in detail
    assert f'href="/data/imports/{job.pk}/errors.csv"' in detail
    assert "Email Address (email): Enter a valid email address." in detail
    errors = client.get(f"/data/imports/{job.pk}/errors.csv")
    assert errors["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(errors.streaming_content).decode().splitlines() == [
        "row_number,column,field,reason,Customer ID,Email Address,Tier",
        "3,Email Address,email,Email Address (email): Enter a valid email address.,c-2,"
        "not-an-email,silver",
    ]


def test_a_mapping_without_a_required_field_is_shown_again_with_the_reason():
    client = signed_in()
    client.post("/data/imports/upload/", {"kind": "customers", "file": upload(PEOPLE)})
    job = ImportJob.objects.get()

    response = client.post(
        f"/data/imports/{job.pk}/mapping/", {"target-0": "", "target-1": "email", "target-2": ""}
    )

    assert response.status_code == 400
    assert "missing required column: external_id" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT
    assert Customer.objects.count() == 0


def test_an_unreadable_upload_is_refused_on_the_form():
    response = signed_in().post(
        "/data/imports/upload/", {"kind": "orders", "file": upload(b"a,a\n1,2\n", "bad.csv")}
    )

    assert response.status_code == 400
    assert "file: columns 1 and 2 are both named" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_discarding_a_draft_removes_it():
    client = signed_in()
    client.post("/data/imports/upload/", {"kind": "customers", "file": upload(PEOPLE)})
    job = ImportJob.objects.get()

    response = client.post(f"/data/imports/{job.pk}/discard/")

    assert response.status_code == 302
    assert ImportJob.objects.count() == 0


def test_the_status_partial_polls_while_running_and_stops_when_done():
    running = ImportJobFactory(status=ImportStatus.RUNNING, rows_total=10, rows_processed=4)
    done = ImportJobFactory(status=ImportStatus.SUCCEEDED, rows_failed=0)
    client = signed_in("analyst")

    polling = client.get(f"/data/imports/{running.pk}/status/").content.decode()
    finished = client.get(f"/data/imports/{done.pk}/status/", HTTP_HX_REQUEST="true")

    assert f'hx-get="/data/imports/{running.pk}/status/" hx-trigger="every 1s"' in polling
    assert "4 of 10 rows" in polling
    assert 'aria-valuenow="40"' in polling
    assert "hx-trigger" not in finished.content.decode()
    assert "HX-Refresh" not in finished


def test_an_analyst_sees_imports_but_cannot_upload():
    job = ImportRowErrorFactory().job
    client = signed_in("analyst")

    listing = client.get("/data/imports/").content.decode()
    detail = client.get(f"/data/imports/{job.pk}/")
    upload_attempt = client.post(
        "/data/imports/upload/", {"kind": "customers", "file": upload(PEOPLE)}
    )

    assert "can see imports but not upload" in listing
    assert 'data-testid="import-upload-form"' not in listing
    assert detail.status_code == 200
    assert upload_attempt.status_code == 403
    assert ImportJob.objects.count() == 1


def test_a_user_without_a_role_is_refused():
    client = Client()
    client.force_login(UserFactory())

    assert client.get("/data/imports/").status_code == 403


def test_admin_lists_jobs_with_progress_and_uploads_a_file_that_starts_a_job(
    django_capture_on_commit_callbacks,
):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    ImportRowErrorFactory(job=ImportJobFactory(original_filename="old.csv"))

    listing = client.get("/admin/imports/importjob/")
    add = client.get("/admin/imports/importjob/add/")
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = client.post(
            "/admin/imports/importjob/upload/",
            {
                "kind": "customers",
                "file": upload(PEOPLE, "admin.csv"),
                "encoding": "utf-8",
                "delimiter": "",
                "mapping": '{"Tier": "-"}',
            },
        )

    assert listing.status_code == 200
    assert "old.csv" in listing.content.decode()
    assert '<progress max="100" value="100"></progress> 2 / 2 rows' in listing.content.decode()
    assert add.status_code == 302
    assert add["Location"] == "/admin/imports/importjob/upload/"
    job = ImportJob.objects.get(original_filename="admin.csv")
    assert uploaded.status_code == 302
    assert uploaded["Location"] == f"/admin/imports/importjob/{job.pk}/change/"
    assert (job.status, job.trigger, job.rows_created, job.rows_failed) == (
        ImportStatus.SUCCEEDED,
        "admin",
        2,
        1,
    )
    assert job.mapping["Tier"] == ""
    change = client.get(f"/admin/imports/importjob/{job.pk}/change/").content.decode()
    assert "Download the 1 failed rows (CSV)" in change
    assert "Enter a valid email address." in change


def test_admin_upload_refuses_a_file_missing_a_required_column():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/imports/importjob/upload/",
        {"kind": "orders", "file": upload(PEOPLE), "encoding": "utf-8", "delimiter": ""},
    )

    assert response.status_code == 200
    assert (
        "missing required columns: order_id, placed_at, sku, unit_price. Map a column of the "
        "file to each." in response.content.decode()
    )
    assert ImportJob.objects.count() == 0


def test_admin_delete_goes_through_the_service_and_removes_the_files(
    django_capture_on_commit_callbacks,
):
    from django.core.files.storage import default_storage

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    job = ImportJobFactory()
    running = ImportJobFactory(status=ImportStatus.RUNNING)
    name = job.file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/imports/importjob/{job.pk}/delete/", {"post": "yes"})
    refused = client.get(f"/admin/imports/importjob/{running.pk}/delete/")

    assert response.status_code == 302
    assert not ImportJob.objects.filter(pk=job.pk).exists()
    assert not default_storage.exists(name)
    assert refused.status_code == 403
    assert ImportJob.objects.filter(pk=running.pk).exists()

"""Data > Imports in a real browser: upload a CSV, check the column mapping, start, watch the
progress bar (htmx polling) finish, and find the failed rows and the error file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from apps.customers.models import Customer
from apps.imports.choices import ImportStatus
from apps.imports.models import ImportJob
from apps.imports.services import import_job_run, writers
from tests.browser.shop_data import PASSWORD, create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = "Customer ID,Email Address,First Name,Tier,Notes\n" + "".join(
    f"c-{n},{'broken-email' if n in (3, 7) else f'c{n}@example.com'},Name {n},gold,note {n}\n"
    for n in range(1, 41)
)


@pytest.fixture
def no_worker(settings, tmp_path: Path) -> Iterator[None]:
    """Tasks go to the (private) Redis queue instead of running in the web request, so the
    page sees the import queued, then running, then done while this test runs it."""
    from smartmkt.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = was_eager
        client.flushdb()


def test_upload_map_start_and_watch_the_import_finish_with_its_error_file(
    web, no_worker, tmp_path, monkeypatch
):
    # given a marketer and a CSV of 40 customers, two of them with a broken email
    create_user(username="mark", role="marketer")
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    web.sign_in("mark", PASSWORD)

    # when they upload it on Data > Imports
    web.goto("/data/imports/")
    assert web.page.inner_text("[data-testid=empty-state] h2") == "No imports yet"
    web.screenshot("imports-empty")
    web.page.select_option("#id_kind", "customers")
    web.page.set_input_files("#id_file", str(path))
    web.page.click("[data-testid=import-upload-submit]")
    web.page.wait_for_load_state("networkidle")

    # then the mapping page shows the columns, their first values and a suggested field each
    job = ImportJob.objects.get()
    assert web.page.url == f"{web.base_url}/data/imports/{job.pk}/mapping/"
    selects = web.page.locator("[data-testid=mapping-table] select")
    assert [selects.nth(index).input_value() for index in range(5)] == [
        "external_id",
        "email",
        "first_name",
        "+",
        "+",
    ]
    assert web.page.locator("[data-testid=preview-table] tbody tr").count() == 10
    assert "broken-email" in web.page.inner_text("[data-testid=preview-table]")
    web.screenshot("imports-mapping")

    # when Notes is left out and the import started
    web.page.select_option("select[data-column=Notes]", "")
    web.page.click("[data-testid=mapping-start]")
    web.page.wait_for_load_state("networkidle")

    # then the job page polls a queued import
    assert web.page.url == f"{web.base_url}/data/imports/{job.pk}/"
    assert web.page.get_attribute("[data-testid=import-status]", "data-status") == "queued"
    assert web.page.get_attribute("[data-testid=import-status]", "hx-trigger") == "every 1s"
    web.screenshot("imports-queued")

    # when a worker runs it (here), in chunks of 10 rows
    monkeypatch.setattr(writers.CustomerWriter, "chunk_size", 10)
    assert import_job_run(job_id=job.pk).status == ImportStatus.SUCCEEDED

    # then the polled card turns to done, and the page reloads with the failed rows
    web.page.wait_for_selector("[data-testid=import-status][data-status=succeeded]", timeout=15000)
    web.page.wait_for_selector("[data-testid=import-failed-rows] tbody tr", timeout=15000)
    assert web.page.inner_text("[data-testid=import-progress-rows]").strip() == "40 of 40 rows"
    assert web.page.inner_text("[data-testid=import-created]") == "38"
    assert web.page.inner_text("[data-testid=import-failed]") == "2"
    rows = web.page.locator("[data-testid=import-failed-rows] tbody tr").all_inner_texts()
    assert [row.split("\t")[0].strip() for row in rows] == ["4", "8"]
    assert "Enter a valid email address." in rows[0]
    web.screenshot("imports-done")

    # and the error file downloads with the row numbers, reasons and original values
    with web.page.expect_download() as download_info:
        web.page.click("[data-testid=import-error-file]")
    download = download_info.value
    assert download.suggested_filename == f"import-{job.pk}-errors.csv"
    lines = Path(download.path()).read_text().splitlines()
    assert (
        lines[0] == "row_number,column,field,reason,Customer ID,Email Address,First Name,Tier,Notes"
    )
    assert lines[1].startswith("4,Email Address,email,Email Address (email): Enter a valid email")
    assert lines[1].endswith(",c-3,broken-email,Name 3,gold,note 3")
    assert Customer.objects.count() == 38
    assert Customer.objects.get(external_id="c-1").attributes == {"Tier": "gold"}

    # and the list shows the finished import
    web.goto("/data/imports/")
    row = web.page.inner_text(f"[data-testid=import-row-{job.pk}]")
    assert "people.csv" in row and "Done, 2 failed" in row
    web.screenshot("imports-list")
    assert web.console_errors == []

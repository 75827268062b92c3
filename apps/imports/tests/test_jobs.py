"""The life of an import job: drafts, start, crash and resume, a second attempt taking over,
a broken file, and the task's idempotency."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed
from apps.customers.models import Customer
from apps.imports.choices import ImportStatus, ImportTrigger
from apps.imports.models import ImportJob, ImportRowError
from apps.imports.services import (
    import_job_create,
    import_job_delete,
    import_job_discard,
    import_job_resume,
    import_job_run,
    import_job_start,
    writers,
)
from apps.imports.tasks import run_import_task
from apps.imports.tests.conftest import upload
from apps.quality.selectors import cleaning_run_list

pytestmark = pytest.mark.django_db

TEN_CUSTOMERS = "id,mail\n" + "".join(f"c-{n},c{n}@example.com\n" for n in range(10))


def draft(content: str = TEN_CUSTOMERS, name: str = "people.csv", kind: str = "customers"):
    return import_job_create(
        kind=kind,
        file=upload(content, name),
        filename=name,
        trigger=ImportTrigger.UI,
        start=False,
    )


def test_a_draft_keeps_the_file_and_the_suggested_mapping_until_started():
    job = draft()

    assert job.status == ImportStatus.DRAFT
    assert job.mapping == {"id": "external_id", "mail": "email"}
    assert job.columns == ["id", "mail"]
    assert default_storage.exists(job.file.name)
    assert job.file.name.startswith("imports/") and job.file.name.endswith("/people.csv")
    assert len(job.sha256) == 64
    assert import_job_run(job_id=job.pk).status == ImportStatus.DRAFT
    assert Customer.objects.count() == 0


def test_starting_a_draft_applies_the_mapping_and_runs_it(django_capture_on_commit_callbacks):
    job = draft()

    with django_capture_on_commit_callbacks(execute=True):
        started = import_job_start(job_id=job.pk, mapping={"mail": "-"})

    assert started.mapping == {"id": "external_id", "mail": ""}
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED
    assert Customer.objects.filter(email="").count() == 10


def test_starting_with_a_mapping_that_misses_a_required_field_is_refused():
    job = draft()

    with pytest.raises(ValidationFailed) as caught:
        import_job_start(job_id=job.pk, mapping={"id": "-"})

    assert caught.value.field == "external_id"
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_a_started_job_cannot_be_started_again_or_discarded(django_capture_on_commit_callbacks):
    job = draft()
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job_id=job.pk)

    with pytest.raises(Conflict):
        import_job_start(job_id=job.pk)
    with pytest.raises(Conflict):
        import_job_discard(job_id=job.pk)
    assert ImportJob.objects.filter(pk=job.pk).exists()


def test_discarding_a_draft_deletes_it_and_its_file(django_capture_on_commit_callbacks):
    job = draft()
    name = job.file.name

    with django_capture_on_commit_callbacks(execute=True):
        import_job_discard(job_id=job.pk)

    assert not ImportJob.objects.filter(pk=job.pk).exists()
    assert not default_storage.exists(name)


def test_the_task_of_a_finished_job_returns_without_importing_again(run_import):
    job = run_import("customers", TEN_CUSTOMERS)
    Customer.objects.all().delete()

    outcome = run_import_task.apply(args=[job.pk]).get()

    assert outcome == ImportStatus.SUCCEEDED
    assert Customer.objects.count() == 0
    job.refresh_from_db()
    assert job.attempts == 1


def test_the_task_of_a_missing_job_says_so():
    assert run_import_task.apply(args=[987654]).get() == "missing"


@pytest.mark.django_db(transaction=True)
def test_a_crash_midway_keeps_the_committed_chunks_and_a_rerun_resumes(monkeypatch):
    # given chunks of 3 rows, and a database connection that dies after the second chunk
    monkeypatch.setattr(writers.CustomerWriter, "chunk_size", 3)
    job = import_job_create(
        kind="customers",
        file=upload(TEN_CUSTOMERS),
        filename="people.csv",
        trigger=ImportTrigger.CLI,
        in_background=False,
    )

    def lose_the_database(current: ImportJob) -> None:
        if current.rows_processed == 6:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    # when the run crashes there
    with pytest.raises((OperationalError, InterfaceError)):
        import_job_run(job_id=job.pk, progress=lose_the_database)
    connection.close()

    # then the two committed chunks are stored and the job says exactly that
    job.refresh_from_db()
    assert (job.status, job.rows_processed, job.rows_created) == (ImportStatus.RUNNING, 6, 6)
    assert Customer.objects.count() == 6
    # and a re-delivered task resumes after them: every row stored exactly once
    resumed = import_job_run(job_id=job.pk)
    assert resumed.status == ImportStatus.SUCCEEDED
    assert (resumed.rows_processed, resumed.rows_created, resumed.attempts) == (10, 10, 2)
    assert Customer.objects.count() == 10


def test_a_second_attempt_takes_over_and_the_first_stops(monkeypatch):
    # given chunks of 4 rows, and a second delivery of the task arriving during the first run
    monkeypatch.setattr(writers.CustomerWriter, "chunk_size", 4)
    job = import_job_create(
        kind="customers",
        file=upload(TEN_CUSTOMERS),
        filename="people.csv",
        trigger=ImportTrigger.CLI,
        in_background=False,
    )
    second: list[ImportJob] = []

    def redeliver(current: ImportJob) -> None:
        if current.rows_processed == 4 and not second:
            second.append(import_job_run(job_id=job.pk))

    # when the first run goes on after the second finished
    first = import_job_run(job_id=job.pk, progress=redeliver)

    # then the second attempt did the rest, the first stopped, and no row was done twice
    assert second[0].status == ImportStatus.SUCCEEDED
    assert first.status == ImportStatus.SUCCEEDED
    assert (first.attempts, first.rows_processed, first.rows_created) == (2, 10, 10)
    assert Customer.objects.count() == 10


def test_a_json_array_broken_after_the_sampled_records_fails_the_job_and_stores_nothing(
    run_import,
):
    records = [{"external_id": f"j-{n}"} for n in range(300)]
    content = json.dumps(records)[:-1] + ', {"external_id": }]'

    job = run_import("customers", content, name="people.json")

    assert job.status == ImportStatus.FAILED
    assert job.error_message.startswith("not valid JSON at line 1, column ")
    assert job.error_message.endswith(": Expecting value")
    assert job.rows_processed == 0
    assert Customer.objects.count() == 0


def test_resuming_a_failed_job_goes_on_from_its_last_committed_row(
    run_import, django_capture_on_commit_callbacks
):
    job = run_import("customers", TEN_CUSTOMERS)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, rows_processed=7, rows_created=7
    )
    Customer.objects.filter(external_id__in=["c-7", "c-8", "c-9", "c-0"]).delete()

    with django_capture_on_commit_callbacks(execute=True):
        import_job_resume(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_processed, job.rows_created, job.attempts) == (
        ImportStatus.SUCCEEDED,
        10,
        10,
        2,
    )
    # rows 1-7 were not read again (c-0 stays deleted); rows 8-10 were
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == [
        "c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8", "c-9",
    ]  # fmt: skip


def test_resuming_is_refused_for_a_job_that_did_not_fail(run_import):
    job = run_import("customers", TEN_CUSTOMERS)

    with pytest.raises(Conflict) as caught:
        import_job_resume(job_id=job.pk)

    assert caught.value.code == "import_not_failed"


def test_failed_rows_are_kept_in_order_with_their_values(run_import):
    content = "external_id,email\n,a@example.com\nc-1,nope\nc-2,b@example.com\n"

    job = run_import("customers", content)

    assert list(
        ImportRowError.objects.filter(job=job).values_list("row_number", "column", "values")
    ) == [(2, "external_id", ["", "a@example.com"]), (3, "email", ["c-1", "nope"])]
    assert job.error_file.name == f"imports/errors/import-{job.pk}-errors.csv"


def test_a_finished_import_asks_the_cleaning_pipeline_to_clean_what_it_changed(
    django_capture_on_commit_callbacks,
):
    # given no cleaning pending (the pipeline debounces through the cache)
    cache.clear()
    job = draft(
        "order_id,placed_at,customer_id,sku,unit_price\nO-1,2024-01-01,new-c,S,1\n",
        kind="orders",
    )

    # when the import runs and commits
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job_id=job.pk)

    # then one cleaning run was requested for orders and the bare customer it created
    runs = list(cleaning_run_list(trigger="import"))
    assert [(run.entities, run.requested_label) for run in runs] == [
        (["customers", "orders"], "after import")
    ]


def test_an_import_that_changed_nothing_asks_for_no_cleaning(
    run_import, django_capture_on_commit_callbacks
):
    run_import("customers", TEN_CUSTOMERS)
    cache.clear()
    job = draft()

    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job_id=job.pk)

    job.refresh_from_db()
    assert job.rows_skipped == 10
    assert list(cleaning_run_list(trigger="import")) == []


def test_deleting_an_ended_job_deletes_its_files_but_not_what_it_imported(
    run_import, django_capture_on_commit_callbacks
):
    job = run_import("customers", "external_id,email\nc-1,a@example.com\nc-2,nope\n")
    names = [job.file.name, job.error_file.name]
    assert all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True):
        import_job_delete(job_id=job.pk)

    assert not ImportJob.objects.filter(pk=job.pk).exists()
    assert ImportRowError.objects.count() == 0
    assert not any(default_storage.exists(name) for name in names)
    assert Customer.objects.count() == 1


def test_a_running_job_cannot_be_deleted():
    job = draft()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)

    with pytest.raises(Conflict) as caught:
        import_job_delete(job_id=job.pk)

    assert caught.value.code == "import_active"
    assert default_storage.exists(job.file.name)


def test_a_stalled_running_job_can_be_resumed_but_a_live_one_cannot(
    run_import, django_capture_on_commit_callbacks
):
    job = run_import("customers", TEN_CUSTOMERS)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, rows_processed=5)

    with pytest.raises(Conflict):
        import_job_resume(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        import_job_resume(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_processed, job.attempts) == (ImportStatus.SUCCEEDED, 10, 2)

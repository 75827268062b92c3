"""Admin: cleaning runs and reports are read-only, runs start from the admin, customers merge
through an intermediate page and merges split back."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.customers.models import Customer, CustomerAlias, CustomerMerge
from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.quality import services
from apps.quality.models import CleaningRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_run_and_report_pages_render(admin_client):
    run = services.cleaning_run(entities=["customers"])

    pages = [
        "/admin/quality/cleaningrun/",
        f"/admin/quality/cleaningrun/{run.pk}/change/",
        "/admin/quality/qualityreport/",
        f"/admin/quality/qualityreport/{run.reports.get().pk}/change/",
        "/admin/quality/cleaningrun/start/",
    ]

    assert [admin_client.get(page).status_code for page in pages] == [200] * 5


def test_add_means_start_and_the_form_starts_a_run(
    admin_client, django_capture_on_commit_callbacks
):
    CustomerFactory(email=" X@example.com")

    assert admin_client.get("/admin/quality/cleaningrun/add/").url == (
        "/admin/quality/cleaningrun/start/"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/quality/cleaningrun/start/", {"entities": ["customers"]}
        )

    run = CleaningRun.objects.get()
    assert response.url == f"/admin/quality/cleaningrun/{run.pk}/change/"
    assert (run.entities, run.requested_label, run.status) == (["customers"], "admin", "succeeded")


def test_merge_action_asks_for_the_survivor_then_merges(admin_client):
    keep = CustomerFactory(external_id="keep")
    dup = CustomerFactory(external_id="dup")
    OrderFactory(customer=dup)
    selected = {"action": "merge_selected", ACTION_CHECKBOX_NAME: [keep.pk, dup.pk]}

    asked = admin_client.post("/admin/customers/customer/", selected)
    done = admin_client.post(
        "/admin/customers/customer/", {**selected, "confirm": "yes", "survivor": "keep"}
    )

    assert asked.status_code == 200
    assert "choose the profile to keep" in asked.content.decode()
    assert done.status_code == 302
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["keep"]
    assert CustomerAlias.objects.get(alias="dup").customer_id == keep.pk
    assert CustomerMerge.objects.get().reason == "admin"


def test_merge_action_needs_two_customers(admin_client):
    keep = CustomerFactory()

    admin_client.post(
        "/admin/customers/customer/",
        {"action": "merge_selected", ACTION_CHECKBOX_NAME: [keep.pk], "confirm": "yes"},
    )

    assert CustomerMerge.objects.count() == 0


def test_split_back_from_the_merge_page(admin_client):
    CustomerFactory(external_id="keep")
    CustomerFactory(external_id="dup")
    services.duplicate_group_merge(survivor_external_id="keep", merged_external_ids=["dup"])
    merge = CustomerMerge.objects.get()

    change = admin_client.get(f"/admin/customers/customermerge/{merge.pk}/change/")
    confirm = admin_client.get(f"/admin/customers/customermerge/{merge.pk}/split/")
    split = admin_client.post(f"/admin/customers/customermerge/{merge.pk}/split/")

    assert change.status_code == 200
    assert f"/admin/customers/customermerge/{merge.pk}/split/" in change.content.decode()
    assert (
        "Split <strong>dup</strong> back out of <strong>keep</strong>" in confirm.content.decode()
    )
    assert split.status_code == 302
    merge.refresh_from_db()
    assert merge.status == "split"
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["dup", "keep"]


def test_split_action_undoes_newest_first(admin_client):
    for name in ("a", "b", "c"):
        CustomerFactory(external_id=name)
    services.duplicate_group_merge(survivor_external_id="a", merged_external_ids=["b"])
    services.duplicate_group_merge(survivor_external_id="c", merged_external_ids=["a"])

    admin_client.post(
        "/admin/customers/customermerge/",
        {
            "action": "split_selected",
            ACTION_CHECKBOX_NAME: list(CustomerMerge.objects.values_list("pk", flat=True)),
        },
    )

    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["a", "b", "c"]
    assert set(CustomerMerge.objects.values_list("status", flat=True)) == {"split"}

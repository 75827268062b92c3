"""Segments pages with the Django test client: list, builder (create, edit, live preview),
detail with members, search, chart data and history, explanation, export, static lists and
uploads, refresh, delete, and who may do what."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.tests.factories import UserFactory
from apps.segments.models import Segment, SegmentMembership
from apps.segments.services.segments import segment_create
from apps.segments.tests.segment_data import build_shop, group

pytestmark = pytest.mark.django_db

GERMANS = group({"type": "property", "field": "country", "operator": "equals", "value": "DE"})


@pytest.fixture
def shop():
    return build_shop()


@pytest.fixture
def marketer(client):
    client.force_login(UserFactory(role="marketer"))
    return client


@pytest.fixture
def analyst(client):
    client.force_login(UserFactory(role="analyst"))
    return client


def test_the_list_shows_each_segment_with_its_size(shop, marketer):
    segment_create(name="Germans", definition=GERMANS, now=shop.now)
    segment_create(name="VIP", customer_external_ids=["ada"], now=shop.now)

    page = marketer.get("/segments/")

    html = page.content.decode()
    assert page.status_code == 200
    assert [row.name for row, _, _ in page.context["rows"]] == ["Germans", "VIP"]
    assert [(row.member_count, round(share, 1)) for row, _, share in page.context["rows"]] == [
        (2, 33.3), (1, 16.7),
    ]  # fmt: skip
    assert 'data-testid="new-segment"' in html and "<polyline" in html


def test_an_analyst_sees_segments_but_cannot_change_them(shop, analyst):
    segment = segment_create(name="Germans", definition=GERMANS, now=shop.now)

    listing = analyst.get("/segments/")
    created = analyst.post("/segments/new/", {"name": "X", "definition": json.dumps(GERMANS)})
    refreshed = analyst.post(f"/segments/{segment.pk}/refresh/")
    deleted = analyst.post(f"/segments/{segment.pk}/delete/")

    assert (
        listing.status_code == 200 and 'data-testid="new-segment"' not in listing.content.decode()
    )
    assert (created.status_code, refreshed.status_code, deleted.status_code) == (403, 403, 403)
    assert list(Segment.objects.values_list("name", flat=True)) == ["Germans"]


def test_a_user_without_a_role_is_refused(shop, client):
    client.force_login(UserFactory())

    assert client.get("/segments/").status_code == 403


def test_the_live_preview_counts_a_definition_and_lists_problems_by_path(shop, marketer):
    preview = marketer.post(
        "/segments/preview/", {"definition": GERMANS}, content_type="application/json"
    )
    invalid = marketer.post(
        "/segments/preview/",
        {"definition": group({"type": "score", "field": "churn_risk", "operator": "gt",
                              "value": "x"})},
        content_type="application/json",
    )  # fmt: skip

    body = preview.json()
    assert preview.status_code == 200
    assert (body["count"], body["total_customers"], body["share"]) == (2, 6, 33.3)
    assert [row["external_id"] for row in body["sample"]] == ["bob", "ada"]
    assert body["description"] == [
        {"depth": 0, "text": "All of"},
        {"depth": 1, "text": "Country is DE"},
    ]
    assert invalid.status_code == 200
    assert invalid.json() == {
        "valid": False,
        "errors": [{"path": "conditions[0].value", "message": "must be a number"}],
    }
    assert Segment.objects.count() == 0


def test_the_builder_creates_a_segment_and_shows_its_members(shop, marketer):
    page = marketer.get("/segments/new/")
    assert page.status_code == 200
    assert page.context["catalogue"]["scores"][0]["name"] == "rfm_recency"

    response = marketer.post(
        "/segments/new/",
        {"name": "Germans", "description": "DE", "definition": json.dumps(GERMANS)},
    )

    segment = Segment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/segments/{segment.pk}/"
    detail = marketer.get(response["Location"])
    assert detail.status_code == 200
    assert [m.customer.external_id for m in detail.context["page"].object_list] == ["bob", "ada"]
    assert detail.context["description"] == [(0, "All of"), (1, "Country is DE")]
    assert detail.context["chart"]["values"] == [2]
    assert [change.kind for change in detail.context["history"]] == ["entered", "entered"]
    assert "Segment Germans created: 2 members." in detail.content.decode()


def test_the_builder_shows_definition_problems_and_saves_nothing(shop, marketer):
    broken = group({"type": "property", "field": "country", "operator": "in", "value": []})

    response = marketer.post("/segments/new/", {"name": "Broken", "definition": json.dumps(broken)})

    assert response.status_code == 400
    assert response.context["errors"] == [
        {"path": "conditions[0].value", "message": "must be a non-empty list"}
    ]
    assert 'id="builder-errors"' in response.content.decode()
    assert Segment.objects.count() == 0


def test_a_taken_name_is_shown_on_the_name_field(shop, marketer):
    segment_create(name="Germans", definition=GERMANS, now=shop.now)

    response = marketer.post(
        "/segments/new/", {"name": "germans", "definition": json.dumps(GERMANS)}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "name: a segment named 'germans' exists already"
    ]


def test_editing_changes_the_definition(shop, marketer):
    segment = segment_create(name="Germans", definition=GERMANS, now=shop.now)
    french = group({"type": "property", "field": "country", "operator": "equals", "value": "FR"})

    page = marketer.get(f"/segments/{segment.pk}/edit/")
    response = marketer.post(
        f"/segments/{segment.pk}/edit/", {"name": "French", "definition": json.dumps(french)}
    )

    assert page.status_code == 200 and page.context["definition"] == GERMANS
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.member_count) == ("French", 2)


def test_members_are_searchable_and_explained(shop, marketer):
    segment = segment_create(name="Germans", definition=GERMANS, now=shop.now)

    found = marketer.get(f"/segments/{segment.pk}/?q=ada")
    partial = marketer.get(
        f"/segments/{segment.pk}/?q=bo", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="members"
    )
    member = marketer.get(f"/segments/{segment.pk}/members/ada/")
    unknown = marketer.get(f"/segments/{segment.pk}/members/nobody/")

    assert [m.customer.external_id for m in found.context["page"].object_list] == ["ada"]
    assert [t.name for t in partial.templates] == [
        "segments/_members.html",
        "partials/initials.html",
    ]
    assert member.status_code == 200
    rows = [(row.description, row.matched, row.actual) for row in
            member.context["explanation"].conditions]  # fmt: skip
    assert rows == [("All of", True, ""), ("Country is DE", True, "DE")]
    assert unknown.status_code == 404


def test_export_streams_every_member_as_csv(shop, marketer):
    segment = segment_create(name="Germans", definition=GERMANS, now=shop.now)

    response = marketer.get(f"/segments/{segment.pk}/export.csv")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert lines[0] == "external_id,email,first_name,last_name,country,city,member_since"
    assert [line.split(",")[0] for line in lines[1:]] == ["ada", "bob"]


def test_a_static_segment_from_an_upload_lists_unknown_ids(shop, marketer):
    csv_file = SimpleUploadedFile("list.csv", b"external_id\nada\nghost\ncy\n", "text/csv")

    response = marketer.post(
        "/segments/new/static/", {"name": "List", "description": "", "file": csv_file}
    )

    segment = Segment.objects.get()
    assert response.status_code == 302
    detail = marketer.get(f"/segments/{segment.pk}/")
    html = detail.content.decode()
    assert segment.member_count == 2
    assert "row 3: <code>ghost</code>" in html
    upload = marketer.post(
        f"/segments/{segment.pk}/upload/",
        {"file": SimpleUploadedFile("more.csv", b"eve\n", "text/csv"), "mode": "add"},
    )
    assert upload.status_code == 302
    assert SegmentMembership.objects.filter(segment=segment).count() == 3


def test_pasted_ids_make_a_static_segment_and_an_empty_form_is_refused(shop, marketer):
    empty = marketer.post("/segments/new/static/", {"name": "Nothing"})
    pasted = marketer.post("/segments/new/static/", {"name": "Pasted", "ids": "ada, bob\ncy"})

    assert empty.status_code == 400
    assert empty.context["form"].non_field_errors() == ["Upload a CSV or paste some customer ids."]
    assert pasted.status_code == 302
    assert Segment.objects.get().member_count == 3


def test_refresh_and_delete(shop, marketer):
    segment = segment_create(name="Germans", definition=GERMANS, now=shop.now)

    refreshed = marketer.post(f"/segments/{segment.pk}/refresh/", follow=True)
    deleted = marketer.post(f"/segments/{segment.pk}/delete/", follow=True)

    assert "2 members (0 entered, 0 left)" in refreshed.content.decode()
    assert "Segment Germans deleted." in deleted.content.decode()
    assert Segment.objects.count() == 0

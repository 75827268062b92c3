"""Segments API: create (dynamic and static), preview, members, explanation, history, sizes,
refresh, export, upload, update, delete; 401 without a key and 403 without the scope."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from apps.accounts.tests.factories import ApiKeyFactory, all_scopes_except, bearer
from apps.segments.models import Segment, SegmentMembership
from apps.segments.services.segments import segment_create
from apps.segments.tests.segment_data import build_shop, group

pytestmark = pytest.mark.django_db

GERMANS = group({"type": "property", "field": "country", "operator": "equals", "value": "DE"})
HIGH_CHURN = group({"type": "score", "field": "churn_risk", "operator": "gt", "value": 0.5})


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(ApiKeyFactory(scopes=list(scopes))))
    return client


@pytest.fixture
def shop():
    return build_shop()


def test_create_a_dynamic_segment_and_read_it_back(shop):
    client = client_with("segments:write", "segments:read")

    created = client.post(
        "/api/v1/segments",
        {"name": "Germans", "description": "DE", "definition": GERMANS},
        format="json",
    )

    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["kind"], body["status"], body["member_count"]) == (
        "Germans", "dynamic", "ready", 2,
    )  # fmt: skip
    assert body["definition"] == GERMANS and body["created_by"] is None
    listed = client.get("/api/v1/segments").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    detail = client.get(f"/api/v1/segments/{body['id']}").json()
    assert detail["member_count"] == 2


def test_a_bad_definition_is_a_400_listing_every_problem_by_path(shop):
    client = client_with("segments:write")

    response = client.post(
        "/api/v1/segments",
        {
            "name": "Broken",
            "definition": group(
                {"type": "score", "field": "churn_risk", "operator": "gt", "value": "high"},
                {"type": "property", "field": "country", "operator": "in", "value": []},
            ),
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "conditions[0].value: must be a number",
        "code": "invalid",
        "field": "definition",
        "errors": {
            "conditions[0].value": ["must be a number"],
            "conditions[1].value": ["must be a non-empty list"],
        },
    }
    assert Segment.objects.count() == 0


def test_create_a_static_segment_from_ids(shop):
    client = client_with("segments:write")

    response = client.post(
        "/api/v1/segments",
        {"name": "Newsletter", "customer_external_ids": ["ada", "zed", "cy"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["member_count"]) == ("static", 2)
    assert body["upload_report"]["unknown"] == [{"row": 2, "value": "zed"}]


def test_preview_counts_without_saving(shop):
    client = client_with("segments:read")

    response = client.post(
        "/api/v1/segments/preview", {"definition": GERMANS, "sample_size": 1}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["total_customers"]) == (2, 6)
    assert [row["external_id"] for row in body["sample"]] == ["bob"]
    assert body["description"] == [
        {"depth": 0, "text": "All of"},
        {"depth": 1, "text": "Country is DE"},
    ]
    refused = client.post(
        "/api/v1/segments/preview",
        {"definition": group({"type": "property", "field": "shoe"})},
        format="json",
    )
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["conditions[0].field"]
    assert Segment.objects.count() == 0


def test_members_explanation_history_sizes_and_export(shop):
    segment = segment_create(name="Churners", definition=HIGH_CHURN, now=shop.now)
    client = client_with("segments:read")

    members = client.get(f"/api/v1/segments/{segment.pk}/members").json()
    explained = client.get(f"/api/v1/segments/{segment.pk}/members/bob").json()
    history = client.get(f"/api/v1/segments/{segment.pk}/history?kind=entered").json()
    sizes = client.get(f"/api/v1/segments/{segment.pk}/sizes").json()
    export = client.get(f"/api/v1/segments/{segment.pk}/export")

    assert members["count"] == 1 and members["results"][0]["external_id"] == "bob"
    assert explained["is_member"] is True and explained["matches"] is True
    assert [(row["description"], row["matched"], row["actual"]) for row in
            explained["conditions"]] == [
        ("All of", True, ""), ("Churn risk greater than 0.5", True, "0.9"),
    ]  # fmt: skip
    assert [(row["external_id"], row["kind"]) for row in history["results"]] == [("bob", "entered")]
    assert [(row["member_count"], row["entered"]) for row in sizes] == [(1, 1)]
    assert export.status_code == 200
    assert export["Content-Disposition"] == f'attachment; filename="segment-{segment.pk}.csv"'
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == "external_id,email,first_name,last_name,country,city,member_since"
    assert lines[1].startswith("bob,bob@example.com,")
    assert len(lines) == 2
    unknown = client.get(f"/api/v1/segments/{segment.pk}/members/nobody")
    assert unknown.status_code == 404 and unknown.json()["code"] == "customer_not_found"


def test_refresh_update_and_delete(shop):
    segment = segment_create(name="Churners", definition=HIGH_CHURN, now=shop.now)
    client = client_with("segments:write", "segments:read")

    refreshed = client.post(f"/api/v1/segments/{segment.pk}/refresh")
    updated = client.patch(
        f"/api/v1/segments/{segment.pk}", {"definition": GERMANS, "name": "DE"}, format="json"
    )
    deleted = client.delete(f"/api/v1/segments/{segment.pk}")

    assert refreshed.status_code == 200
    assert {key: refreshed.json()[key] for key in ("member_count", "entered", "exited")} == {
        "member_count": 1, "entered": 0, "exited": 0,
    }  # fmt: skip
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["member_count"]) == ("DE", 2)
    assert deleted.status_code == 204
    assert Segment.objects.count() == 0 and SegmentMembership.objects.count() == 0


def test_upload_a_csv_to_a_static_segment(shop):
    segment = segment_create(name="VIP", customer_external_ids=["ada"], now=shop.now)
    client = client_with("segments:write")
    file = io.BytesIO(b"external_id\nbob\nghost\n")
    file.name = "vip.csv"

    response = client.post(
        f"/api/v1/segments/{segment.pk}/upload",
        {"file": file, "mode": "add"},
        format="multipart",
    )

    assert response.status_code == 200
    assert response.json() == {
        "source": "csv", "rows": 2, "matched": 1, "duplicates": 0, "unknown_count": 1,
        "unknown": [{"row": 3, "value": "ghost"}],
    }  # fmt: skip
    assert SegmentMembership.objects.filter(segment=segment).count() == 2


def test_a_segment_in_use_cannot_be_deleted_409(shop):
    used = segment_create(name="Used", definition=GERMANS, now=shop.now)
    segment_create(name="User", definition=group({"type": "segment", "segment": used.pk}),
                   now=shop.now)  # fmt: skip

    response = client_with("segments:write").delete(f"/api/v1/segments/{used.pk}")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "segment 'Used' is used by 'User': remove those conditions first",
        "code": "segment_in_use",
    }


def test_keys_need_the_segments_scopes(shop):
    segment = segment_create(name="Churners", definition=HIGH_CHURN, now=shop.now)

    anonymous = APIClient().get("/api/v1/segments")
    reader = client_with("segments:read")
    no_read = client_with(*all_scopes_except("segments:read"))

    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert no_read.get("/api/v1/segments").status_code == 403
    refused = reader.post("/api/v1/segments", {"name": "X", "definition": GERMANS}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This operation needs the scope segments:write",
        "code": "permission_denied",
    }
    assert reader.delete(f"/api/v1/segments/{segment.pk}").status_code == 403
    assert reader.post(f"/api/v1/segments/{segment.pk}/refresh").status_code == 403
    assert list(Segment.objects.values_list("name", flat=True)) == ["Churners"]


def test_members_carry_their_scores_in_a_fixed_number_of_queries(
    shop, django_assert_max_num_queries
):
    from apps.customers.tests.factories import CustomerFactory
    from apps.segments.models import CustomerScores

    client = client_with("segments:read")
    for index in range(20):
        customer = CustomerFactory(external_id=f"de-{index:02d}", country="DE")
        CustomerScores.objects.create(
            customer=customer, churn_risk=index / 20, rfm_cell="loyal", cluster_name="Regulars"
        )
    segment = segment_create(name="Germans", definition=GERMANS)
    client.get(f"/api/v1/segments/{segment.pk}/members")  # key and caches warm

    # a page of 22 members costs what a page of 2 would: the scores come with the customers
    with django_assert_max_num_queries(6):
        body = client.get(f"/api/v1/segments/{segment.pk}/members?page_size=50").json()

    members = {member["external_id"]: member for member in body["results"]}
    assert body["count"] == 22 and len(members) == 22
    assert members["ada"]["traits"] == {
        "churn_risk": 0.1, "purchase_propensity": None, "clv_12m": "900.00", "p_alive": 0.95,
        "rfm_cell": "champions", "lifecycle_stage": "loyal", "cluster": 2, "cluster_name": "",
    }  # fmt: skip
    assert members["de-19"]["traits"]["churn_risk"] == 0.95
    assert members["de-19"]["traits"]["cluster_name"] == "Regulars"
    assert all(member["traits"] is not None for member in members.values())


def test_a_member_without_scores_has_null_traits(shop):
    client = client_with("segments:read")
    segment = segment_create(name="French", definition=group(
        {"type": "property", "field": "country", "operator": "equals", "value": "FR"}))  # fmt: skip

    body = client.get(f"/api/v1/segments/{segment.pk}/members").json()

    traits = {member["external_id"]: member["traits"] for member in body["results"]}
    assert traits["cy"] is None
    assert traits["dee"]["rfm_cell"] == "new"

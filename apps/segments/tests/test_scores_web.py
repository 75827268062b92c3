"""Customer intelligence on the pages: a segment's members with their scores and the segment's
averages (read without a query per member), and the customer profile's scores with the model
version behind each, the discounted CLV, the expected purchases and the reasons of both
predictions."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.customers.tests.factories import CustomerFactory
from apps.ml.tests.factories import ModelVersionFactory
from apps.segments.models import CustomerScores
from apps.segments.services.segments import segment_create
from apps.segments.tests.segment_data import build_shop, group

pytestmark = pytest.mark.django_db

GERMANS_AND_FRENCH = group(
    {"type": "property", "field": "country", "operator": "in", "value": ["DE", "FR"]}
)
DUTCH = group({"type": "property", "field": "country", "operator": "equals", "value": "NL"})


@pytest.fixture
def marketer(client):
    client.force_login(UserFactory(role="marketer"))
    return client


def _cells(html: str, testid: str) -> list[str]:
    """The text of every table cell with this data-testid, tags stripped, in page order."""
    cells = re.findall(rf'<td[^>]*data-testid="{testid}"[^>]*>(.*?)</td>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def test_the_members_show_their_scores_and_the_segment_its_averages(marketer):
    # given ada (champions, churn 0.10, CLV 900), bob (lost, 0.90, 20), cy (no scores) and
    # dee (new, 0.40, 150) in a segment; ada's cluster has a name
    shop = build_shop()
    CustomerScores.objects.filter(customer__external_id="ada").update(
        cluster_name="High-spend frequent buyers of Women"
    )
    segment = segment_create(name="DE and FR", definition=GERMANS_AND_FRENCH, now=shop.now)

    # when the segment page is shown
    response = marketer.get(f"/segments/{segment.pk}/")

    # then each member row shows the scores (newest member first: dee, cy, bob, ada) ...
    html = response.content.decode()
    assert response.status_code == 200
    assert [m.customer.external_id for m in response.context["page"]] == [
        "dee", "cy", "bob", "ada",
    ]  # fmt: skip
    assert _cells(html, "member-churn") == ["40%", "—", "90%", "10%"]
    assert _cells(html, "member-clv") == ["150.00", "—", "20.00", "900.00"]
    assert _cells(html, "member-alive") == ["70%", "—", "5%", "95%"]
    assert _cells(html, "member-segment") == [
        "New no cluster",
        "—",
        "Lost no cluster",
        "Champions High-spend frequent buyers of Women",
    ]
    assert 'class="badge-soft risk-pill badge-danger">90%' in html
    assert 'class="badge-soft risk-pill badge-warning">40%' in html
    assert 'class="badge-soft risk-pill badge-success">10%' in html
    # ... and the KPIs average the three scored members
    scores = response.context["scores"]
    assert (scores.members, scores.clv_scored, scores.churn_scored, scores.at_risk) == (4, 3, 3, 1)
    assert scores.average_clv_12m == Decimal("356.67")
    assert scores.average_churn_risk == pytest.approx((0.10 + 0.90 + 0.40) / 3)
    assert scores.average_p_alive == pytest.approx((0.95 + 0.05 + 0.7) / 3)
    assert scores.at_risk_share == pytest.approx(1 / 3)
    kpis = html[html.index('data-testid="segment-scores"') :]
    kpi_values = re.findall(r'<div class="kpi-value">(.*?)</div>', kpis)
    assert kpi_values[:4] == ["356.67", "57%", "47%", "33%"]
    assert "1 with churn risk ≥ 50%" in html
    assert "next 12 months, over 3 members with orders" in html


def test_a_segment_without_scored_members_says_where_scores_come_from(marketer):
    shop = build_shop()
    segment = segment_create(name="Nobody", definition=DUTCH, now=shop.now)

    response = marketer.get(f"/segments/{segment.pk}/")

    html = response.content.decode()
    scores = response.context["scores"]
    assert (scores.clv_scored, scores.churn_scored, scores.at_risk_share) == (0, 0, None)
    assert "no CLV scores yet" in html and "no churn scores yet" in html


def test_the_member_list_reads_scores_without_a_query_per_member(
    marketer, django_assert_max_num_queries
):
    # given a segment of 25 Germans, each with scores
    shop = build_shop()
    for index in range(25):
        customer = CustomerFactory(external_id=f"de-{index:02d}", country="DE")
        CustomerScores.objects.create(
            customer=customer, rfm_cell="loyal", churn_risk=0.2, clv_12m=Decimal("10.00"),
            p_alive=0.9, cluster=1, cluster_name="Loyal buyers",
        )  # fmt: skip
    segment = segment_create(
        name="Germans",
        definition=group({"type": "property", "field": "country", "operator": "equals",
                          "value": "DE"}),
        now=shop.now,
    )  # fmt: skip

    # when the member list (20 a page) is fetched on its own, as htmx does, and in the page
    # then the scores come with the members: the queries do not grow with the rows
    with django_assert_max_num_queries(6):
        partial = marketer.get(
            f"/segments/{segment.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="members"
        )
    with django_assert_max_num_queries(16):
        page = marketer.get(f"/segments/{segment.pk}/")

    assert _cells(partial.content.decode(), "member-clv") == ["10.00"] * 20
    assert len(_cells(page.content.decode(), "member-churn")) == 20


def test_the_profile_shows_each_score_with_its_model_version_and_both_reasons(client):
    # given a customer scored by clustering v2, CLV v3, churn v4 and propensity v5
    customer = CustomerFactory(external_id="zoe")
    CustomerScores.objects.create(
        customer=customer,
        cluster=1,
        cluster_name="Recent high-spend frequent buyers of Women",
        cluster_model_version=ModelVersionFactory(kind="segments.clusters", version=2),
        clv_12m=Decimal("231.67"),
        clv_historical=Decimal("203.94"),
        clv_discounted=Decimal("198.12"),
        p_alive=0.83,
        expected_purchases_90d=0.4567,
        clv_model_version=ModelVersionFactory(kind="segments.clv", version=3),
        churn_risk=0.46,
        churn_model_version=ModelVersionFactory(kind="segments.churn", version=4),
        purchase_propensity=0.43,
        propensity_model_version=ModelVersionFactory(kind="segments.propensity", version=5),
        explanations={
            "churn": [["days_since_last_visit", -0.4], ["coupon_share", 0.2]],
            "propensity": [["sessions_90d", 0.7], ["days_since_last_order", -0.3]],
        },
    )
    client.force_login(UserFactory(role="marketer"))

    # when the profile is shown
    response = client.get("/customers/zoe/")

    # then every model-made score names its model version
    html = response.content.decode()
    assert response.status_code == 200
    versions = dict(
        re.findall(r'<dd data-testid="(score-cluster|score-clv|churn-risk|purchase-propensity)">'
                   r'.*?data-testid="model-version">(v\d+)</span></dd>', html)
    )  # fmt: skip
    assert versions == {
        "score-cluster": "v2",
        "score-clv": "v3",
        "churn-risk": "v4",
        "purchase-propensity": "v5",
    }
    # and the discounted CLV, the expected purchases and the reasons of both predictions
    assert '<dd data-testid="score-clv-discounted">198.12</dd>' in html
    assert '<dd data-testid="score-expected-purchases">0.46 expected</dd>' in html
    churn = re.search(r'data-testid="churn-reasons">(.*?)</ul>', html, re.S)
    propensity = re.search(r'data-testid="propensity-reasons">(.*?)</ul>', html, re.S)
    assert churn is not None and propensity is not None
    assert re.findall(r"\((raises|lowers) risk\)", churn.group(1)) == ["lowers", "raises"]
    assert re.findall(r"\((raises|lowers) the chance\)", propensity.group(1)) == [
        "raises", "lowers",
    ]  # fmt: skip


def test_a_profile_without_model_scores_shows_no_versions(client):
    customer = CustomerFactory(external_id="una")
    CustomerScores.objects.create(customer=customer, rfm_cell="new", lifecycle_stage="new")
    client.force_login(UserFactory(role="marketer"))

    html = client.get("/customers/una/").content.decode()

    assert 'data-testid="model-version"' not in html
    assert '<dd data-testid="score-clv-discounted">—</dd>' in html
    assert 'data-testid="propensity-reasons"' not in html

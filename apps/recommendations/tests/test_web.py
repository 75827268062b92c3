"""Recommendations pages with the Django test client: the home (empty state, champion card,
model comparison and its chart, a chosen run's report, online CTR, Train now and its live
status), placements (list, create and edit with errors under their fields, delete), the try-it
page (the API's answer, the visitor's history, errors), the customer search and the profile
preview, and who may do what."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import roles_sync
from apps.accounts.tests.factories import ApiKeyFactory, UserFactory, bearer
from apps.customers.tests.factories import CustomerFactory
from apps.events.choices import EventType
from apps.events.tests.factories import EventFactory
from apps.ml.models import TrainingRun
from apps.ml.tests.factories import TrainingRunFactory
from apps.recommendations.models import Placement, ServedRecommendation
from apps.recommendations.services import placement_create
from apps.recommendations.services.config import KIND
from apps.recommendations.tests.shop import publish, shop_build, toy_model

pytestmark = pytest.mark.django_db

HOME = "/recommendations/"
REPORT = {
    "algorithms": {
        "popularity": {
            "precision@10": 0.0312,
            "recall@10": 0.1204,
            "ndcg@10": 0.0812,
            "map@10": 0.0411,
            "coverage": 0.05,
            "diversity": 0.4213,
            "novelty": 3.1416,
            "train_seconds": 0.21,
        },
        "item_knn": {
            "precision@10": 0.0544,
            "recall@10": 0.2011,
            "ndcg@10": 0.1523,
            "map@10": 0.0802,
            "coverage": 0.31,
            "diversity": 0.5102,
            "novelty": 4.25,
            "train_seconds": 1.43,
        },
        "blend": {
            "precision@10": 0.0611,
            "recall@10": 0.2333,
            "ndcg@10": 0.1874,
            "map@10": 0.0955,
            "coverage": 0.42,
            "diversity": 0.5566,
            "novelty": 4.5,
            "train_seconds": 4.25,
        },
    },
    "best": "blend",
    "k": 10,
    "data": {"interactions": 1234, "users": 87, "items_with_interactions": 12},
}


def signed_in(role: str) -> Client:
    roles_sync()  # the groups' model permissions (Train now needs ml.add_trainingrun)
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def _text(html: str) -> str:
    """Visible text: tags dropped, whitespace collapsed, the em dash entity as the character."""
    text = re.sub(r"<[^>]+>", " ", html).replace("&mdash;", "\u2014")
    return re.sub(r"\s+", " ", text).strip()


def _cells(html: str, testid: str, key: str) -> list[str]:
    """The text of each cell of the table row with this data-testid and data-algorithm/key."""
    row = re.search(
        rf'<tr[^>]*data-testid="{testid}"[^>]*data-[a-z]+="{key}"[^>]*>(.*?)</tr>', html, re.S
    )
    assert row, key
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    return [_text(cell) for cell in cells]


@pytest.fixture
def shop():
    shop = shop_build()
    CustomerFactory(external_id="alice", first_name="Alice", last_name="Ng", email="alice@x.io")
    version = publish(toy_model(), metrics=REPORT)
    return shop, version


# --- home ------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_sign_in():
    response = Client().get(HOME)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_without_a_model_the_home_says_how_to_train_one():
    html = signed_in("marketer").get(HOME).content.decode()

    assert "No recommender trained yet" in html
    assert "python manage.py recommend train" in html
    assert 'data-testid="reco-train"' in html
    assert 'data-testid="reco-comparison"' not in html
    assert "No recommendations served yet" in html


def test_analysts_see_the_empty_state_without_the_train_button():
    html = signed_in("analyst").get(HOME).content.decode()

    assert "No recommender trained yet" in html
    assert 'data-testid="reco-train"' not in html


def test_the_home_shows_the_champion_and_compares_every_algorithm(shop):
    _, version = shop

    response = signed_in("analyst").get(HOME)

    html = response.content.decode()
    assert response.status_code == 200
    champion = response.context["home"].champion
    assert (champion.algorithm, champion.ndcg, champion.baseline_ndcg) == ("blend", 0.1874, 0.0812)
    assert 'data-testid="reco-champion-algorithm" title="blend">Blend<' in html
    assert f">v{version.version} · trained " in html
    assert 'data-testid="reco-champion-ndcg">0.187<' in html
    assert "vs 0.081 for popularity" in html and "+131%" in html
    assert "1,234" in html
    rows = response.context["home"].comparison.rows
    assert [(row.name, row.is_best) for row in rows] == [
        ("blend", True), ("item_knn", False), ("popularity", False),
    ]  # fmt: skip
    assert _cells(html, "reco-algorithm", "blend") == [
        "Blend Best blend",
        "0.061", "0.233", "0.187", "0.096", "0.420", "0.557", "4.50", "4.3 s",
    ]  # fmt: skip
    assert _cells(html, "reco-algorithm", "popularity")[1:4] == ["0.031", "0.120", "0.081"]
    headings = re.findall(r'<th scope="col" class="num"[^>]*>([^<]+)</th>', html)
    assert headings == [
        "Precision@10", "Recall@10", "NDCG@10", "MAP@10", "Coverage", "Diversity", "Novelty",
        "Train",
    ]  # fmt: skip
    opening = '<script id="reco-ndcg-data" type="application/json">'
    start = html.index(opening) + len(opening)
    assert json.loads(html[start : html.index("</script>", start)]) == {
        "labels": ["Blend", "Item-item kNN", "Popularity"],
        "values": [0.1874, 0.1523, 0.0812],
        "best": [True, False, False],
        "baseline": [False, False, True],
        "metric": "NDCG@10",
    }
    assert 'data-testid="reco-train"' not in html  # analysts only read


def test_a_report_measuring_ndcg_alone_shows_only_that_column(shop):
    TrainingRunFactory(
        kind=KIND,
        status="succeeded",
        metrics={"algorithms": {"als": {"ndcg@5": 0.2}, "popularity": {"ndcg@5": 0.1}},
                 "best": "als", "k": 5},
    )  # fmt: skip
    run = TrainingRun.objects.get(kind=KIND)

    response = signed_in("analyst").get(f"{HOME}?run={run.pk}")

    html = response.content.decode()
    comparison = response.context["home"].comparison
    assert comparison.run == run
    assert [column.label for column in comparison.columns] == ["NDCG@5"]
    assert [row.name for row in comparison.rows] == ["als", "popularity"]
    assert _cells(html, "reco-algorithm", "als") == ["ALS Best als", "0.200"]


def test_an_unknown_or_foreign_run_falls_back_to_the_champions_report(shop):
    foreign = TrainingRunFactory(kind="ml.selftest", status="succeeded", metrics=REPORT)

    for query in (f"?run={foreign.pk}", "?run=999999", "?run=abc"):
        response = signed_in("analyst").get(HOME + query)

        assert response.status_code == 200
        assert response.context["home"].comparison.run is None
        assert [row.name for row in response.context["home"].comparison.rows][0] == "blend"


def test_online_ctr_is_shown_per_placement_and_model_version(shop):
    _, version = shop
    placement_create(key="home", name="Home page carousel")
    for impressions, clicks in ((20, 4), (20, 2), (0, 0)):
        ServedRecommendation.objects.create(
            placement="home", model_version=version, source="model", items=["SHIRT-1"],
            impressions=impressions, clicks=clicks,
        )  # fmt: skip
    ServedRecommendation.objects.create(placement="", source="popularity", items=["HAT-1"])
    ServedRecommendation.objects.create(
        placement="home", model_version=version, source="model", items=["SHIRT-1"],
        impressions=50, clicks=50, served_at=timezone.now() - timedelta(days=40),
    )  # fmt: skip

    html = signed_in("analyst").get(HOME).content.decode()

    rows = re.findall(r'<tr data-testid="reco-ctr-row">(.*?)</tr>', html, re.S)
    texts = [_text(row) for row in rows]
    assert texts == [
        "Default rules Popularity fallback 1 0 0 —",
        f"Home page carousel home v{version.version} 3 40 6 15.00% 6 / 40",
    ]
    wide = signed_in("analyst").get(f"{HOME}?days=90").content.decode()
    assert f"home v{version.version} 4 90 56 62.22% 56 / 90" in _text(wide)


@pytest.mark.django_db(transaction=True)
def test_train_now_starts_a_run_and_says_what_happened():
    # given a marketer and a shop with no interactions at all
    client = signed_in("marketer")

    # when they press Train now
    response = client.post(f"{HOME}train", follow=True)

    # then a run of the recommender was started from the UI, and its outcome is on the page
    run = TrainingRun.objects.get()
    assert (run.kind, run.trigger, run.status) == (KIND, "ui", "not_enough_data")
    assert run.triggered_by.groups.get().name == "marketer"
    html = response.content.decode()
    assert f"Run {run.pk} ended not_enough_data: Recommendations need at least 50" in html
    assert f'href="/models/runs/{run.pk}/"' in html


def test_analysts_may_not_train():
    response = signed_in("analyst").post(f"{HOME}train")

    assert response.status_code == 403
    assert TrainingRun.objects.count() == 0


def test_the_run_status_polls_while_a_run_is_active_and_reloads_when_it_ends():
    run = TrainingRunFactory(
        kind=KIND, status="running", progress=40, progress_message="Tuning als"
    )
    client = signed_in("analyst")

    running = client.get(f"{HOME}status?polling=1")
    run.status = "succeeded"
    run.save(update_fields=["status"])
    ended = client.get(f"{HOME}status?polling=1")

    assert 'hx-trigger="every 2s"' in running.content.decode()
    assert "Tuning als" in running.content.decode()
    assert "HX-Refresh" not in running
    assert ended["HX-Refresh"] == "true"
    assert 'hx-trigger="every 2s"' not in ended.content.decode()


# --- placements ------------------------------------------------------------------------------------

VALID = {
    "key": "cart",
    "name": "Cart cross-sell",
    "description": "Under the basket",
    "default_count": "6",
    "diversity": "0.5",
    "exclude_purchased_days": "30",
    "exclude_out_of_stock": "on",
    "include_categories": "shirts, hats",
    "exclude_categories": "",
    "pinned_skus": "HAT-2\nSHIRT-3",
    "boosts": "SHOE-1 = 0.25\nSHOE-2: -0.5",
    "category_boosts": "hats = 0.1",
    "is_active": "on",
}


def test_placements_are_listed_with_their_rules(shop):
    placement_create(
        key="home", name="Home page", include_categories=["hats"], pinned_skus=["HAT-1"]
    )
    placement_create(key="email", name="Weekly email", is_active=False)

    html = signed_in("analyst").get(f"{HOME}placements/").content.decode()

    assert re.findall(r'data-testid="placement-row" data-key="([^"]+)"', html) == ["email", "home"]
    assert "only hats" in html and "1 pinned" in html and "Inactive" in html
    assert 'data-testid="placement-edit"' not in html  # analysts only read
    assert f'href="{HOME}placements/home/try/"' in html


def test_without_placements_the_list_says_what_the_defaults_are():
    html = signed_in("marketer").get(f"{HOME}placements/").content.decode()

    assert "No placements yet" in html
    assert "10 items, diversity 0.3" in html
    assert f'href="{HOME}placements/new/"' in html


def test_a_marketer_creates_a_placement(shop):
    response = signed_in("marketer").post(f"{HOME}placements/new/", VALID)

    assert response.status_code == 302
    assert response["Location"] == f"{HOME}placements/"
    placement = Placement.objects.get()
    assert (placement.key, placement.default_count, placement.diversity) == ("cart", 6, 0.5)
    assert placement.include_categories == ["shirts", "hats"]
    assert placement.pinned_skus == ["HAT-2", "SHIRT-3"]
    assert placement.boosts == {"SHOE-1": 0.25, "SHOE-2": -0.5}
    assert placement.category_boosts == {"hats": 0.1}
    assert (placement.exclude_purchased_days, placement.exclude_out_of_stock) == (30, True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"include_categories": "hats nope"}, "include_categories", "No category with slug 'nope'"),
        ({"pinned_skus": "HAT-1 NOPE-9"}, "pinned_skus", "No product with SKU 'NOPE-9'"),
        ({"boosts": "NOPE-9 = 0.2"}, "boosts", "NOPE-9: no product with this SKU"),
        ({"boosts": "SHOE-1 = 2"}, "boosts", "SHOE-1: must be between -1 and 1"),
        ({"boosts": "SHOE-1 0.2"}, "boosts", "Line 1 ('SHOE-1 0.2'): write it as KEY = amount"),
        ({"category_boosts": "nope = 0.1"}, "category_boosts", "Nope: no category with this slug"),
        ({"diversity": "1.5"}, "diversity", "Ensure this value is less than or equal to 1.0."),
        ({"default_count": "0"}, "default_count", "Ensure this value is greater than or equal"),
        ({"key": "Not a slug!"}, "key", "Enter a valid “slug”"),
    ],
)
def test_a_bad_rule_is_shown_under_its_field_and_nothing_is_saved(shop, changes, field, message):
    response = signed_in("marketer").post(f"{HOME}placements/new/", {**VALID, **changes})

    html = response.content.decode()
    assert response.status_code == 400
    error = re.search(rf'data-testid="error-{field}">([^<]+)<', html)
    assert error, html
    assert error.group(1).replace("&#x27;", "'").startswith(message)
    assert "Some rules need fixing" in html
    assert Placement.objects.count() == 0


def test_a_key_in_use_is_refused_under_the_key(shop):
    placement_create(key="cart", name="Existing")

    response = signed_in("marketer").post(f"{HOME}placements/new/", VALID)

    assert response.status_code == 400
    assert 'data-testid="error-key">A placement with key &#x27;cart&#x27; exists<' in (
        response.content.decode()
    )
    assert Placement.objects.get().name == "Existing"


def test_editing_shows_the_saved_rules_and_saves_the_changes(shop):
    placement_create(
        key="home", name="Home", boosts={"SHOE-1": 0.3}, include_categories=["hats", "shoes"]
    )
    client = signed_in("marketer")

    form = client.get(f"{HOME}placements/home/edit/").content.decode()
    response = client.post(
        f"{HOME}placements/home/edit/", {**VALID, "key": "home-2", "name": "Home v2"}
    )

    assert 'value="hats, shoes"' in form
    assert ">\nSHOE-1 = 0.3</textarea>" in form
    assert response.status_code == 302
    placement = Placement.objects.get()
    assert (placement.key, placement.name, placement.default_count) == ("home-2", "Home v2", 6)


def test_delete_asks_first_then_deletes(shop):
    placement_create(key="home", name="Home page")
    client = signed_in("marketer")

    confirm = client.get(f"{HOME}placements/home/delete/")
    assert Placement.objects.count() == 1
    deleted = client.post(f"{HOME}placements/home/delete/", follow=True)

    assert "such requests are refused" in confirm.content.decode()
    assert Placement.objects.count() == 0
    assert "Deleted Home page: requests naming home are refused now." in deleted.content.decode()


def test_analysts_may_not_change_placements(shop):
    placement_create(key="home", name="Home page")
    client = signed_in("analyst")

    assert client.get(f"{HOME}placements/new/").status_code == 403
    assert client.post(f"{HOME}placements/new/", VALID).status_code == 403
    assert client.post(f"{HOME}placements/home/edit/", VALID).status_code == 403
    assert client.post(f"{HOME}placements/home/delete/").status_code == 403
    assert list(Placement.objects.values_list("key", "name")) == [("home", "Home page")]


def test_an_unknown_placement_is_a_404():
    client = signed_in("marketer")

    assert client.get(f"{HOME}placements/nope/edit/").status_code == 404
    assert client.get(f"{HOME}placements/nope/try/").status_code == 404


# --- try it ---------------------------------------------------------------------------------------


def test_try_without_a_visitor_says_what_to_do(shop):
    response = signed_in("analyst").get(f"{HOME}try/")

    assert response.status_code == 200
    assert "Pick someone to recommend for" in response.content.decode()


def test_try_shows_what_the_api_answers_and_the_history_beside_it(shop):
    # given a placement pinning a shoe, and alice who viewed a hat an hour ago
    shop_data, version = shop
    placement_create(key="home", name="Home page", pinned_skus=["SHOE-4"])
    EventFactory(
        customer=CustomerFactory._meta.model.objects.get(external_id="alice"),
        event_type=EventType.PRODUCT_VIEW, product=shop_data.products["HAT-1"],
    )  # fmt: skip

    # when the marketer tries it, and the shop asks the API the same
    response = signed_in("marketer").get(
        f"{HOME}placements/home/try/", {"customer": "alice", "n": "4", "diversity": "0"}
    )
    api = APIClient()
    api.credentials(**bearer(ApiKeyFactory(scopes=["recommendations:read"])))
    expected = api.get("/api/v1/recommendations/alice?placement=home&n=4&diversity=0").json()

    # then the page lists the API's items in its order, with reasons, prices and the version
    html = response.content.decode()
    assert response.status_code == 200
    items = response.context["answer"].items
    assert [(i.sku, i.reason, i.score) for i in items] == [
        (i["product_id"], i["reason"], i["score"]) for i in expected["items"]
    ]
    assert items[0].sku == "SHOE-4" and items[0].reason == "Pinned"
    assert re.findall(r'data-testid="try-item" data-sku="([^"]+)"', html) == [
        i["product_id"] for i in expected["items"]
    ]
    assert "Because you viewed Hat 1" in html
    assert {i.price for i in items} == {Decimal("20.00")}
    assert "20.00 <span" in html
    assert f'data-testid="try-model-version">model v{version.version}<' in html
    assert 'data-testid="try-visitor">Alice Ng</a>' in html
    # and the history beside it
    assert len(re.findall(r'data-testid="history-row"', html)) == 1
    assert 'Viewed</span> <span class="fw-semibold">Hat 1</span>' in html
    assert "GET /api/v1/recommendations/alice?placement=home&amp;n=4&amp;diversity=0.0" in html


def test_an_unknown_id_is_tried_as_an_anonymous_visitor(shop):
    response = signed_in("analyst").get(f"{HOME}try/", {"customer": "device-123", "n": "3"})

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        'For anonymous visitor <span class="font-monospace" data-testid="try-visitor">device-123'
        in html
    )
    assert len(response.context["answer"].items) == 3
    assert 'data-testid="history-empty"' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"customer": ""}, "customer", "This field is required."),
        ({"customer": "alice", "n": "0"}, "n", "Ensure this value is greater than or equal to 1."),
        ({"customer": "alice", "diversity": "2"}, "diversity", "Ensure this value is less than"),
        ({"customer": "alice", "category": "nope"}, "category", "Select a valid choice."),
    ],
)
def test_try_shows_bad_input_under_its_field(shop, query, field, message):
    response = signed_in("analyst").get(f"{HOME}try/", query)

    assert response.status_code == 400
    error = re.search(rf'data-testid="error-{field}">([^<]+)<', response.content.decode())
    assert error and error.group(1).startswith(message)
    assert ServedRecommendation.objects.count() == 0


def test_try_filters_by_category(shop):
    response = signed_in("analyst").get(f"{HOME}try/", {"customer": "alice", "category": "hats"})

    assert {item.category for item in response.context["answer"].items} == {"apparel/hats"}


def test_the_customer_search_finds_by_name_email_or_id(shop):
    CustomerFactory(external_id="bob-7", first_name="Bob", email="bob@x.io")
    client = signed_in("analyst")

    by_name = client.get(f"{HOME}customers/search/", {"customer": "alic"}).content.decode()
    by_email = client.get(f"{HOME}customers/search/", {"q": "bob@"}).content.decode()
    none = client.get(f"{HOME}customers/search/", {"q": "zzz"}).content.decode()
    short = client.get(f"{HOME}customers/search/", {"q": "a"}).content.decode()

    assert re.findall(r'data-reco-pick="([^"]+)"', by_name) == ["alice"]
    assert re.findall(r'data-reco-pick="([^"]+)"', by_email) == ["bob-7"]
    assert "No customer matches “zzz”" in none
    assert short.strip() == ""


# --- the profile preview -------------------------------------------------------------------------


def test_the_customer_preview_shows_the_top_five_with_reasons(shop):
    shop_data, version = shop
    EventFactory(
        customer=CustomerFactory._meta.model.objects.get(external_id="alice"),
        event_type=EventType.PRODUCT_VIEW, product=shop_data.products["HAT-1"],
    )  # fmt: skip

    response = signed_in("analyst").get(f"{HOME}customers/alice/preview/")

    html = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r'data-testid="preview-item"', html)) == 5
    assert "Because you viewed Hat 1" in html
    assert f"model v{version.version}" in html
    assert f'href="{HOME}try/?customer=alice"' in html
    assert "<html" not in html  # a fragment


def test_the_preview_of_an_unknown_customer_is_a_404(shop):
    assert signed_in("analyst").get(f"{HOME}customers/nobody/preview/").status_code == 404

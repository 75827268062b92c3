"""The CLV page: empty state, parameters, charts' data, independence check, top customers,
Refit and Store for the roles that may use them."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.ml.models import TrainingRun
from apps.segments.ml_clv import register_kinds
from apps.segments.models import CustomerScores
from apps.segments.services.clv import clv_fit_start
from apps.segments.tests.test_clv_services import shop_frame, shop_load

PAGE = "/segments/clv/"


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    return client


def _json_script(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, element_id
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_without_a_model_the_page_says_how_to_fit_one():
    response = signed_in("marketer").get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "No lifetime value model yet" in html
    assert "python manage.py clv fit" in html
    assert 'data-testid="clv-refit"' in html
    assert 'data-testid="segments-tabs"' in html


@pytest.mark.django_db
def test_analysts_see_the_empty_state_without_the_refit_button():
    html = signed_in("analyst").get(PAGE).content.decode()

    assert "No lifetime value model yet" in html
    assert 'data-testid="clv-refit"' not in html


@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_fit_its_diagnostics_and_the_top_customers():
    # given a fitted shop
    shop_load(shop_frame(customers=300, seed=71))
    run = clv_fit_start(trigger="cli")

    # when the page is shown
    response = signed_in("analyst").get(PAGE)

    # then it shows the parameters, the holdout chart data, the check and the leaders
    html = response.content.decode()
    metrics = run.metrics
    assert response.status_code == 200
    assert 'data-testid="clv-parameters"' in html
    assert f"{metrics['bgnbd_r']:.4g}" in html
    assert f"{metrics['gamma_gamma_q']:.4g}" in html
    holdout = _json_script(html, "clv-holdout-data")
    assert holdout["labels"] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert holdout["customers"] == [bucket["customers"] for bucket in metrics["holdout_buckets"]]
    assert holdout["actual"] == [round(b["actual"], 4) for b in metrics["holdout_buckets"]]
    distribution = _json_script(html, "clv-distribution-data")
    assert sum(distribution["values"]) == 300
    assert f"{metrics['frequency_spend_correlation']:.3f}" in html
    top = (
        CustomerScores.objects.select_related("customer")
        .order_by("-clv_12m", "customer_id")
        .first()
    )
    assert html.index(top.customer.external_id) < html.index("</table>", html.index("clv-top"))
    assert 'data-testid="clv-stale"' not in html
    assert 'data-testid="clv-refit"' not in html  # analysts only read


@pytest.mark.django_db(transaction=True)
def test_refit_starts_the_job_and_stores_predictions():
    shop_load(shop_frame(customers=150, seed=73))
    client = signed_in("marketer")

    response = client.post(f"{PAGE}refit", follow=True)

    run = TrainingRun.objects.get()
    assert (run.kind, run.status, run.trigger) == ("segments.clv", "succeeded", "ui")
    assert "Refitted: v1 predicts every buyer." in response.content.decode()
    assert CustomerScores.objects.filter(clv_model_version__version=1).count() == 150


@pytest.mark.django_db
def test_analysts_may_not_refit_or_store():
    client = signed_in("analyst")

    assert client.post(f"{PAGE}refit").status_code == 403
    assert client.post(f"{PAGE}store").status_code == 403
    assert TrainingRun.objects.count() == 0


@pytest.mark.usefixtures("activation_hooks_lost")
@pytest.mark.django_db
def test_a_fit_not_stored_yet_offers_to_store_it(django_capture_on_commit_callbacks):
    shop_load(shop_frame(customers=120, seed=79))
    with django_capture_on_commit_callbacks(execute=True):
        clv_fit_start(trigger="ui")
    client = signed_in("marketer")

    html = client.get(PAGE).content.decode()
    assert 'data-testid="clv-stale"' in html

    response = client.post(f"{PAGE}store", follow=True)
    assert "Stored v1 predictions for 120 customers." in response.content.decode()
    assert 'data-testid="clv-stale"' not in response.content.decode()


@pytest.mark.django_db
def test_the_status_partial_asks_for_a_reload_once_the_run_ended():
    client = signed_in("analyst")

    response = client.get(f"{PAGE}status?polling=1")

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"

"""The CLV page: empty state, parameters, charts' data, independence check, top customers,
Refit and Store for the roles that may use them."""

from __future__ import annotations

import json
import re
from decimal import Decimal

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


@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_discounted_value_and_log_spaced_bands():
    # given a fitted shop of 100 buyers whose predicted values are 10, 20 ... 1,000
    shop_load(shop_frame(customers=100, seed=83))
    clv_fit_start(trigger="cli")
    for rank, customer_id in enumerate(
        CustomerScores.objects.order_by("customer_id").values_list("customer_id", flat=True)
    ):
        CustomerScores.objects.filter(customer_id=customer_id).update(
            clv_12m=Decimal(10 * (rank + 1)), clv_discounted=Decimal(rank + 1)
        )

    # when the page is shown
    html = signed_in("analyst").get(PAGE).content.decode()

    # then the discounted value is summed (1 + ... + 100) and shown per top customer
    kpi = html[html.index('data-testid="kpi-clv-discounted"') :]
    assert re.search(r'<div class="kpi-value">(.*?)</div>', kpi).group(1) == "5,050"
    assert re.findall(r'data-testid="clv-top-discounted">(.*?)</td>', html)[:3] == [
        "100.00", "99.00", "98.00",
    ]  # fmt: skip
    # and the bands follow 0, then 1-2-5 steps from below the 5th percentile (60: 50) to the
    # 99th (1,000); the last band also holds the tail
    distribution = _json_script(html, "clv-distribution-data")
    assert distribution == {
        "labels": ["0–50", "50–100", "100–200", "200–500", "500+"],
        "values": [4, 5, 10, 30, 51],
    }


@pytest.mark.django_db
def test_the_refit_form_shows_the_defaults_before_any_fit():
    html = signed_in("marketer").get(PAGE).content.decode()

    start = html.index('data-testid="clv-refit-form"')
    form = html[start : html.index("</form>", start)]
    assert re.search(r'name="holdout_days" value="(\d+)"', form).group(1) == "90"
    assert re.search(r'name="monthly_discount_rate" value="([\d.]+)"', form).group(1) == "0.01"


@pytest.mark.django_db
def test_refit_passes_the_holdout_and_the_discount_rate_to_the_run():
    response = signed_in("marketer").post(
        f"{PAGE}refit", {"holdout_days": "60", "monthly_discount_rate": "0.02"}
    )

    run = TrainingRun.objects.get()
    assert response.status_code == 302
    assert (run.params["holdout_days"], run.params["monthly_discount_rate"]) == (60, 0.02)
    assert (run.params["time_unit"], run.params["months"]) == ("D", 12)


@pytest.mark.django_db
def test_refit_with_blank_fields_keeps_the_defaults():
    signed_in("marketer").post(f"{PAGE}refit", {"holdout_days": "", "monthly_discount_rate": ""})

    run = TrainingRun.objects.get()
    assert (run.params["holdout_days"], run.params["monthly_discount_rate"]) == (90, 0.01)


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        (
            {"holdout_days": "800"},
            "holdout_days",
            "Ensure this value is less than or equal to 730.",
        ),
        (
            {"holdout_days": "-1"},
            "holdout_days",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"holdout_days": "7.5"}, "holdout_days", "Enter a whole number."),
        (
            {"monthly_discount_rate": "1.5"},
            "monthly_discount_rate",
            "Ensure this value is less than or equal to 1.",
        ),
        ({"monthly_discount_rate": "abc"}, "monthly_discount_rate", "Enter a number."),
    ],
)
@pytest.mark.django_db
def test_an_out_of_range_refit_field_is_shown_under_it_and_starts_nothing(posted, field, message):
    response = signed_in("marketer").post(f"{PAGE}refit", posted)

    html = response.content.decode()
    assert response.status_code == 400
    assert response.context["refit_form"].errors == {field: [message]}
    assert (
        f'<div class="invalid-feedback d-block" data-testid="clv-{field}-error">{message}</div>'
        in html
    )
    assert re.search(rf'class="form-control is-invalid" id="id_{field}" name="{field}"', html)
    assert TrainingRun.objects.count() == 0

"""`manage.py rfm compute|clusters|apply`: one JSON document on stdout, one-line failures.

Transactional tests: the command starts runs through the ML platform, which executes them
(eager Celery) once the run row commits, as it does without a broker.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.customers.tests.factories import CustomerFactory
from apps.events.tests.factories import OrderFactory
from apps.segments.ml_rfm import register_kinds
from apps.segments.models import CustomerScores

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


def buyers(count: int) -> None:
    now = timezone.now()
    for index in range(count):
        customer = CustomerFactory(external_id=f"buyer-{index:03d}")
        for order in range(1 + index % 4):
            OrderFactory(
                customer=customer,
                placed_at=now - timedelta(days=3 + 17 * order + index),
                total=Decimal(20 + 7 * index),
                subtotal=Decimal(20 + 7 * index),
            )


def run(*args: str) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("rfm", *args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_compute_prints_counts_as_json():
    buyers(10)
    CustomerFactory(external_id="prospect")

    document, progress = run("compute")

    assert (document["customers"], document["buyers"], document["prospects"]) == (11, 10, 1)
    assert sum(document["cells"].values()) == 10
    assert sum(document["stages"].values()) == 11
    assert len(document["grid"]) == 5
    assert "succeeded" in progress
    assert CustomerScores.objects.count() == 11


def test_clusters_fits_applies_and_prints_profiles():
    buyers(60)

    document, _ = run("clusters", "--k-min", "2", "--k-max", "3", "--algorithm", "kmeans")

    assert document["model_version"] == 1
    assert document["algorithm"] == "kmeans" and document["k"] in (2, 3)
    assert [row["k"] for row in document["selection"]] == [2, 3]
    assert sum(profile["size"] for profile in document["profiles"]) == 60
    assert CustomerScores.objects.exclude(cluster=None).count() == 60

    applied, _ = run("apply")
    assert (applied["model_version"], applied["assigned"], applied["cleared"]) == (1, 60, 0)


def test_failures_exit_with_one_line():
    with pytest.raises(CommandError, match="needs customers; found none"):
        run("compute")
    with pytest.raises(CommandError, match="k_max \\(2\\) must be at least k_min \\(4\\)"):
        run("clusters", "--k-min", "4", "--k-max", "2")
    with pytest.raises(CommandError, match="No clusters yet"):
        run("apply")

"""The recommender trained on the demo shop beats popularity by a clear margin on a hold-out.

The synthetic demo shop (`manage.py demo_data`) is generated into the test database and read
back exactly as training reads it (purchases, carts, views, with their weights); its newest
interactions (a global time cut, as in production: the past predicts the future) are held
out. The engine tunes every algorithm on a validation slice of the older part only, picks the
champion by validation NDCG@10 and is then measured once on the hold-out.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command

from apps.recommendations.engine.split import split_leaks, temporal_split
from apps.recommendations.engine.train import evaluate_algorithms
from apps.recommendations.services.data import (
    interaction_log_load,
    item_features_load,
    user_features_load,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# A "clear margin": the champion's hold-out NDCG@10 at least this many times popularity's.
CLEAR_MARGIN = 1.2


def test_the_champion_beats_popularity_on_the_demo_shops_hold_out(tmp_path):
    call_command(
        "demo_data",
        customers=1200,
        seed=5,
        end_date="2026-11-01",
        truth_file=str(tmp_path / "truth.json"),
        stderr=io.StringIO(),
    )
    log = interaction_log_load().log
    split = temporal_split(log, fraction=0.1, mode="global")
    assert split_leaks(split) == []
    assert split.train.timestamps.max() <= split.cut <= split.test.timestamps.min()

    report = evaluate_algorithms(
        split.train,
        split.test,
        items=item_features_load(),
        users=user_features_load(np.unique(split.train.user_ids)),
        k=10,
        time_budget_s=40,
        seed=0,
        split_mode="global",
    )

    algorithms = report["algorithms"]
    champion = report["best"]
    popularity = algorithms["popularity"]["ndcg@10"]
    print({name: round(entry["ndcg@10"], 4) for name, entry in algorithms.items()}, champion)
    assert report["split"]["test_users"] >= 100
    assert champion != "popularity"
    assert algorithms[champion]["ndcg@10"] >= CLEAR_MARGIN * popularity > 0
    assert algorithms[champion]["hit_rate@10"] > algorithms["popularity"]["hit_rate@10"]

